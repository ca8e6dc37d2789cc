"""The bot process of `bench/week.py`: `zhoubao run` on Slack or Feishu over HTTP, its clock driven by the bench.

    python bench/week_proc.py --db URL --platform slack --api http://127.0.0.1:PORT/api/ --owners 1000 --scale 30
    python bench/week_proc.py --db URL --platform feishu --api http://127.0.0.1:PORT --owners 1000 --scale 30

Built by the composition root exactly as `zhoubao run` builds it: on Slack, the gateway against the given
Web API paced by `Pacer(scale)`, `SlackIntake` behind the runtime's Starlette app on uvicorn, the journal's
worker running the Bolt listeners; on Feishu, the gateway over lark-oapi against the given Open API paced by
Feishu's `Limits` × scale, the HTTP callback (`FEISHU_EVENT_MODE=http`, signed and encrypted) behind the same
app, the journal's worker running `FeishuEvents`. Only the scheduler is not started: the bench says when the weekly jobs run
and what time it is, so a week takes minutes and every run is the same week. Commands, one JSON object
a line on stdin, each answered by one JSON line on stdout:

    {"cmd": "at", "iso": "2024-06-27T10:00:00+08:00"}   the clock reads this from now on
    {"cmd": "prompt"} / {"cmd": "remind"} / {"cmd": "publish"}   the scheduled job, run now
    {"cmd": "idle"}                                      until every acknowledged request is processed
                                                         and its answers sent
    {"cmd": "compiled"}                                  the week's report compiled now, as the platform shows it

The first line on stdout is `{"port": N}` once it serves.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr  # noqa: E402

from bot.domain.team import Team  # noqa: E402
from bot.runtime.composition import FeishuParts, Overrides, Runtime, SlackParts, bind, compose, settle_heap  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402

SECRET = "week-secret"  # Slack's signing secret
ZONE = "Asia/Shanghai"
# Feishu's app credentials and event keys (the bench seals and signs its requests with these)
FEISHU_APP = "cli_week"
FEISHU_TOKEN = "week-verification-token"
FEISHU_KEY = "week-encrypt-key"
FEISHU_BOT = "ou_bot"


def user_id(n: int) -> str:
    return f"U{n:05d}"


def open_id(n: int) -> str:
    return f"ou_{n:05d}"


def week_team(owners: int, items: int) -> Team:
    """`owners` people with `items` items each, in OKRs of 100 items; person 1 is also the editor."""
    people = [{"id": f"p{n:04d}", "name": f"成员{n:04d}", "slack": user_id(n), "feishu": open_id(n)}
              for n in range(1, owners + 1)]
    all_items = [{"name": f"事项{n:04d}-{k}", "owner": f"p{n:04d}"} for n in range(1, owners + 1)
                 for k in range(1, items + 1)]
    okrs = [{"id": f"O{i + 1}", "name": f"目标{i + 1}", "items": all_items[i * 100:(i + 1) * 100]}
            for i in range((len(all_items) + 99) // 100)]
    return Team.model_validate({"team": {"name": f"week-{owners}", "timezone": ZONE},
                                "people": people, "editors": [people[0]["id"]], "okrs": okrs})


class SetClock:
    """The bench's clock: reads what it was last set to."""

    def __init__(self, at: datetime) -> None:
        self._at = at
        self._lock = threading.Lock()

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at

    def __call__(self) -> datetime:
        with self._lock:
            return self._at


def slack_runtime(args: argparse.Namespace, team: Team, clock: SetClock) -> Runtime:
    from bot.adapters.slack.limits import Pacer

    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-week"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr(SECRET), slack_api_url=args.api,
                        database_url=args.db, spool_dir=Path(args.spool))
    return compose(settings, team, clock=clock, overrides=Overrides(pacer=Pacer(scale=args.scale)))


def feishu_runtime(args: argparse.Namespace, team: Team, clock: SetClock) -> Runtime:
    from bot.adapters.feishu.api import Limits, OpenApi

    settings = Settings(_env_file=None, feishu_app_id=FEISHU_APP, feishu_app_secret=SecretStr("week-secret"),  # type: ignore[call-arg]
                        feishu_domain=args.api, feishu_event_mode="http",
                        feishu_verification_token=SecretStr(FEISHU_TOKEN), feishu_encrypt_key=SecretStr(FEISHU_KEY),
                        database_url=args.db, spool_dir=Path(args.spool))
    # Feishu's limits × scale (the client paces under them, as the stand-in enforces them).
    api = OpenApi(FEISHU_APP, "week-secret", domain=args.api, limits=Limits().scaled(args.scale))
    return compose(settings, team, clock=clock, overrides=Overrides(feishu_api=api, feishu_bot_open_id=FEISHU_BOT))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--platform", choices=["slack", "feishu"], default="slack")
    p.add_argument("--api", required=True, help="the platform's API (the stand-in)")
    p.add_argument("--owners", type=int, default=1000)
    p.add_argument("--items", type=int, default=3)
    p.add_argument("--scale", type=float, default=30.0)
    p.add_argument("--spool", default="./data/spool")
    p.add_argument("--at", required=True, help="the clock's first reading (ISO with offset)")
    args = p.parse_args()

    team = week_team(args.owners, args.items)
    clock = SetClock(datetime.fromisoformat(args.at))
    runtime = (feishu_runtime if args.platform == "feishu" else slack_runtime)(args, team, clock)
    parts, bot = runtime.platform, runtime.bot
    assert isinstance(parts, SlackParts | FeishuParts)
    assert bot.journal is not None
    # What `Runtime.start` does, but the scheduler: the bench runs the jobs.
    settle_heap()
    bot.journal.start()
    sock = bind(0, "127.0.0.1")
    runtime.serve_alongside(sock)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)

    def idle() -> bool:
        assert bot.journal is not None and parts.gateway.outbox is not None
        # The journal stores; late answers' report edits follow on their own lane (coalesced, paced), and
        # every reply and edit leaves through the outbox.
        modals = parts.modals.wait_idle(3600) if isinstance(parts, SlackParts) else True
        return (bot.journal.wait_idle(3600) and modals and bot.cycle.edits.wait_idle(3600)
                and parts.gateway.outbox.wait_idle(3600))

    for line in sys.stdin:
        cmd: dict[str, Any] = json.loads(line)
        out: dict[str, Any] = {"ok": True}
        if cmd["cmd"] == "at":
            clock.set(datetime.fromisoformat(cmd["iso"]))
        elif cmd["cmd"] == "prompt":
            out["sent"] = bot.cycle.send_prompts("prompt")
        elif cmd["cmd"] == "remind":
            out["sent"] = bot.cycle.remind(1)
        elif cmd["cmd"] == "publish":
            result = bot.cycle.publish_on_schedule()
            out["parts"] = len(result.refs) if result else 0
        elif cmd["cmd"] == "idle":
            out["ok"] = idle()
        elif cmd["cmd"] == "compiled":
            week = bot.ctx.week_of(clock())
            published = bot.week_report.is_published(week)
            from storage.db import transaction
            from storage.reports import Reports

            with transaction(bot.ctx.db) as s:
                row = Reports(s).by_label(bot.ctx.team_id, week.label)
                at = row.published_at if row is not None and row.published_at else clock()
            rendered = bot.week_report.render(bot.week_report.compile(week, at))
            out["slack"], out["feishu"] = rendered.slack, rendered.feishu
            out["published"] = published
        print(json.dumps(out, ensure_ascii=False), flush=True)
    runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
