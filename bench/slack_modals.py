"""Answer clicks in a burst: does every `views.open` reach Slack within its trigger's 3 seconds?

Twenty owners click the prompt's Answer button in the same second. The bot runs as `zhoubao run` composes
it (the real Bolt app over HTTP, the production pacer, unscaled), against the loopback Slack stand-in
answering every Web API call after `--latency` seconds and refusing a `trigger_id` older than 3 s with
`expired_trigger_id` (docs/platform-limits.md). Each owner is new to the bot, so who they are needs a
users.info lookup (paced at Slack's Tier 4); the form must not wait for it (issue 9 item 3).

    .venv/bin/python -m bench.slack_modals [--clicks 20] [--latency 0.15]

Prints, per click, the time from the click to `views.open` arriving at Slack, as p50 and max. Target:
every open within 1.5 s of its click, and no expired trigger.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.adapters.slack.limits import Pacer
from bot.runtime.composition import Overrides
from bot.runtime.team_file import parse_team
from tests.fakes import FixedClock
from tests.slack.conftest import make_workspace, user_id
from tests.slack.stand_in import TRIGGER_TTL, SlackStandIn

TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"


def team_of(owners: int):  # type: ignore[no-untyped-def]
    """The example team plus `owners` people, each owning one OKR item (known to Slack by email only)."""
    people = "".join(f"  - id: owner{n:02d}\n    name: 负责人{n:02d}\n    email: owner{n:02d}@example.com\n"
                     for n in range(owners))
    items = "".join(f"      - {{name: 事项{n:02d}, owner: owner{n:02d}}}\n" for n in range(owners))
    source = TEAM.read_text(encoding="utf-8").replace("\neditors:", "\n" + people + "\neditors:", 1).replace(
        "\nmetrics:", f"  - id: O9\n    name: 专项\n    items:\n{items}\nmetrics:", 1)
    return parse_team(source, TEAM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds every Web API call takes")
    args = parser.parse_args()
    team = team_of(args.clicks)
    stand_in = SlackStandIn(users={p.email: user_id(p.id) for p in team.people if p.email},
                            delay=args.latency, trigger_ttl=TRIGGER_TTL).start()
    clock = FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with tempfile.TemporaryDirectory() as tmp:
        ws, http = make_workspace(team, stand_in, f"sqlite:///{tmp}/bench.db", clock, Path(tmp) / "spool",
                                  overrides=Overrides(pacer=Pacer()))
        try:
            owners = [f"owner{n:02d}" for n in range(args.clicks)]
            clicked: dict[str, float] = {}

            def click(person: str, n: int) -> None:
                trigger = f"bench-trigger-{n}"
                clicked[trigger] = time.monotonic()
                status = ws.interactive({
                    "type": "block_actions", "user": {"id": user_id(person)}, "team": {"id": "T1"},
                    "trigger_id": trigger, "container": {"type": "message"},
                    "actions": [{"type": "button", "action_id": "zhoubao_answer", "block_id": "zhoubao_prompt",
                                 "value": "2024-W26", "action_ts": "1"}]})
                assert status == 200, status

            threads = [threading.Thread(target=click, args=(p, n)) for n, p in enumerate(owners)]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ws.settle()
            opens = {str(c.args["trigger_id"]): c.at for c in stand_in.of("views.open")}
            waits = [opens[t] - clicked[t] for t in clicked if t in opens]
            forms = sum(1 for v in stand_in.views.values() if v.get("callback_id") == "zhoubao_answer_form")
            expired = [p for p in stand_in.problems if "trigger" in p]
            print(json.dumps({"clicks": args.clicks, "latency_s": args.latency,
                              "burst_sent_within_s": round(max(clicked.values()) - start, 3),
                              "views_open": len(opens), "answer_forms_shown": forms,
                              "click_to_views_open_p50_s": round(statistics.median(waits), 3),
                              "click_to_views_open_max_s": round(max(waits), 3),
                              "users_info_calls": len(stand_in.of("users.info")),
                              "expired_triggers": len(expired)}, indent=2))
            ok = len(opens) == args.clicks and max(waits) <= 1.5 and not expired and forms == args.clicks
            print("target met: every views.open within 1.5 s, no expired trigger" if ok else "TARGET MISSED")
            if not ok:
                sys.exit(1)
        finally:
            http.stop()
            ws.runtime.stop()
            stand_in.stop()


if __name__ == "__main__":
    main()
