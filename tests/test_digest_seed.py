"""The seed's own week (the example in /work/shared/REPORT.md, played by the console demo) with a scripted
model answer: every line passes the fact check, in zh-CN and in English, and the report keeps its shape
under the key points."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.demo import DEMO_START, DEMO_WEEK, SCRIPT
from bot.adapters.console.workspace import ConsoleSession
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.runtime.team_file import load_team
from bot.services.digest_model import OpenAIChatModel
from tests.ai.stand_in import ModelStandIn, ServedModel
from tests.conftest import EXAMPLE_TEAM

GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"
WEEK = IsoWeek.parse(DEMO_WEEK)

ZH = [
    {"text": "v2.0已于6月26日全量上线，收单v2.1方案评审完成。", "cites": ["P1.3"]},
    {"text": "招行跨行代扣方案评审通过，下周启动开发；建行联调环境申请中。", "cites": ["P1.2.2", "P1.2.1"]},
    {"text": "PCI DSS 认证整体进度 45%，下周目标推进到 70%；密钥轮换流程的留痕方案未定。", "cites": ["P2", "S.next"]},
    {"text": "本周事故C级1次、D级0.5次：gateway-api节点CPU打满，招行代扣通道 15:10 恢复。",
     "cites": ["M2.c", "I3", "I2"]},
    {"text": "机房迁移整体进度达到了80%，预计下周三完成生产验证。", "cites": ["O3.1"]},
]
EN = [
    {"text": "v2.0 went fully live on Jun 26, and the v2.1 design review is done.", "cites": ["P1.3"]},
    {"text": "招行 approved the cross-bank debit design; 建行 is applying for an integration environment.",
     "cites": ["P1.2.2", "P1.2.1"]},
    {"text": "PCI DSS is at 45%, with 70% the target for next week.", "cites": ["P2", "S.next"]},
    {"text": "Incidents: C 1, D 0.5; gateway-api CPU saturation, and the 招行 debit channel recovered at 15:10.",
     "cites": ["M2.c", "I3", "I2"]},
    {"text": "Data-center migration reached 80%, production validation due next Wednesday.", "cites": ["O3.1"]},
]


def scripted(lines: list[dict[str, Any]]) -> Any:
    return lambda body: json.dumps({"lines": lines}, ensure_ascii=False)


@pytest.mark.parametrize(("locale", "lines", "top"), [
    ("zh-CN", ZH, "## 【本周要点】\n\n1. v2.0已于6月26日全量上线，收单v2.1方案评审完成。（刘洋 · 聚合收单 · 产研）\n"),
    ("en", EN, "## Key points\n\n1. v2.0 went fully live on Jun 26, and the v2.1 design review is done. "
               "(刘洋 · 聚合收单 · 产研)\n"),
])
def test_the_seed_week_digest_passes_every_line(locale: str, lines: list[dict[str, Any]], top: str,
                                                database_url: str) -> None:
    stand_in = ModelStandIn(answer=scripted(lines))
    with ServedModel(stand_in) as served:
        model = OpenAIChatModel(served.base_url, "qwen2.5:7b", None, 30)
        team = load_team(EXAMPLE_TEAM)
        chat, clock = ConsoleChat(io.StringIO()), VirtualClock(DEMO_START)
        bot = build_bot(team, chat, clock, database_url=database_url, digest_model=model)
        ConsoleSession(bot, chat, clock, io.StringIO(), jobs=DueJobs(bot)).run(SCRIPT.splitlines())
        assert stand_in.requests, "the reminder prepared a digest"
        if locale != team.team.locale:  # the same stored week, its report and key points in English
            team = Team.model_validate({**team.model_dump(), "team": {**team.team.model_dump(), "locale": locale}})
            bot = build_bot(team, chat, clock, database_url=database_url, digest_model=model)
        view = bot.digests.prepare(WEEK)
        assert view is not None
        assert view.dropped == () and view.state == "ready"
        assert [p.text for p in view.points] == [line["text"] for line in lines]
        report = bot.digests.with_points(bot.week_report.compile(WEEK), WEEK)
        markdown = bot.ctx.renderer.markdown(report)
        head, _, rest = markdown.partition("\n\n" + top)
        assert head.startswith("# 2024-W26\n\nCreated: ")
        if locale == "zh-CN":  # under the key points, the report is the example, byte for byte
            golden = GOLDEN.read_text(encoding="utf-8")
            assert rest.split("\n\n", 1)[1] == golden.split("\n\n", 2)[2]
