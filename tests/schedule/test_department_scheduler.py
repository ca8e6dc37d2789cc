"""One scheduler for every team of a department served in one process (issue 25): each team's jobs stored
under its own id (`t<team id>:<job>`) and claimed per team, and the roll-up's job beside them, posted once."""

from __future__ import annotations

from datetime import datetime

from bot.runtime.composition import build_department
from bot.runtime.rollup_schedule import RollupSchedule
from bot.runtime.scheduler import Scheduler, SchedulerOptions
from tests.behaviour.department import department, team_file
from tests.conftest import SHANGHAI, eventually
from tests.fakes import FakeChat, FixedClock


def test_one_scheduler_runs_each_teams_jobs_and_the_rollup_once(database_url: str) -> None:
    dept = department(team_file("acquiring", publish="fri 17:00"), team_file("crossborder", publish="fri 16:00"))
    chat = FakeChat()
    clock = FixedClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI))
    built = build_department(dept, chat, clock, database_url=database_url)
    assert built.rollup is not None
    acquiring, crossborder = built.bots
    scheduler = Scheduler(acquiring, SchedulerOptions(), others=[crossborder],
                          rollup=RollupSchedule(built.rollup, clock))
    scheduler.start(paused=True, housekeeping=False)
    try:
        stored = sorted(j.id for j in scheduler.aps.get_jobs(jobstore="default"))
        a, c = acquiring.ctx.team_id, crossborder.ctx.team_id
        assert stored == sorted([*(f"t{a}:{s}" for s in ("zhoubao:prompt", "zhoubao:publish", "zhoubao:remind:1")),
                                 *(f"t{c}:{s}" for s in ("zhoubao:prompt", "zhoubao:publish", "zhoubao:remind:1"))])
        assert [j.id for j in scheduler.aps.get_jobs(jobstore="memory")] == ["zhoubao:rollup"]

        clock.now = datetime(2024, 6, 27, 10, 5, tzinfo=SHANGHAI)  # past both teams' prompt
        assert scheduler.catch_up() == ["prompt: 8 sent", "prompt: 3 sent"]
        assert scheduler.catch_up() == []  # claimed per team: never twice

        clock.now = datetime(2024, 6, 28, 18, 5, tzinfo=SHANGHAI)  # past both publishes and the roll-up's 18:00
        ran = scheduler.catch_up()
        assert "publish 2024-W26: posted" in ran and ran[-1] == "roll-up 2024-W26: posted"
        assert {s.to for s in chat.of_kind("report")} == {"acquiring-weekly", "crossborder-weekly"}
        assert scheduler.catch_up() == []
        assert [s.to for s in chat.sent if s.to == "department-weekly"] == ["department-weekly"]
        health = scheduler.health()["jobs"]
        assert "zhoubao:publish" in health and f"t{c}:zhoubao:publish" in health
    finally:
        scheduler.shutdown(wait=False)
        acquiring.engine.dispose()


def test_a_fire_runs_the_job_of_the_team_it_belongs_to(database_url: str) -> None:
    """APScheduler's own firing (not a catch-up): a stored job is announced by its id and runs its own team's
    job; the roll-up's job in memory posts the roll-up."""
    dept = department(team_file("acquiring"), team_file("crossborder"))
    chat = FakeChat()
    clock = FixedClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI))
    built = build_department(dept, chat, clock, database_url=database_url)
    assert built.rollup is not None
    acquiring, crossborder = built.bots
    scheduler = Scheduler(acquiring, SchedulerOptions(), others=[crossborder], rollup=RollupSchedule(built.rollup, clock))
    scheduler.start(housekeeping=False)
    try:
        clock.now = datetime(2024, 6, 27, 10, 5, tzinfo=SHANGHAI)  # the prompts are owed (by the test's clock)
        now = datetime.now(SHANGHAI)
        scheduler.aps.modify_job(f"t{crossborder.ctx.team_id}:zhoubao:prompt", jobstore="default", next_run_time=now)
        eventually(lambda: len(chat.of_kind("prompt")) == 3, "Cross-border's three prompts")
        assert {s.to for s in chat.of_kind("prompt")} == {"alice", "bob", "carol"}  # Cross-border's people
        clock.now = datetime(2024, 6, 28, 18, 5, tzinfo=SHANGHAI)
        scheduler.aps.modify_job("zhoubao:rollup", jobstore="memory", next_run_time=now)
        eventually(lambda: any(s.to == "department-weekly" for s in chat.sent), "the roll-up")
        assert len(chat.of_kind("prompt")) == 3  # 收单技术组's prompt did not run: it was not announced
    finally:
        scheduler.shutdown(wait=True)
        acquiring.engine.dispose()
