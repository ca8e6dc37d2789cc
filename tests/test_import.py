"""`zhoubao import` and `zhoubao export`: past reports in, stored weeks out, as a user sees them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.weeks import IsoWeek
from bot.services.importing import Importer
from storage.db import make_engine, session_factory
from storage.models import (
    AnswerMessageRow,
    BankStatusRow,
    Base,
    EntryRow,
    IncidentRow,
    MetricValueRow,
    ReportRow,
)
from tests.conftest import EXAMPLE_TEAM, SHANGHAI, invoke
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot, say

GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"


def _plain(text: str) -> str:
    """Trailing spaces (Markdown hard line breaks) aside."""
    return "\n".join(line.rstrip() for line in text.split("\n"))


@pytest.fixture
def workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared scratch folder, with the example team file."""
    monkeypatch.setenv("TEAM_FILE", str(EXAMPLE_TEAM))
    return workdir


def snapshot(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to see that a second import changes nothing."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        out = {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
               for t in Base.metadata.sorted_tables}
    engine.dispose()
    return out


# ----- the example of REPORT.md ------------------------------------------------------------------


def test_import_of_the_example_then_report_prints_it_again(workdir: Path, database_url: str) -> None:
    result = invoke("import", str(GOLDEN))
    assert result.exit_code == 0, result.output
    assert "stored 2024-W26" in result.output
    report = invoke("report", "--week", "2024-W26", "--format", "md")
    assert report.exit_code == 0, report.output
    assert _plain(report.stdout) == _plain(GOLDEN.read_text(encoding="utf-8"))

    before = snapshot(database_url)
    again = invoke("import", str(GOLDEN))
    assert again.exit_code == 0 and "already imported, nothing changed" in again.output
    assert snapshot(database_url) == before


def test_imported_answers_are_attributed_to_owners_with_source_import(workdir: Path, database_url: str) -> None:
    assert invoke("import", str(GOLDEN)).exit_code == 0
    engine = make_engine(database_url)
    with session_factory(engine)() as s:
        msgs = {m.target_item: m for m in s.scalars(select(AnswerMessageRow))}
        pci = msgs["project:PCI DSS 认证"]
        assert pci.platform == "import" and pci.source_id.startswith("report_2024-W26.zh-CN.md#")
        assert pci.text.startswith("本周完成差距分析与整改清单")
        entry = s.scalars(select(EntryRow).where(EntryRow.item_key == "project:PCI DSS 认证")).one()
        assert entry.progress == 45 and entry.main_problem == "密钥轮换流程的留痕方案未定"
        bank = s.scalars(select(BankStatusRow).where(BankStatusRow.item_key == "bank:聚合收单/招行")).one()
        assert bank.note == "跨行代扣方案评审通过，下周启动开发。" and bank.stage == "开发"
        incidents = list(s.scalars(select(IncidentRow).order_by(IncidentRow.started_at)))
        assert [i.source for i in incidents] == ["import"] * 3
        assert incidents[0].cause == "对账文件体积较上周翻倍"
        assert incidents[2].system == "gateway-api" and incidents[2].what == "节点CPU打满"
        assert incidents[1].recovered_at is not None
        figures = {m.item_key: m.value for m in s.scalars(select(MetricValueRow))}
        assert figures["figure:incidents:系统可用性:D"] == 0.5
        report = s.scalars(select(ReportRow)).one()
        assert report.published_at is not None and f"{report.published_at:%H:%M}" == "09:00"  # 17:00 +08:00
    engine.dispose()


# ----- what wikis do to the Markdown -----------------------------------------------------------

WIKI_EDITS = [
    ("Created: ", "Created："),  # full-width colon
    ("- 【聚合收单】", "- **【聚合收单】**   "),  # bold title, trailing spaces
    ("    1. 业务：", "    1、业务:"),  # 、 numbering, half-width colon
    ("    2. 银行：", "\t2) 银行："),  # tab indentation, ) numbering
    ("- 【PCI DSS 认证】\n\n", "- 【PCI DSS 认证】\n    \n"),  # a whitespace-only line
    ("整体进度 45%  \n", "整体进度 45%\n"),  # the hard line break's trailing spaces dropped
    ("## 【O2 能力升级】", "## **【O2 能力升级】**"),
    ("1. 交易路由：", "1) 交易路由:"),
    ("- 入金有效成功率：", "-\u00a0入金有效成功率："),  # a non-breaking space
    ("翻倍\n\n06/26", "翻倍\n06/26"),  # incident lines run together (before issue 9's rendering)
    ("恢复。\n\n06/27", "恢复。\n06/27"),
    ("## 收获与反思", "## **收获与反思**"),
]


def test_a_wiki_export_of_the_example_imports_to_the_same_report(workdir: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    for old, new in WIKI_EDITS:
        assert old in text, old
        text = text.replace(old, new)
    (workdir / "wiki.md").write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    result = invoke("import", "wiki.md")
    assert result.exit_code == 0, result.output
    assert "unmapped" not in result.output and "warning" not in result.output
    report = invoke("report", "--week", "2024-W26")
    assert _plain(report.stdout) == _plain(GOLDEN.read_text(encoding="utf-8"))


# ----- lines that map to nothing --------------------------------------------------------------

EXTRA = {
    "3. 对公代付：系统开发进度70%，主要依赖：银行专线开通\n":
        "3. 对公代付：系统开发进度70%，主要依赖：银行专线开通\n4. 新业务线：筹备中\n",
    "- 事故数AB级0次，C级1次，D级0.5次\n":
        "- 事故数AB级0次，C级1次，D级0.5次\n\n430事故：截至6/18，异常资金全部追回。\n",
    "一次拉取全部历史订单\n": "一次拉取全部历史订单\n\n详细记录：[事件复盘](https://wiki.example.com/incidents/2024-06)\n",
}


def _with_extras() -> str:
    text = GOLDEN.read_text(encoding="utf-8")
    for old, new in EXTRA.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_dry_run_lists_the_mapping_and_an_unknown_item_with_file_and_line(workdir: Path, database_url: str) -> None:
    (workdir / "2024-W26.md").write_text(_with_extras(), encoding="utf-8")
    assert invoke("report", "--week", "2024-W25").exit_code == 0  # a database in use: schema, team, people
    before = snapshot(database_url)
    result = invoke("import", "--dry-run", "2024-W26.md")
    assert result.exit_code == 0, result.output
    assert "O1 业务服务 · 跨境收款 ← 2024-W26.md:26" in result.output
    assert "聚合收单 · 银行 · 建行 ← 2024-W26.md:12" in result.output
    assert "unmapped 2024-W26.md:29: '4. 新业务线：筹备中' → kept as the note O1 业务服务 · 备注" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert snapshot(database_url) == before


def test_the_real_import_keeps_unmapped_lines_and_notes_under_their_sections(workdir: Path) -> None:
    (workdir / "2024-W26.md").write_text(_with_extras(), encoding="utf-8")
    assert invoke("import", "2024-W26.md").exit_code == 0
    md = invoke("report", "--week", "2024-W26").stdout
    assert "3. 对公代付：系统开发进度70%，主要依赖：银行专线开通\n\n4. 新业务线：筹备中\n\n## 【O2 能力升级】" in md
    assert "D级0.5次\n\n430事故：截至6/18，异常资金全部追回。\n\n## 【生产事件】" in md
    assert "一次拉取全部历史订单\n\n详细记录：[事件复盘](https://wiki.example.com/incidents/2024-06)\n\n## 【其他】" in md
    slack = invoke("report", "--week", "2024-W26", "--format", "slack").stdout
    assert "430事故：截至6/18，异常资金全部追回。" in slack


def test_an_okr_item_with_another_name_is_matched_by_position_with_a_warning(workdir: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8").replace("2. 资金安全：", "2. 资金安全保障：")
    (workdir / "w.md").write_text(text, encoding="utf-8")
    result = invoke("import", "w.md")
    assert "warning w.md:27: matched O1 业务服务 · 资金安全 by its position in the group (the file says '资金安全保障')" \
        in result.output
    md = invoke("report", "--week", "2024-W26").stdout
    assert "2. 资金安全：资金安全保障：风控规则二期方案有变，待最新方案" in md


def test_a_file_without_a_week_needs_one(workdir: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8").replace("# 2024-W26\n", "")
    (workdir / "notes.md").write_text(text, encoding="utf-8")
    result = invoke("import", "notes.md")
    assert result.exit_code == 2 and "pass --week" in result.output
    result = invoke("import", "notes.md", "--week", "2024-W26")
    assert result.exit_code == 0, result.output
    assert "2024-W26" in invoke("report", "--week", "2024-W26").stdout


# ----- chat weeks, and the prompt after an import ------------------------------------------------


def test_a_week_with_chat_answers_is_refused_unless_replace(workdir: Path, database_url: str) -> None:
    bot = make_bot(database_url, FakeChat(), FixedClock(IsoWeek(2024, 26).start(SHANGHAI).replace(hour=10)))
    say(bot, "zhoujie", "机房迁移：整体进度 60%")
    bot.engine.dispose()
    result = invoke("import", str(GOLDEN))
    assert result.exit_code == 1 and "already holds 1 answer(s)" in result.output
    assert "整体进度 60%" in invoke("report", "--week", "2024-W26").stdout
    result = invoke("import", "--replace", str(GOLDEN))
    assert result.exit_code == 0 and "chat answers replaced" in result.output, result.output
    assert _plain(invoke("report", "--week", "2024-W26").stdout) == _plain(GOLDEN.read_text(encoding="utf-8"))


def test_the_first_prompt_after_an_import_shows_last_weeks_answer_and_progress_moves(database_url: str) -> None:
    chat = FakeChat()
    clock = FixedClock(IsoWeek(2024, 27).start(SHANGHAI).replace(hour=10))  # Monday of the week after
    bot = make_bot(database_url, chat, clock)
    importer = Importer(bot.ctx, bot.week_report)
    (plan,) = importer.plan_markdown("report_2024-W26.md", GOLDEN.read_text(encoding="utf-8"))
    importer.store(plan, "report_2024-W26.md")
    bot.cycle.send_prompts()
    prompt = next(m for m in chat.sent if m.kind == "prompt" and m.to == "chenjing")
    assert "上周：" in prompt.text and "本周完成差距分析与整改清单，已提交审核方，整体进度 45%" in prompt.text
    say(bot, "chenjing", "整改项完成六成，整体进度 60%")
    report = bot.week_report.compile(IsoWeek(2024, 27))
    assert "(45% → 60%)" in bot.ctx.renderer.slack(report)


# ----- export --------------------------------------------------------------------------------------


def test_export_json_imports_into_another_database_as_the_same_week(workdir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("import", str(GOLDEN)).exit_code == 0
    result = invoke("export", "--from", "2024-W01", "--to", "2024-W30", "--format", "json", "--output", "all.json")
    assert result.exit_code == 0, result.output
    data = json.loads((workdir / "all.json").read_text(encoding="utf-8"))
    assert [w["week"] for w in data["weeks"]] == ["2024-W26"]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert invoke("import", "all.json").exit_code == 0
    assert _plain(invoke("report", "--week", "2024-W26").stdout) == _plain(GOLDEN.read_text(encoding="utf-8"))


def test_export_csv_has_a_row_per_item_and_week_and_md_a_file_per_week(workdir: Path) -> None:
    assert invoke("import", str(GOLDEN)).exit_code == 0
    result = invoke("export", "--from", "2024-W25", "--to", "2024-W27", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["week", "kind", "item", "title", "owner", "text", "author", "progress", "updated_at",
                       "severity", "weight", "owner_id", "author_id", "time_zone"]
    pci = next(r for r in rows if r[2] == "project:PCI DSS 认证")
    assert pci[0] == "2024-W26" and pci[4] == "陈静" and pci[7] == "45"
    # the example team's 20 items, then the week's three incidents, one stored week
    assert [r[1] for r in rows[1:]].count("incident") == 3 and len(rows) == 1 + 20 + 3
    assert invoke("export", "--from", "2024-W25", "--to", "2024-W27", "--output", "weeks").exit_code == 0
    assert [p.name for p in (workdir / "weeks").iterdir()] == ["2024-W26.md"]
    assert _plain((workdir / "weeks" / "2024-W26.md").read_text(encoding="utf-8")) == \
        _plain(GOLDEN.read_text(encoding="utf-8"))




def test_importing_a_changed_file_again_updates_the_week(workdir: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    (workdir / "w26.md").write_text(text, encoding="utf-8")
    assert invoke("import", "w26.md").exit_code == 0
    changed = text.replace("1. 机房迁移：整体进度达到了80%，预计下周三完成生产验证", "1. 机房迁移：未更新")
    changed = changed.replace("06/26 14:30 招行代扣通道返回码异常，部分代扣失败，经银行修复后 15:10 恢复。\n\n", "")
    (workdir / "w26.md").write_text(changed, encoding="utf-8")
    result = invoke("import", "w26.md")
    assert result.exit_code == 0 and "stored 2024-W26" in result.output
    md = invoke("report", "--week", "2024-W26").stdout
    assert "1. 机房迁移：未更新" in md and "招行代扣通道" not in md
    assert _plain(md) == _plain(changed)


def test_a_section_the_team_file_does_not_know_is_kept_as_the_note_before_it(workdir: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8").replace(
        "## 【生产事件】", "## 【风险提示】\n\n- 供应商合同7月到期\n\n## 【生产事件】")
    (workdir / "w.md").write_text(text, encoding="utf-8")
    result = invoke("import", "--dry-run", "w.md")
    assert "unmapped w.md:51: '## 【风险提示】' → kept as the note 系统可用性 · 备注" in result.output, result.output
    assert invoke("import", "w.md").exit_code == 0
    md = invoke("report", "--week", "2024-W26").stdout
    # kept as the note's text: typed text cannot open a heading in the file, so it is escaped (issue 10)
    assert "D级0.5次\n\n\\## 【风险提示】\n\n- 供应商合同7月到期\n\n## 【生产事件】" in md


def test_a_folder_of_reports_imports_every_week_and_progress_moves_across_them(workdir: Path) -> None:
    folder = workdir / "wiki"
    folder.mkdir()
    text = GOLDEN.read_text(encoding="utf-8")
    (folder / "a.md").write_text(text.replace("# 2024-W26", "# 2024-W27").replace("整体进度 45%", "整体进度 60%"),
                                 encoding="utf-8")
    (folder / "b.markdown").write_text(text, encoding="utf-8")
    (folder / "notes.png").write_bytes(b"\x89PNG")
    result = invoke("import", "wiki")
    assert result.exit_code == 0, result.output
    assert result.output.index("→ 2024-W26") < result.output.index("→ 2024-W27")  # older weeks first
    slack = invoke("report", "--week", "2024-W27", "--format", "slack").stdout
    assert "*【PCI DSS 认证】* (45% → 60%)" in slack
