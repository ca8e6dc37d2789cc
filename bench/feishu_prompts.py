"""Bench: prompt 1,000 owners on Feishu against the loopback Open API enforcing Feishu's limits.

The stand-in refuses more than 50 messages a second per app (429 + x-ogw-ratelimit-reset) and more
than 5 a second per chat (230020); `--scale` multiplies both. The run passes when every owner got
exactly one prompt and the whole run took at most 1.2x the least time the limits allow.

    .venv/bin/python bench/feishu_prompts.py [--owners 1000] [--scale 1] [--database-url sqlite:///...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.feishu.api import Limits, OpenApi  # noqa: E402
from bot.adapters.feishu.gateway import FeishuGateway  # noqa: E402
from bot.adapters.feishu.people import People  # noqa: E402
from bot.runtime.composition import build_bot  # noqa: E402
from bot.runtime.team_file import load_team  # noqa: E402
from tests.feishu.openapi import OpenApiStandIn  # noqa: E402

THURSDAY = datetime(2024, 6, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def team_yaml(owners: int) -> str:
    people = "\n".join(f"  - {{id: p{n:04d}, name: 成员{n:04d}, email: p{n:04d}@example.com}}" for n in range(owners))
    items = "\n".join(f"      - {{name: 事项{n:04d}, owner: p{n:04d}}}" for n in range(owners))
    return f"""team: {{name: 压测团队, locale: zh-CN, timezone: Asia/Shanghai, report_channel: oc_bench}}
people:
{people}
editors: [p0000]
admins: [p0000]
okrs:
  - id: O1
    name: 压测
    items:
{items}
schedule: {{prompt: thu 10:00, remind: [fri 10:00], publish: fri 17:00, calendar: none}}
"""


@dataclass(frozen=True)
class Outcome:
    exactly_once: bool  # every owner got exactly one prompt
    refused: int  # calls the stand-in refused for exceeding a limit
    ratio: float  # elapsed time over the least the limits allow

    @property
    def ok(self) -> bool:
        return self.exactly_once and self.ratio <= 1.2


def run(owners: int, scale: float, database_url: str | None) -> Outcome:
    limits = Limits().scaled(scale)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "team.yaml"
        path.write_text(team_yaml(owners), encoding="utf-8")
        team = load_team(path)
        standin = OpenApiStandIn(directory={p.email: f"ou_{p.id}" for p in team.people if p.email},
                                 per_app=limits.per_app, per_chat=limits.per_chat).start()
        try:
            api = OpenApi("cli_bench", "secret", domain=standin.url, limits=limits)
            gateway = FeishuGateway(api, People(api, team))
            bot = build_bot(team, gateway, lambda: THURSDAY,
                            database_url=database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
            gateway.people.resolve()  # the email lookup (20 calls) is not what is measured
            start = time.monotonic()
            sent = bot.cycle.send_prompts(at=THURSDAY)
            elapsed = time.monotonic() - start
            bot.engine.dispose()
        finally:
            standin.stop()
    per_owner = Counter(m.receive_id for m in standin.sent(msg_type="interactive"))
    exactly_once = sent == owners and len(per_owner) == owners and set(per_owner.values()) == {1}
    least = (owners - 1) / limits.per_app
    refused = sum(1 for c in standin.calls if c.status == 429 or c.code == 230020)
    outcome = Outcome(exactly_once, refused, elapsed / least)
    print(f"owners {owners}, limits {limits.per_app:g}/s per app, {limits.per_chat:g}/s per chat")
    print(f"prompts sent {sent}; owners with exactly one prompt {sum(1 for v in per_owner.values() if v == 1)}")
    print(f"elapsed {elapsed:.2f}s; least the limits allow {least:.2f}s; ratio {elapsed / least:.3f} (≤ 1.2)")
    print(f"refused by the stand-in (429 / 230020): {refused}")
    print("PASS" if outcome.ok else "FAIL")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply Feishu's limits (faster runs)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sys.exit(0 if run(args.owners, args.scale, args.database_url).ok else 1)


if __name__ == "__main__":
    main()
