"""Real bot processes on the real PostgreSQL: two instances publish once; kill -9 mid-run, restart, no doubles.

Each process moves its own wall clock (time-machine) to just before a job, so the real APScheduler
fires it within seconds. The fake platform is a file (bench/schedule_proc.py).

The schedule is installed first, as an instance that ran on the Wednesday before would have left it: a
process that is still starting when its clock passes the fire time (a busy machine) then owes that run
and its catch-up sends it. Without it, a slow start would count as "installed after Thursday 10:00"
and, by design, not prompt that week at all: a test that depended on starting within one second.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.db import make_engine, session_factory
from storage.models import JobRunRow, PromptRow
from tests.conftest import PATIENCE, eventually

ROOT = Path(__file__).resolve().parents[2]
PROC = ROOT / "bench" / "schedule_proc.py"
pytestmark = pytest.mark.postgres
SHANGHAI = ZoneInfo("Asia/Shanghai")


def lines(path: Path, kind: str) -> list[list[str]]:
    if not path.exists():
        return []
    return [p for p in (ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()) if p[0] == kind]


# The bench process as it is, with APScheduler's own account of each pass over the job store on stderr:
# `_process_jobs` submits every due job, then logs "Next wakeup is due at …" (apscheduler/schedulers/base.py).
_WITH_SCHEDULER_LOG = (
    "import logging, runpy, sys; "
    "logging.basicConfig(level=logging.WARNING, format='%(name)s %(message)s'); "
    "logging.getLogger('apscheduler.scheduler').setLevel(logging.DEBUG); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
_WAKEUP = re.compile(r"Next wakeup is due at (\S+ \S+) \(in")


def looked_past(err: Path, moment: datetime) -> bool:
    """Whether the process's scheduler has made a pass after `moment`: every job due by then was submitted."""
    if not err.exists():
        return False
    return any(datetime.fromisoformat(m.group(1)) > moment for m in _WAKEUP.finditer(err.read_text(encoding="utf-8")))


def install_schedule(database: str, owners: int = 8) -> None:
    """Store the bench team's jobs as an instance running on Wednesday 2024-06-26 would have (and stop)."""
    import time_machine

    from bench.schedule_proc import big_team
    from bot.runtime.composition import build_bot
    from bot.runtime.scheduler import Scheduler
    from tests.fakes import FakeChat, FixedClock

    wednesday = datetime(2024, 6, 26, 10, 0, tzinfo=SHANGHAI)
    team = big_team(owners, {"prompt": "thu 10:00", "remind": [], "publish": "fri 17:00"})  # as the process has it
    with time_machine.travel(wednesday, tick=False):  # APScheduler computes the next fire times from here
        bot = build_bot(team, FakeChat(), FixedClock(wednesday), database_url=database)
        scheduler = Scheduler(bot)
        scheduler.start(paused=True, housekeeping=False)
        scheduler.shutdown(wait=True)
        bot.engine.dispose()


def finished_runs(database: str, job_id: str) -> int:
    engine = make_engine(database)
    try:
        with session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(JobRunRow).where(
                JobRunRow.job_id == job_id, JobRunRow.finished_at.is_not(None))) or 0
    finally:
        engine.dispose()


@pytest.fixture
def spawn(pg_database: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        err = open(tmp_path / f"proc{len(procs)}.err", "w")  # a file, so a chatty process never blocks on a pipe
        p = subprocess.Popen([sys.executable, "-c", _WITH_SCHEDULER_LOG, str(PROC), "--db", pg_database,
                              "--out", str(tmp_path / "chat.log"), *args],
                             stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT)
        err.close()
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=PATIENCE)


def ready(p: subprocess.Popen[str]) -> None:
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line.startswith("ready"), (line, p.args)


def stop(p: subprocess.Popen[str]) -> None:
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=PATIENCE) == 0, p.args


def test_two_instances_publish_once(spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path,
                                    pg_database: str) -> None:
    chat = tmp_path / "chat.log"
    install_schedule(pg_database)
    # The bot ran on Thursday (a week whose prompts never went out is not published).
    thursday = spawn("--travel", "2024-06-27T09:59:59+08:00")
    ready(thursday)
    eventually(lambda: len(lines(chat, "prompt")) >= 8, "Thursday's 8 prompts sent")
    stop(thursday)
    # Both clocks start two seconds before Friday 17:00 (Shanghai): both APSchedulers fire the publish.
    procs = [spawn("--travel", "2024-06-28T16:59:58+08:00") for _ in range(2)]
    for p in procs:
        ready(p)
    eventually(lambda: len(lines(chat, "report")) >= 1, "the report posted")
    # Both schedulers have passed 17:00 (each submitted the publish, or saw the other had), and the run is
    # finished; SIGTERM lets any submitted job finish first, so after both exit no post can still come.
    publish = datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI)
    # proc0 was Thursday's instance; the two Friday ones are proc1 and proc2.
    eventually(lambda: all(looked_past(tmp_path / f"proc{n}.err", publish) for n in (1, 2)),
               "both schedulers passed 17:00")
    eventually(lambda: finished_runs(pg_database, "zhoubao:publish") == 1, "the publish run finished")
    for p in procs:
        stop(p)
    reports = lines(chat, "report")
    assert len(reports) == 1 and reports[0][1] == "weekly-report"


def test_kill_9_during_500_prompts_then_restart_sends_exactly_500(
        spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path, pg_database: str) -> None:
    chat = tmp_path / "chat.log"
    opts = ("--owners", "500", "--send-delay", "0.004", "--lease", "2", "--recover-every", "0.5")
    install_schedule(pg_database, owners=500)
    # The first process's platform stops answering after 100 prompts, so the kill lands mid-run however
    # fast or slow the machine is.
    first = spawn("--travel", "2024-06-27T09:59:59+08:00", *opts, "--stall-after", "100")
    ready(first)
    eventually(lambda: len(lines(chat, "prompt")) >= 100, "100 prompts sent")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=PATIENCE)
    assert len(lines(chat, "prompt")) == 100  # really killed in the middle

    second = spawn("--travel", "2024-06-27T10:00:10+08:00", *opts)
    ready(second)
    eventually(lambda: len(lines(chat, "prompt")) >= 500, "all 500 prompts sent")
    # The taken-over run is finished: no instance will send for it again; SIGTERM lets anything in flight end.
    eventually(lambda: finished_runs(pg_database, "zhoubao:prompt") == 1, "the prompt run finished")
    stop(second)
    prompts = lines(chat, "prompt")
    per_owner = Counter(p[1] for p in prompts)
    assert len(prompts) == 500 and len(per_owner) == 500 and set(per_owner.values()) == {1}
    assert {p[3] for p in prompts} == {str(first.pid), str(second.pid)}  # both processes sent some
    engine = make_engine(pg_database)
    with session_factory(engine)() as s:
        sent = s.scalar(select(func.count()).select_from(PromptRow).where(PromptRow.sent_at.is_not(None)))
    engine.dispose()
    assert sent == 500


def test_database_cut_while_answers_arrive_then_every_answer_is_stored(
        spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path, pg_database: str) -> None:
    from sqlalchemy.engine import make_url

    from storage.models import AnswerMessageRow
    from tests.schedule.tcp_proxy import CuttableProxy

    url = make_url(pg_database)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    inbox, spool = tmp_path / "inbox.jsonl", tmp_path / "spool"
    engine = make_engine(pg_database)  # the test looks straight at the database, not through the proxy

    def stored() -> int:
        with session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(AnswerMessageRow)) or 0

    def spooled() -> int:
        return sum(len(p.read_text().splitlines()) for p in spool.glob("*.jsonl")) if spool.exists() else 0

    def send(first: int, last: int) -> None:
        import json
        with open(inbox, "a", encoding="utf-8") as f:
            for n in range(first, last):
                f.write(json.dumps({"user": f"p{n % 8 + 1:04d}", "source_id": f"a{n}", "text": f"进展 {n}"}) + "\n")

    try:
        bot = spawn("--db", via_proxy, "--inbox", str(inbox), "--spool", str(spool))
        ready(bot)
        send(0, 5)
        eventually(lambda: stored() == 5, "5 answers stored")
        proxy.cut()
        send(5, 15)
        # kept durably while the database is away (an answer stored just before the cut may be kept too:
        # its reply step failed; replaying it stores nothing twice)
        eventually(lambda: spooled() >= 10, "10 answers spooled")
        assert bot.poll() is None and stored() == 5  # the bot keeps running through the outage
        proxy.restore()
        eventually(lambda: stored() == 15, "15 answers stored")  # recovered by itself
        eventually(lambda: spooled() == 0, "the spool emptied")
        stop(bot)
    finally:
        proxy.close()
        engine.dispose()


def test_sigterm_mid_run_finishes_the_sends_and_exits_cleanly(
        spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path, pg_database: str) -> None:
    chat = tmp_path / "chat.log"
    install_schedule(pg_database, owners=200)
    bot = spawn("--travel", "2024-06-27T09:59:59+08:00", "--owners", "200", "--send-delay", "0.004")
    ready(bot)
    eventually(lambda: len(lines(chat, "prompt")) >= 30, "30 prompts sent")
    stop(bot)  # SIGTERM in the middle of the run: exit code 0 only after the job is done
    prompts = lines(chat, "prompt")
    assert len(prompts) == 200 and len({p[1] for p in prompts}) == 200
