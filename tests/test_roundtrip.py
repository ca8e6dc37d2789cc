"""Round trip as the contract: compile → Markdown → import into an empty week → compile → Markdown
gives the same text (trailing spaces aside), for generated weeks, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.domain.compile import compile_report
from bot.domain.facts import BankStatusFact, EntryFact, IncidentFact, MetricFact, WeekFacts
from bot.domain.replies import bank_stage, normalize_text, parse_entry
from bot.domain.team import ItemKind, Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.services.bot import Bot
from bot.services.importing import Importer
from bot.text.render import Renderer
from tests.helpers import example_team

_weeks = itertools.count()
# Words and punctuation of real answers; no `#`, `【`, `：` at a line's start, which would be headings or names.
_WORD = st.sampled_from(["上线", "联调", "方案", "评审", "完成", "推进", "银行", "接口", "v2.1", "API", "数据", "迁移",
                         "风险", "监控", "deploy", "rollout", "45%", "进度", "计划", "验证", "优化", "团队"])
_PUNCT = st.sampled_from(["", "，", "。", "、", "；", " ", "（试点）"])
_sentence = st.lists(st.tuples(_WORD, _PUNCT), min_size=1, max_size=6).map(
    lambda ws: "".join(w + p for w, p in ws).strip() or "完成")
_plain = _sentence.filter(lambda s: not s[0].isdigit() and not s.startswith(("-", "v")))
_line = st.one_of(
    _sentence,
    _sentence.map(lambda s: f"- {s}"),
    _sentence.map(lambda s: f"    - {s}"),
    st.tuples(st.integers(1, 9), _sentence).map(lambda t: f"{t[0]}. {t[1]}"),
    _sentence.map(lambda s: f"主要问题：{s}"),
    st.just(""),
)


def _text(first: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Stored answer text: normalized like a chat reply, never empty."""
    return st.tuples(first, st.lists(_line, max_size=4)).map(
        lambda t: normalize_text("\n".join([t[0], *t[1]]))).filter(bool)


_entry_text = _text(st.one_of(_sentence, _sentence.map(lambda s: f"- {s}")))
_note_text = _text(_plain)  # a note starts with a plain line (see house_markdown)
_incident_word = st.sampled_from(["支付超时", "节点CPU打满", "通道返回码异常", "批量任务超时", "磁盘告警", "部分代扣失败",
                                  "经银行修复", "对业务无实际影响", "缺少分页", "重试成功"])
_incident_text = st.lists(st.tuples(_incident_word, st.sampled_from(["", "，", "。"])), min_size=1, max_size=3).map(
    lambda ws: "".join(w + p for w, p in ws))


@st.composite
def weeks(draw: st.DrawFn, team: Team) -> WeekFacts:
    n = next(_weeks)
    # Weeks inside the team's window (five years before the clock's 2030-01-01 to the next week), each new
    # within one database (a database holds far fewer than 250 examples).
    week = IsoWeek(2025 + (n % 250) // 50, 2 + n % 50)
    entries: dict[str, EntryFact] = {}
    banks: dict[str, BankStatusFact] = {}
    metrics: dict[str, MetricFact] = {}
    for it in team.items:
        if not draw(st.booleans()) and it.kind is not ItemKind.NOTE:  # an empty item: 未更新
            continue
        if it.kind is ItemKind.BANK:
            note = draw(_text(_sentence))
            banks[it.key] = BankStatusFact(it.key, note, bank_stage(note), it.owner)
        elif it.kind is ItemKind.METRIC:
            value = draw(st.decimals(min_value=0, max_value=100, places=3, allow_nan=False))
            metrics[it.key] = MetricFact(it.key, str(value), value, it.owner)
        else:
            parsed = parse_entry(draw(_entry_text))
            entries[it.key] = EntryFact(it.key, parsed.text, parsed.progress, parsed.main_problem, it.owner)
    for note in team.section_notes:
        if draw(st.booleans()):
            entries[note.key] = EntryFact(note.key, draw(_note_text), author=note.owner)
    incidents = []
    start = week.start(team.zone)
    for k in range(draw(st.integers(0, 4))):
        at = start + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60 - 1)))
        recovered = at + timedelta(minutes=draw(st.integers(1, 2000))) if draw(st.booleans()) else None
        incidents.append(IncidentFact(
            number=k + 1, started_at=at, what=draw(_incident_text),
            system=draw(st.sampled_from(["", "gateway-api", "order-svc"])),
            cause=draw(st.one_of(st.just(""), _incident_text)), impact=draw(st.one_of(st.just(""), _incident_text)),
            recovered_at=recovered, severity=draw(st.sampled_from(team.incidents.severities)),
            weight=draw(st.sampled_from([Decimal("1"), Decimal("0.5")]))))
    return WeekFacts(week=week.label, entries=entries, banks=banks, metrics=metrics, incidents=tuple(incidents))


def _same_text(a: str) -> str:
    return "\n".join(line.rstrip() for line in a.split("\n"))


def _team(locale: str) -> Team:
    team = example_team()
    return Team.model_validate({**team.model_dump(), "team": {**team.team.model_dump(), "locale": locale}})


@pytest.fixture(params=["zh-CN", "en"])
def setup(request: pytest.FixtureRequest, database_url: str) -> tuple[Team, Bot]:
    team = _team(request.param)
    bot = build_bot(team, ConsoleChat(io.StringIO()), VirtualClock(datetime(2030, 1, 1, tzinfo=team.zone)),
                    database_url=database_url)
    return team, bot


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_compile_markdown_import_compile_gives_the_same_markdown(setup: tuple[Team, Bot], data: st.DataObject) -> None:
    team, bot = setup
    facts = data.draw(weeks(team))
    week = IsoWeek.parse(facts.week)
    published = datetime.combine(week.day(5), datetime.min.time(), tzinfo=team.zone).replace(hour=17)
    first = Renderer().markdown(compile_report(team, facts, None, compiled_at=published))

    importer = Importer(bot.ctx, bot.week_report)
    (plan,) = importer.plan_markdown("week.md", first)
    assert not plan.unmapped, plan.unmapped
    importer.store(plan, "week.md")
    again = bot.ctx.renderer.markdown(bot.week_report.compile(week, published))
    assert _same_text(again) == _same_text(first)
