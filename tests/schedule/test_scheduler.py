"""The APScheduler runner with a controllable clock: catch-up once after a restart, changed schedules,
and exactly-once runs for bots sharing one database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.domain.prompts import Prompt
from bot.domain.team import Person
from bot.runtime.scheduler import Scheduler
from bot.services.bot import Bot
from bot.services.chat import MessageRef
from storage.job_runs import JobRuns
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.schedule.conftest import team_with


class Killed(BaseException):
    """The process dying mid-job: not an Exception, so nothing on the way up catches it."""


@dataclass
class DiesAfter(FakeChat):
    """A chat port whose process is killed while sending prompt number `sends + 1`."""

    sends: int = 0

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        if len(self.of_kind("prompt")) == self.sends:
            raise Killed
        return super().send_prompt(person, prompt, key=key)

FRI_PUBLISH = datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI)


def test_missed_publish_runs_once_after_a_restart(make_bot: Callable[..., Bot],
                                                  make_scheduler: Callable[..., Scheduler]) -> None:
    team = team_with()
    clock = FixedClock(datetime(2024, 6, 28, 16, 0, tzinfo=SHANGHAI))
    bot = make_bot(team, clock)
    bot.cycle.send_prompts("prompt", datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))  # the bot ran this week
    first = make_scheduler(bot)
    assert first.catch_up() == []  # nothing owed at 16:00
    first.shutdown()  # the bot goes down before the 17:00 publish

    clock.now = datetime(2024, 6, 28, 20, 30, tzinfo=SHANGHAI)
    chat = FakeChat()
    make_scheduler(make_bot(team, clock, chat))  # start() catches up
    assert [s.to for s in chat.of_kind("report")] == [team.team.report_channel]

    clock.now += timedelta(hours=1)
    again = FakeChat()
    make_scheduler(make_bot(team, clock, again)).catch_up()  # a second restart, and a housekeeping pass
    assert again.sent == []


def test_missed_publish_beyond_the_grace_is_not_run(make_bot: Callable[..., Bot],
                                                    make_scheduler: Callable[..., Scheduler]) -> None:
    team = team_with()
    clock = FixedClock(datetime(2024, 6, 28, 16, 0, tzinfo=SHANGHAI))
    make_scheduler(make_bot(team, clock)).shutdown()
    clock.now = FRI_PUBLISH + timedelta(hours=12, minutes=1)
    chat = FakeChat()
    make_scheduler(make_bot(team, clock, chat))
    assert chat.of_kind("report") == []


def test_first_start_does_not_fire_the_past(make_bot: Callable[..., Bot],
                                            make_scheduler: Callable[..., Scheduler]) -> None:
    clock = FixedClock(FRI_PUBLISH + timedelta(hours=1))
    chat = FakeChat()
    make_scheduler(make_bot(team_with(), clock, chat))
    assert chat.sent == []


def test_changed_schedule_replaces_jobs_and_nothing_stale_fires(make_bot: Callable[..., Bot],
                                                               make_scheduler: Callable[..., Scheduler]) -> None:
    clock = FixedClock(datetime(2024, 6, 27, 9, 0, tzinfo=SHANGHAI))
    old = make_scheduler(make_bot(team_with(remind=["fri 10:00", "fri 15:00"]), clock))
    assert sorted(old.sync_jobs().values()) == ["kept"] * 4
    old.shutdown()

    clock.now = datetime(2024, 6, 28, 17, 30, tzinfo=SHANGHAI)  # after the old publish time
    chat = FakeChat()
    new_team = team_with(remind=["fri 11:00"], publish="thu 18:00")
    new = make_scheduler(make_bot(new_team, clock, chat))
    stored = {job.id.split(":", 1)[1]: job for job in new.aps.get_jobs()}
    assert sorted(stored) == ["zhoubao:prompt", "zhoubao:publish", "zhoubao:remind:1"]
    nxt = stored["zhoubao:publish"].trigger.get_next_fire_time(None, clock.now)
    assert nxt == datetime(2024, 7, 4, 18, 0, tzinfo=SHANGHAI)
    assert chat.sent == []  # neither the old Friday publish nor the new Thursday one fired from the past
    clock.now = datetime(2024, 7, 4, 18, 5, tzinfo=SHANGHAI)
    new.catch_up()
    assert len(chat.of_kind("report")) == 1


def test_two_bots_on_one_database_run_each_job_once(make_bot: Callable[..., Bot],
                                                   make_scheduler: Callable[..., Scheduler]) -> None:
    team = team_with()
    clock = FixedClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI))
    chats = [FakeChat(), FakeChat()]
    scheds = [make_scheduler(make_bot(team, clock, c)) for c in chats]
    prompt_at = datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI)
    clock.now = prompt_at
    barrier = threading.Barrier(2)

    def both(spec_id: str, at: datetime) -> None:
        def go(s: Scheduler) -> None:
            barrier.wait()
            s.fire(spec_id, at)
        threads = [threading.Thread(target=go, args=(s,)) for s in scheds]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    both("zhoubao:prompt", prompt_at)
    prompts = [s.to for c in chats for s in c.of_kind("prompt")]
    assert sorted(prompts) == sorted(team.owners())
    clock.now = FRI_PUBLISH
    both("zhoubao:publish", FRI_PUBLISH)
    for s in scheds:  # and the housekeeping catch-up of either finds nothing more to do
        s.catch_up()
    assert sum(len(c.of_kind("report")) for c in chats) == 1
    runs = JobRuns(scheds[0].bot.ctx.db).of_team(scheds[0].bot.ctx.team_id)
    # one run per job and fire time, all finished (the catch-up also ran Friday's owed reminder, once)
    assert [(r.job_id, r.finished_at is not None) for r in runs] == [
        ("zhoubao:prompt", True), ("zhoubao:remind:1", True), ("zhoubao:publish", True)]


def test_a_dead_instances_run_is_taken_over_and_nobody_is_prompted_twice(
        make_bot: Callable[..., Bot], make_scheduler: Callable[..., Scheduler]) -> None:
    team = team_with()
    clock = FixedClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI))
    dead_chat = DiesAfter(sends=3)
    dead = make_scheduler(make_bot(team, clock, dead_chat), lease=timedelta(minutes=1))
    prompt_at = datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI)
    clock.now = prompt_at
    # The instance claims the run and gets three prompts out before it is killed in the fourth send.
    with pytest.raises(Killed):
        dead.fire("zhoubao:prompt", prompt_at)
    assert len(dead_chat.of_kind("prompt")) == 3
    [run] = JobRuns(dead.bot.ctx.db).of_team(dead.bot.ctx.team_id)
    assert run.instance == dead.options.instance and run.finished_at is None
    dead.shutdown(wait=False)

    chat = FakeChat()
    alive = make_scheduler(make_bot(team, clock, chat), lease=timedelta(minutes=1))
    assert chat.sent == []  # the lease has not run out yet: the claimer may still be working
    clock.now += timedelta(minutes=2)
    alive.catch_up()
    everyone = [s.to for s in dead_chat.of_kind("prompt")] + [s.to for s in chat.of_kind("prompt")]
    assert sorted(everyone) == sorted(team.owners())
