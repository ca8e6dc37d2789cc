"""Does the department's roll-up cost what its teams' reports cost? (issue 25)

Target: compiling the roll-up of a department of 10 teams, each with 260 weeks stored, takes at most 1.3x
per team the time of compiling one team's report with its 260 weeks stored alone in its database.

Two SQLite databases, filled the way `bench/compile_history.py` fills its "history" one (258 older weeks
bulk-inserted in the shape the services store them, the last two through the real services, the target
week published):

- "one team": one synthetic team;
- "department": 10 such teams (their own names, ids shifted so the rows of every team interleave in one
  set of tables).

Timed, interleaved, after a warm-up: `WeekReport.compile(target)` on the one team, and
`DepartmentRollup.compile(target)` (every team's published report compiled and composed) on the
department. Printed: both medians and the ratio (department / 10) / one team, PASS/FAIL against 1.3.

    python -m bench.rollup [--teams 10] [--weeks 260] [--items 60] [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, func, select

from bench.compile_history import (
    TARGET,
    NullChat,
    bulk_insert,
    history_rows,
    publish_time,
    store_recent_week,
    synthetic_team,
)
from bot.domain.department import Department, DepartmentInfo, DepartmentTeam
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import DepartmentBots, build_department
from bot.services.bot import Bot
from bot.services.chat import RenderedReport
from storage.db import make_engine, upgrade
from storage.models import AnswerMessageRow, Base, ReportRow, WeekRow

LIMIT = 1.3
console = Console()


def named(team: Team, n: int) -> Team:
    data = team.model_dump()
    return Team.model_validate({**data, "team": {**data["team"], "name": f"基准团队{n:02d}",
                                                 "report_channel": f"team-{n:02d}"}})


def shifted(engine: Engine, rows: dict[type[Base], list[dict[str, Any]]]) -> dict[type[Base], list[dict[str, Any]]]:
    """`history_rows` numbers rows from 1, as in an empty database: shift every id (and the ids rows refer
    to) past what the tables already hold, so several teams' history shares one database."""
    with engine.connect() as conn:
        offset = {model: conn.scalar(select(func.coalesce(func.max(model.__table__.c.id), 0)))  # type: ignore[attr-defined]
                  for model in rows}
    refs = {"week_id": WeekRow, "report_id": ReportRow}
    for model, values in rows.items():
        for row in values:
            row["id"] += offset[model]
            for column, target in refs.items():
                if column in row:
                    row[column] += offset[target]
            if "message_id" in row and model.__tablename__ in ("answer_revisions", "contributions"):
                row["message_id"] += offset[AnswerMessageRow]
    return rows


def weeks_ending_at_target(n: int) -> list[IsoWeek]:
    span = [TARGET]
    while len(span) < n:
        span.insert(0, span[0].previous())
    return span


def fill(bot: Bot, engine: Engine, weeks: int, rendered: RenderedReport | None) -> None:
    """`weeks` weeks of `bot`'s team ending with the target week, published: the older ones bulk-inserted
    (when `rendered` gives their reports' size), the last two through the services."""
    span = weeks_ending_at_target(weeks)
    if rendered is not None:
        bulk_insert(engine, bot.ctx.team_id, shifted(engine, history_rows(bot, span[:-2], rendered)))
    for week_no, week in enumerate(span[-2:], start=weeks - 2):
        store_recent_week(bot, week, week_no, publish=True)


def department_of(teams: list[Team]) -> Department:
    info = DepartmentInfo.model_validate({"name": "基准事业部", "publish": "sat 10:00"})
    return Department(info, tuple(DepartmentTeam(f"t{n:02d}", t) for n, t in enumerate(teams)))


def build(url: str, teams: list[Team], weeks: int, rendered: RenderedReport | None) -> DepartmentBots:
    engine = make_engine(url)
    upgrade(engine)
    built = build_department(department_of(teams), NullChat(), lambda: publish_time(TARGET, teams[0]),
                             database_url=url, engine=engine, migrate=False)
    for bot in built.bots:
        fill(bot, engine, weeks, rendered)
    return built


def report_size(url: str, team: Team) -> RenderedReport:
    """A published week of `team` as rendered: the size the bulk-inserted old reports take (as
    compile_history takes it from its "single" database)."""
    bot = build(url, [team], 2, None).bots[0]
    return bot.week_report.render(bot.week_report.compile(TARGET.previous(), publish_time(TARGET, team)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.rollup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--teams", type=int, default=10)
    ap.add_argument("--weeks", type=int, default=260)
    ap.add_argument("--items", type=int, default=60, help="report items per team (default 60)")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args(argv)
    base = synthetic_team(args.items)
    teams = [named(base, n) for n in range(args.teams)]
    at = publish_time(TARGET, base).replace(hour=18)
    with tempfile.TemporaryDirectory(prefix="zhoubao-bench-") as folder:
        started = time.perf_counter()
        rendered = report_size(f"sqlite:///{Path(folder)}/size.db", teams[0])
        one = build(f"sqlite:///{Path(folder)}/one.db", teams[:1], args.weeks, rendered)
        many = build(f"sqlite:///{Path(folder)}/department.db", teams, args.weeks, rendered)
        console.print(f"filled: 1 team and {args.teams} teams × {args.weeks} weeks × {len(base.items)} items "
                      f"in {time.perf_counter() - started:.0f} s; target week {TARGET.label}")
        assert many.rollup is not None
        rollup = many.rollup
        names = rollup.compile(TARGET, at).team_names
        assert len(rollup.compile(TARGET, at).teams) == args.teams, names  # every team published
        single_times, rollup_times = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            one.bots[0].week_report.compile(TARGET, at)
            t1 = time.perf_counter()
            rollup.compile(TARGET, at)
            t2 = time.perf_counter()
            single_times.append(t1 - t0)
            rollup_times.append(t2 - t1)
        single, whole = statistics.median(single_times), statistics.median(rollup_times)
        ratio = whole / args.teams / single
        console.print(f"one team's report, {args.weeks} weeks stored: {single * 1000:.1f} ms (median of {args.repeat})")
        console.print(f"roll-up of {args.teams} teams, {args.weeks} weeks each: {whole * 1000:.1f} ms "
                      f"= {whole / args.teams * 1000:.1f} ms per team")
        verdict = "PASS" if ratio <= LIMIT else "FAIL"
        console.print(f"per team / one team: {ratio:.2f}× (target ≤ {LIMIT}×) {verdict}")
        return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
