"""`zhoubao import` of hostile files (issue 20 item 11): each is refused with the file's name and the reason,
and nothing of it is stored, not even the weeks of the same file that were fine."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.domain.compile import availability_figure_key, incident_count_figure_key
from bot.domain.facts import EntryFact, IncidentFact, MetricFact, WeekFacts
from bot.domain.facts_json import FORMAT, week_to_json
from bot.services.importing import MAX_FILE_BYTES
from storage.db import make_engine
from storage.models import AnswerMessageRow, EntryRow, IncidentRow, MetricValueRow, WeekRow
from tests.conftest import EXAMPLE_TEAM, invoke
from tests.test_import import GOLDEN

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 6, 24, 9, 0, tzinfo=TZ)


@pytest.fixture
def folder(fresh: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """A scratch folder whose team computes 年度可用性 from incidents, so a stated figure is checked 0-100 %."""
    team = EXAMPLE_TEAM.read_text(encoding="utf-8").replace(
        '{name: 年度可用性, owner: sunli, unit: "%"}', '{name: 年度可用性, owner: sunli, unit: "%", source: availability}')
    assert "source: availability}" in team
    (fresh / "team.yaml").write_text(team, encoding="utf-8")
    monkeypatch.setenv("TEAM_FILE", str(fresh / "team.yaml"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    return fresh


def counts(database_url: str) -> dict[str, int]:
    """How many weeks, answers, entries, figures and incidents are stored."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        out = {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
               for t in (WeekRow, AnswerMessageRow, EntryRow, MetricValueRow, IncidentRow)}
    engine.dispose()
    return out


NOTHING = {"weeks": 0, "answer_messages": 0, "entries": 0, "metric_values": 0, "incidents": 0}


def incident(**changes: object) -> IncidentFact:
    values: dict[str, object] = {"number": 1, "started_at": START, "what": "网关超时",
                                 "recovered_at": START.replace(hour=10), "severity": "C", "weight": Decimal(1)}
    return IncidentFact(**{**values, **changes})  # type: ignore[arg-type]


def export(*weeks: WeekFacts) -> str:
    """A `zhoubao export --format json` document of `weeks`, the first one always a good week."""
    good = WeekFacts("2024-W25", entries={"project:PCI DSS 认证": EntryFact("project:PCI DSS 认证", "差距分析完成")})
    return json.dumps({"format": FORMAT, "team": "支付技术部",
                       "weeks": [week_to_json(w, None) for w in (good, *weeks)]}, ensure_ascii=False)


def figure(key: str, text: str) -> dict[str, MetricFact]:
    return {key: MetricFact(key, text, Decimal(text))}


W26 = "2024-W26"
ROWS = [
    pytest.param("2024-W12.md", "", "2024-W12.md: the file is empty", id="empty"),
    pytest.param("2024-W12.md", " \n\n\t\n", "2024-W12.md: the file is empty", id="blank"),
    pytest.param("r.md", "# 0000-W01\n\n- 【PCI DSS 认证】\n\n    进度 10%\n", "the title's week is not a week",
                 id="title 0000-W01"),
    pytest.param("r.md", "# 9999-W52\n\n- 【PCI DSS 认证】\n\n    进度 10%\n",
                 "9999-W52 is outside the weeks this team can use", id="title 9999-W52"),
    pytest.param("deep.json", "[" * 100_000 + "]" * 100_000, "deep.json: JSON nested deeper than 32 levels",
                 id="100k-deep JSON"),
    pytest.param("w.json", export(WeekFacts(W26, incidents=(incident(started_at=datetime(1, 1, 1, 12, tzinfo=TZ),
                                                                     recovered_at=None),))),
                 "incident #1: starts 0001-01-01 12:00 (0001-W01), outside the weeks", id="incident in year 1"),
    pytest.param("w.json", export(WeekFacts(W26, metrics=figure(availability_figure_key("年度可用性"), "-42.5"))),
                 "availability '-42.5' is not 0 to 100 %", id="negative availability"),
    pytest.param("w.json", export(WeekFacts(W26, metrics=figure(incident_count_figure_key("系统可用性", ["A", "B"]),
                                                                "-7.5"))),
                 "incident count '-7.5' is negative", id="negative AB count"),
    pytest.param("w.json", export(WeekFacts(W26, incidents=(incident(weight=Decimal("-7.5")),))),
                 "weight -7.5 is not above 0", id="negative weight"),
    pytest.param("w.json", export(WeekFacts(W26, incidents=(incident(severity="Z"),))),
                 "severity 'Z' is not one of A, B, C, D", id="severity Z"),
    pytest.param("w.json", export(WeekFacts(W26, incidents=(incident(recovered_at=START.replace(hour=8)),))),
                 "recovered 2024-06-24 08:00, before its start 2024-06-24 09:00", id="recovery before start"),
    pytest.param("w.json", export(WeekFacts("9999-W52")), "9999-W52 is outside the weeks this team can use",
                 id="JSON week 9999-W52"),
]


@pytest.mark.parametrize(("name", "content", "says"), ROWS)
def test_refused_with_the_reason_and_nothing_stored(folder: Path, database_url: str, name: str, content: str,
                                                    says: str) -> None:
    (folder / name).write_text(content, encoding="utf-8")
    result = invoke("import", name)
    assert result.exit_code == 2, result.output
    assert says in result.output and "nothing imported" in result.output, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert counts(database_url) == NOTHING


def test_a_file_larger_than_the_bound_is_refused_naming_the_bound(folder: Path, database_url: str) -> None:
    with (folder / "big.md").open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: the size is what is checked, before reading
    result = invoke("import", "big.md")
    assert result.exit_code == 2 and "larger than the 64 MiB an import file may be" in result.output, result.output
    assert counts(database_url) == NOTHING


def test_a_file_refused_while_it_is_written_leaves_none_of_its_weeks(folder: Path, database_url: str) -> None:
    """One transaction per file: 2024-W26 holds chat answers (found only when writing), so the file's good
    2024-W25, written first, is rolled back with it."""
    assert invoke("import", str(GOLDEN)).exit_code == 0
    engine = make_engine(database_url)
    with engine.begin() as conn:  # make the imported week look collected in chat
        conn.execute(AnswerMessageRow.__table__.update().values(platform="slack"))
    engine.dispose()
    before = counts(database_url)
    (folder / "two.json").write_text(export(WeekFacts(W26)), encoding="utf-8")
    result = invoke("import", "two.json")
    assert result.exit_code == 1 and "already holds" in result.output and "nothing imported from two.json" \
        in result.output, result.output
    assert counts(database_url) == before, "2024-W25 was not kept"
    assert invoke("report", "--week", "2024-W25").stderr.startswith("No answers")
