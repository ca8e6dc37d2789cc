"""Inbound bursts on each platform's HTTP endpoint: 250 concurrent events (200 distinct + 50 duplicates)
answered through the inbound journal — all acknowledged, 200 stored, ack p50/p99 — and the ack p99 at
200 concurrent (median of the rounds).

    .venv/bin/python -m bench.inbound_burst [--distinct 200] [--duplicates 50] [--rounds 2]

Targets: 250 acknowledged, 200 stored, ack p99 ≤ 3 s. The path is the runtime's own HTTP app (`compose`:
Starlette on uvicorn, listen backlog 2048). (The pre-journal path it used to be compared with — Bolt's
listeners queueing on a thread pool, `FeishuEvents` on a runner of its own — is gone: the journal is the
one inbound path; `bench/slack_ack.py` compares the Slack ack path with a bare Bolt app.)
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.applications import Starlette

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.feishu.api import Limits, OpenApi  # noqa: E402
from bot.adapters.slack.limits import Pacer  # noqa: E402
from bot.domain.team import Team  # noqa: E402
from bot.runtime.composition import HttpThread, Overrides, Runtime, bind, compose  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from bot.runtime.team_file import load_team  # noqa: E402
from bot.services.bot import Bot  # noqa: E402
from storage.models import AnswerMessageRow  # noqa: E402
from tests.feishu import payloads  # noqa: E402
from tests.feishu.openapi import OpenApiStandIn  # noqa: E402

SECRET = "burst-secret"
TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"


def serve(app: Starlette) -> tuple[str, HttpThread]:
    """uvicorn on a loopback port with the runtime's listen backlog (`composition.bind`: 2048)."""
    sock = bind(0, "127.0.0.1")
    return f"http://127.0.0.1:{sock.getsockname()[1]}", HttpThread(app, sock)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, float]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return resp.status == 200, time.perf_counter() - start
    except (urllib.error.URLError, OSError):
        return False, time.perf_counter() - start


def burst(send: Callable[[int], tuple[bool, float]], indexes: list[int]) -> tuple[int, list[float]]:
    gate = threading.Barrier(len(indexes))

    def one(n: int) -> tuple[bool, float]:
        gate.wait()
        return send(n)

    with ThreadPoolExecutor(max_workers=len(indexes)) as pool:
        results = list(pool.map(one, indexes))
    return sum(ok for ok, _ in results), sorted(t for _, t in results)


def pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def stored(bot: Bot) -> int:
    with bot.ctx.db() as s:
        return int(s.scalar(select(func.count(AnswerMessageRow.id))) or 0)


def wait_for(cond: Callable[[], bool], timeout: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


# ----- Slack -------------------------------------------------------------------------------------------------


def slack_events(team: Team, count: int) -> list[bytes]:
    owners = team.owners()
    base = int(time.time())
    out = []
    for n in range(count):
        person = owners[n % len(owners)]
        ts = f"{base}.{n:06d}"
        event = {"type": "message", "channel": "D" + person.upper(), "channel_type": "im",
                 "user": "U" + person.upper(), "text": f"进展 {n}", "ts": ts, "event_ts": ts}
        out.append(json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                               "event_id": f"Ev{n:06d}", "event": event, "event_time": base}).encode())
    return out


def slack_send(url: str, body: bytes) -> tuple[bool, float]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return post(url, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                            "X-Slack-Signature": sig})


def slack_runtime(team: Team, api: str, db: str, spool: Path) -> Runtime:
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-bench"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr(SECRET), slack_api_url=api, database_url=db, spool_dir=spool)
    return compose(settings, team, clock=lambda: datetime.now(team.zone),
                   overrides=Overrides(pacer=Pacer(scale=1000)))


def fresh_slack(team: Team, distinct: int, r: int) -> list[bytes]:
    return [b.replace(b'"Ev', f'"R{r}Ev'.encode()).replace(b'.0', f'.{r + 1}'.encode(), 1)
            for b in slack_events(team, distinct)]


def slack(team: Team, api: str, tmp: Path, distinct: int, duplicates: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    runtime = slack_runtime(team, api, f"sqlite:///{tmp}/slack-journal.db", tmp / "spool-s")
    bot = runtime.bot
    assert bot.journal is not None
    bot.journal.start(poll=0.1)
    url, server = serve(runtime.http)
    url += "/slack/events"
    events = slack_events(team, distinct)
    order = list(range(distinct)) + list(range(duplicates))
    acked, times = burst(lambda i: slack_send(url, events[order[i]]), list(range(len(order))))
    wait_for(lambda: stored(bot) >= distinct and bot.journal is not None and bot.journal.pending() == 0)
    results["burst"] = (acked, len(order), stored(bot), times)
    journal_p99: list[float] = []
    for r in range(rounds):  # 200 concurrent, fresh events each round
        fresh = fresh_slack(team, distinct, r)
        _, t = burst(lambda i, fresh=fresh: slack_send(url, fresh[i]), list(range(distinct)))
        journal_p99.append(pct(t, 99))
        bot.journal.wait_idle(600)
    server.stop()
    runtime.stop()
    results["p99"] = statistics.median(journal_p99)
    return results


# ----- Feishu ------------------------------------------------------------------------------------------------


def feishu_events(team: Team, count: int, tag: str, at: datetime) -> list[dict[str, Any]]:
    owners = team.owners()
    return [payloads.message(f"ou_{owners[n % len(owners)]}", f"进展 {n}", at, message_id=f"om_{tag}_{n}",
                             event_id=f"{tag}-{n}") for n in range(count)]


def feishu_send(url: str, payload: dict[str, Any]) -> tuple[bool, float]:
    body = payloads.seal(payload)
    headers = payloads.sign(body, str(int(time.time())), uuid.uuid4().hex)
    return post(url + "/feishu/events", body, {"Content-Type": "application/json", **headers})


def feishu_runtime(team: Team, standin: OpenApiStandIn, db: str, spool: Path) -> Runtime:
    settings = Settings(_env_file=None, feishu_app_id=payloads.APP_ID,  # type: ignore[call-arg]
                        feishu_app_secret=SecretStr("secret"), feishu_event_mode="http",
                        feishu_verification_token=SecretStr(payloads.TOKEN),
                        feishu_encrypt_key=SecretStr(payloads.ENCRYPT_KEY), feishu_domain=standin.url,
                        database_url=db, spool_dir=spool)
    api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(10_000, 10_000, 600_000))
    return compose(settings, team, clock=lambda: datetime.now(team.zone),
                   overrides=Overrides(feishu_api=api, feishu_bot_open_id=standin.bot_open_id))


def feishu(team: Team, standin: OpenApiStandIn, tmp: Path, distinct: int, duplicates: int,
           rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    runtime = feishu_runtime(team, standin, f"sqlite:///{tmp}/feishu-journal.db", tmp / "spool-fj")
    bot = runtime.bot
    assert bot.journal is not None
    bot.journal.start(poll=0.1)
    url, server = serve(runtime.http)
    now = datetime.now(team.zone)
    evs = feishu_events(team, distinct, "b", now)
    order = list(range(distinct)) + list(range(duplicates))
    acked, times = burst(lambda i: feishu_send(url, evs[order[i]]), list(range(len(order))))
    wait_for(lambda: stored(bot) >= distinct and bot.journal is not None and bot.journal.pending() == 0)
    results["burst"] = (acked, len(order), stored(bot), times)
    journal_p99 = []
    for r in range(rounds):
        fresh = feishu_events(team, distinct, f"j{r}", now)
        _, t = burst(lambda i, fresh=fresh: feishu_send(url, fresh[i]), list(range(distinct)))
        journal_p99.append(pct(t, 99))
        bot.journal.wait_idle(600)
    server.stop()
    runtime.stop()
    results["p99"] = statistics.median(journal_p99)
    return results


def report(name: str, r: dict[str, Any], distinct: int) -> bool:
    acked, sent, kept, times = r["burst"]
    j99 = r["p99"]
    print(f"{name:6} burst: {acked}/{sent} acknowledged, {kept} stored (want {sent}/{sent}, {distinct}); "
          f"ack p50 {statistics.median(times) * 1000:.0f} ms, p99 {pct(times, 99) * 1000:.0f} ms")
    print(f"{name:6} {distinct} concurrent: ack p99 {j99 * 1000:.0f} ms (target ≤ 3000 ms)")
    return acked == sent and kept == distinct and pct(times, 99) <= 3.0 and j99 <= 3.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--distinct", type=int, default=200)
    ap.add_argument("--duplicates", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--platform", choices=["slack", "feishu", "both"], default="both")
    args = ap.parse_args()
    team = load_team(TEAM)
    data = team.model_dump()  # people named by Slack id: the stand-in in its own process has no emails
    team = Team.model_validate({**data, "people": [{**p, "slack": "U" + p["id"].upper()} for p in data["people"]]})
    ok = True
    with tempfile.TemporaryDirectory() as d:
        if args.platform in ("slack", "both"):
            proc = subprocess.Popen([sys.executable, "-m", "tests.slack.stand_in"], stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            api = proc.stdout.readline().strip() + "/api/"
            try:
                ok &= report("slack", slack(team, api, Path(d), args.distinct, args.duplicates, args.rounds),
                             args.distinct)
            finally:
                proc.terminate()
        if args.platform in ("feishu", "both"):
            standin = OpenApiStandIn(directory={p.email: f"ou_{p.id}" for p in team.people if p.email}).start()
            try:
                ok &= report("feishu", feishu(team, standin, Path(d), args.distinct, args.duplicates, args.rounds),
                             args.distinct)
            finally:
                standin.stop()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
