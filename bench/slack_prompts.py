"""Prompting 1,000 owners on Slack against a stand-in that enforces Slack's rate limits (scaled).

    .venv/bin/python -m bench.slack_prompts [--owners 1000] [--scale 100]

The owners are known by email. Checks: each owner gets exactly one prompt; nothing is rate-limited away;
the total is within 1.2× the least the limits allow (users.lookupByEmail, Tier 3, 50/min, once per
person; the prompt is posted to the user id, so conversations.open is never called); and after a restart
a second week looks nobody up, since the user ids are stored.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.adapters.slack.limits import TIER_PER_MINUTE, Pacer
from bot.domain.team import Team
from bot.runtime.composition import Overrides, compose
from bot.runtime.settings import Settings


def make_team(owners: int) -> Team:
    people = [{"id": f"p{n}", "name": f"Person {n}", "email": f"p{n}@example.com"} for n in range(owners)]
    items = [{"name": f"item {n}", "owner": f"p{n}"} for n in range(1, owners)]
    return Team.model_validate({"team": {"name": "bench", "locale": "en"}, "people": people, "editors": ["p0"],
                                "okrs": [{"id": "O1", "name": "Everything", "items": items}]})


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_stats", timeout=10) as resp:
        return json.loads(resp.read())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--owners", type=int, default=1000)
    ap.add_argument("--scale", type=float, default=100.0)
    args = ap.parse_args()
    limits = {m: n * args.scale for m, n in TIER_PER_MINUTE.items()}
    users = {f"p{n}@example.com": f"U{n:06d}" for n in range(args.owners)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.slack.stand_in", json.dumps(limits), json.dumps(users)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    try:
        team = make_team(args.owners)
        at = datetime(2024, 6, 27, 10, 0, tzinfo=ZoneInfo("UTC"))
        tmp = tempfile.mkdtemp()
        settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-bench"),  # type: ignore[call-arg]
                            slack_signing_secret=SecretStr("s"), slack_api_url=url + "/api/",
                            database_url=f"sqlite:///{tmp}/prompts.db", spool_dir=f"{tmp}/spool")
        runtime = compose(settings, team, clock=lambda: at, overrides=Overrides(pacer=Pacer(scale=args.scale)))
        owners = len(team.owners())
        least = (owners - 1) * 60.0 / limits["users.lookupByEmail"]
        start = time.perf_counter()
        sent = runtime.bot.cycle.send_prompts("prompt", at)
        took = time.perf_counter() - start
        runtime.stop()
        first = stats(url)
        later = at + timedelta(days=7)  # a restart: a new process on the same database
        runtime = compose(settings, team, clock=lambda: later, overrides=Overrides(pacer=Pacer(scale=args.scale)))
        start2 = time.perf_counter()
        sent2 = runtime.bot.cycle.send_prompts("prompt", later)
        took2 = time.perf_counter() - start2
        runtime.stop()
        second = stats(url)
    finally:
        proc.terminate()
    per_channel = first["posts_per_channel"]
    once = sent == owners and len(per_channel) == owners and set(per_channel.values()) == {1}
    opens = second["calls"].get("conversations.open", 0)
    lookups = first["calls"].get("users.lookupByEmail", 0)
    relooked = second["calls"].get("users.lookupByEmail", 0) - lookups
    print(f"week 1: {sent} prompts to {owners} owners in {took:.2f} s; least the limits allow {least:.2f} s "
          f"→ {took / least:.2f}× (target ≤ 1.2×)")
    print(f"        users.lookupByEmail {lookups}, rate-limited answers {first['rate_limited']}, "
          f"each owner exactly one prompt: {once}")
    print(f"week 2 after a restart: {sent2} prompts in {took2:.2f} s; users.lookupByEmail calls: {relooked} "
          f"(ids stored); conversations.open calls in both weeks: {opens}")
    if second["problems"]:
        print("stand-in problems:", second["problems"][:5])
    ok = once and took <= 1.2 * least and relooked == 0 and opens == 0 and sent2 == owners \
        and not second["problems"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
