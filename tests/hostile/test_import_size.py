"""Issue 20 item 12: a 50 MB report file grew the database by 730 MB (then 420 MB): each answer was stored
four times (the message, its "create" revision, its contribution, the current entry) and the week's
report three more (Markdown, Slack, Feishu renderings). Here a padded file of eight weeks is imported and
the text the database holds is measured: about twice the file (the answer as typed, and the item's
current value), and every reader still shows the imported report. (bench/import_large.py measures the
50 MB file.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain.weeks import IsoWeek
from storage.db import make_engine, session_factory
from storage.models import AnswerMessageRow, AnswerRevisionRow, ContributionRow, EntryRow, ReportRow
from tests.conftest import EXAMPLE_TEAM, invoke

GOLDEN = Path(__file__).parent.parent / "golden" / "report_2024-W26.zh-CN.md"
PADDED = "本周完成差距分析与整改清单"
FILLER = "，整改项逐条核对留痕"
TEXT_COLUMNS = (AnswerMessageRow.text, AnswerRevisionRow.text, ContributionRow.text, EntryRow.text,
                ReportRow.markdown, ReportRow.slack, ReportRow.feishu)


@pytest.fixture
def workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEAM_FILE", str(EXAMPLE_TEAM))
    return workdir


def _file(path: Path, weeks: int = 8, pad: int = 4000) -> int:
    """The example report once per week up to 2024-W26, its PCI DSS answer padded; returns its characters."""
    golden = GOLDEN.read_text(encoding="utf-8")
    labels = [IsoWeek(2024, 26)]
    while len(labels) < weeks:
        labels.append(labels[-1].previous())
    text = "\n".join(golden.replace("# 2024-W26", f"# {w.label}").replace(PADDED, PADDED + FILLER * pad, 1)
                     for w in reversed(labels))
    path.write_text(text, encoding="utf-8")
    return len(text)


def _stored_chars(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as s:
            return sum(int(s.scalar(select(func.sum(func.length(c)))) or 0) for c in TEXT_COLUMNS)
    finally:
        engine.dispose()


def test_a_large_import_stores_about_twice_what_the_file_holds(workdir: Path, database_url: str) -> None:
    source = workdir / "reports.md"
    size = _file(source)
    result = invoke("import", str(source))
    assert result.exit_code == 0, result.output
    stored = _stored_chars(database_url)
    assert stored <= 2.1 * size, f"{stored:,} characters stored for a file of {size:,} ({stored / size:.1f}x)"
    # The readers compile what an imported week's report would hold: the file's answers, its Created time.
    report = invoke("report", "--week", "2024-W26", "--format", "md")
    assert report.exit_code == 0 and "Created: 2024年6月28日 17:00" in report.stdout
    assert PADDED + FILLER * 10 in report.stdout
    for fmt in ("slack", "feishu"):
        shown = invoke("report", "--week", "2024-W20", "--format", fmt)
        assert shown.exit_code == 0 and PADDED in shown.stdout
