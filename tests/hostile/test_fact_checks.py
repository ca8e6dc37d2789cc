"""What an imported week may hold (issue 20 item 11): the rules chat and the grammar keep, as pure checks
the importer runs before it writes. Each refused row was stored by `zhoubao import` before."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.domain.compile import availability_figure_key, incident_count_figure_key
from bot.domain.fact_checks import week_problems
from bot.domain.facts import IncidentFact, MetricFact, WeekFacts
from bot.domain.facts_json import FORMAT, week_to_json
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek, week_window
from bot.runtime.cli import app as cli
from storage.db import make_engine
from storage.models import IncidentRow
from tests.conftest import EXAMPLE_TEAM
from tests.helpers import example_team

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 6, 24, 9, 0, tzinfo=TZ)
WINDOW = week_window(IsoWeek(2024, 11), date(2024, 6, 27))  # 2019-W11 to 2024-W27


def team() -> Team:
    """The example team with 年度可用性 computed from incidents (so a stated figure may be imported)."""
    data = example_team().model_dump()
    for group in data["metrics"]:
        for m in group["metrics"]:
            if m["name"] == "年度可用性":
                m["source"] = "availability"
    return Team.model_validate(data)


def incident(**changes: object) -> IncidentFact:
    values: dict[str, object] = {"number": 1, "started_at": START, "what": "网关超时",
                                 "recovered_at": START.replace(hour=10), "severity": "C", "weight": Decimal(1)}
    return IncidentFact(**{**values, **changes})  # type: ignore[arg-type]


def figure(key: str, text: str) -> dict[str, MetricFact]:
    return {key: MetricFact(key, text, Decimal(text))}


AVAILABILITY = availability_figure_key("年度可用性")
AB_COUNT = incident_count_figure_key("系统可用性", ["A", "B"])


@pytest.mark.parametrize(("facts", "says"), [
    (WeekFacts("9999-W52"), "9999-W52 is outside the weeks this team can use: 2019-W11 to 2024-W27"),
    (WeekFacts("1970-W01"), "1970-W01 is outside the weeks this team can use"),
    (WeekFacts("2024-W26", incidents=(incident(started_at=datetime(1, 1, 1, 12, tzinfo=TZ), recovered_at=None),)),
     "incident #1: starts 0001-01-01 12:00 (0001-W01), outside the weeks this team can use"),
    (WeekFacts("2024-W26", incidents=(incident(recovered_at=START.replace(hour=8)),)),
     "incident #1: recovered 2024-06-24 08:00, before its start 2024-06-24 09:00"),
    (WeekFacts("2024-W26", incidents=(incident(severity="Z"),)), "severity 'Z' is not one of A, B, C, D"),
    (WeekFacts("2024-W26", incidents=(incident(cause_class="aliens"),)),
     "attribution 'aliens' is not one of own, bank, third-party, infrastructure"),
    (WeekFacts("2024-W26", incidents=(incident(weight=Decimal("-7.5")),)), "weight -7.5 is not above 0"),
    (WeekFacts("2024-W26", incidents=(incident(weight=Decimal("NaN")),)), "weight NaN is not above 0"),
    (WeekFacts("2024-W26", incidents=(incident(weight=Decimal("11")),)), "weight 11 is not above 0"),
    (WeekFacts("2024-W26", metrics=figure(AVAILABILITY, "-42.5")), "availability '-42.5' is not 0 to 100 %"),
    (WeekFacts("2024-W26", metrics=figure(AVAILABILITY, "100.5")), "availability '100.5' is not 0 to 100 %"),
    (WeekFacts("2024-W26", metrics=figure(AB_COUNT, "-7.5")), "incident count '-7.5' is negative"),
])
def test_refused(facts: WeekFacts, says: str) -> None:
    problems = [str(p) for p in week_problems(facts, team(), WINDOW)]
    assert len(problems) == 1 and says in problems[0], problems


def test_a_week_as_chat_would_store_it_has_no_problem() -> None:
    facts = WeekFacts("2024-W26", incidents=(incident(), incident(number=2, severity=None, recovered_at=None,
                                                                   weight=Decimal("0.25"))),
                      metrics={**figure(AVAILABILITY, "99.995"), **figure(AB_COUNT, "0")})
    assert week_problems(facts, team(), WINDOW) == []


# ----- the importer runs them before it writes ------------------------------------------------------


def test_zhoubao_import_refuses_a_file_with_impossible_values_and_stores_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TEAM_FILE", str(EXAMPLE_TEAM))
    for var in ("SLACK_BOT_TOKEN", "FEISHU_APP_ID"):
        monkeypatch.delenv(var, raising=False)
    this_week = IsoWeek.of(datetime.now(TZ))  # the CLI runs on the wall clock
    start = datetime.combine(this_week.monday, time(9, 0), tzinfo=TZ)
    good = WeekFacts(this_week.label, incidents=(incident(started_at=start, recovered_at=start.replace(hour=10)),))
    bad = WeekFacts(this_week.previous().label, incidents=(
        incident(started_at=start - timedelta(days=7), recovered_at=start - timedelta(days=7, hours=1),
                 severity="Z", weight=Decimal("-7.5")),))
    document = {"format": FORMAT, "team": "支付技术部",
                "weeks": [week_to_json(good, None), week_to_json(bad, None), {**week_to_json(good, None),
                                                                              "week": "9999-W52"}]}
    Path("bad.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "bad.json"])
    assert result.exit_code == 2, result.output
    for says in ("before its start", "severity 'Z' is not one of A, B, C, D", "weight -7.5 is not above 0",
                 "9999-W52 is outside the weeks this team can use", "nothing imported"):
        assert says in result.output, (says, result.output)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(IncidentRow.id)).all() == [], "all or nothing: not even the good week"
    engine.dispose()
