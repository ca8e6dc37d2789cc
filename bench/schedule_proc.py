"""One real bot process for the scheduling tests and benches: the real scheduler, a fake platform in a file.

    python bench/schedule_proc.py --db URL --out chat.log --owners 500 --travel 2024-06-27T09:59:58+08:00

`--travel` moves this process's wall clock (time-machine, ticking) so a weekly job comes due in
seconds; everything else is the production path: APScheduler with the job store in the database,
claims, catch-up. The fake platform appends one line per message to `--out` and, like Feishu's
`uuid`, ignores a second send with the same idempotency key (across processes: the file is locked).
SIGTERM stops the scheduler after the running job finishes, then exits 0.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.prompts import Prompt  # noqa: E402
from bot.domain.report import Report  # noqa: E402
from bot.domain.team import Person, Team  # noqa: E402
from bot.services.chat import MessageRef, RenderedReport  # noqa: E402

if TYPE_CHECKING:
    from bot.runtime.scheduler import Scheduler

log = logging.getLogger("zhoubao.bench.schedule_proc")


@dataclass
class FileChat:
    """A chat platform that is an append-only file: `kind<TAB>to<TAB>key<TAB>pid<TAB>unix time`."""

    path: Path
    delay: float = 0.0  # seconds per send, to make a run long enough to interrupt
    stall_after: int | None = None  # after this many messages the platform never answers again (to kill mid-run)
    platform: str = "file"
    parallel_sends: int = 1  # one line after another: a kill lands at a known message
    _keys: dict[str, str] = field(default_factory=dict)
    _pos: int = 0
    _written: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _append(self, kind: str, to: str, key: str | None) -> MessageRef:
        if self.delay:
            time.sleep(self.delay)
        if self.stall_after is not None and self._written >= self.stall_after:
            threading.Event().wait()  # a test kills the process here, at a known point of the run
        with self._lock, open(self.path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(self._pos)
            for line in f.read().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and parts[2]:
                    self._keys[parts[2]] = parts[1]
            if key and key in self._keys:  # the platform's idempotency: same key, same message
                self._pos = f.tell()
                return MessageRef(self.platform, to, f"dedup-{key}")
            f.write(f"{kind}\t{to}\t{key or ''}\t{os.getpid()}\t{time.time():.6f}\n")
            self._written += 1
            f.flush()
            os.fsync(f.fileno())
            self._pos = f.tell()
            if key:
                self._keys[key] = to
        return MessageRef(self.platform, to, f"m-{kind}-{to}-{time.time_ns()}")

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        return self._append("prompt", person.id, key)

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        return self._append("text", person.id, key)

    def display_name(self, user: str) -> str | None:
        return None

    def post_text(self, channel: str, text: str) -> MessageRef:
        return self._append("post", channel, None)

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        return [self._append("report", channel, key)]

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        self._append("update", posted[0].channel, None)
        return posted


def big_team(owners: int, schedule: dict[str, Any] | None = None) -> Team:
    """A team of `owners` people, each owning one OKR item (the first is also the editor)."""
    people = [{"id": f"p{i:04d}", "name": f"成员{i:04d}"} for i in range(1, owners + 1)]
    items = [{"name": f"目标{i:04d}", "owner": p["id"]} for i, p in enumerate(people, start=1)]
    return Team.model_validate({
        "team": {"name": f"bench-{owners}", "timezone": "Asia/Shanghai"},
        "people": people, "editors": [people[0]["id"]],
        "okrs": [{"id": "O1", "name": "目标", "items": items}],
        "schedule": schedule or {},
    })


def tail_answers(path: Path, journal: Any, stop: threading.Event) -> None:
    """The stand-in for a platform's inbound messages: one JSON answer per line, journaled as it appears
    (as an adapter's ack path does); the journal's worker stores it."""
    import json

    pos = 0
    while not stop.wait(0.05):
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as f:
            f.seek(pos)
            chunk = f.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        pos += len(complete.encode("utf-8"))
        for line in complete.splitlines():
            a = json.loads(line)
            new = journal.record("file", a["source_id"], "message", a)
            print(f"answered {a['source_id']} {'ok' if new else 'no'}", flush=True)


def stop_on_sigterm(scheduler: Scheduler, *also: Callable[[], None]) -> None:
    """On SIGTERM: stop firing, let a running job finish its sends, run `also` (e.g. spool.stop), then exit.

    A bare scheduler's stand-in for `Runtime.serve`'s shutdown (which also stops the HTTP app and the
    journal). Call from the main thread (signal handlers live there); a previous handler still runs afterwards."""
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("SIGTERM: finishing in-flight work", extra={"in_flight": scheduler.health()["in_flight"]})
        scheduler.shutdown(wait=True)
        for stop in also:
            stop()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--owners", type=int, default=8)
    ap.add_argument("--travel", help="start this process's clock here (ISO time with offset)")
    ap.add_argument("--send-delay", type=float, default=0.0)
    ap.add_argument("--stall-after", type=int, help="the platform stops answering after this many messages")
    ap.add_argument("--lease", type=float, default=60.0)
    ap.add_argument("--recover-every", type=float, default=30.0)
    ap.add_argument("--publish", default="fri 17:00")
    ap.add_argument("--prompt", default="thu 10:00")
    ap.add_argument("--inbox", type=Path, help="a file of JSON answers {user, source_id, text} to receive, tailed")
    ap.add_argument("--spool", type=Path, help="the spool folder for answers that arrive while the database is down")
    args = ap.parse_args(argv)

    if args.travel:
        import time_machine

        time_machine.travel(datetime.fromisoformat(args.travel), tick=True).start()

    from bot.runtime.composition import build_bot
    from bot.runtime.scheduler import Scheduler, SchedulerOptions

    team = big_team(args.owners, {"prompt": args.prompt, "remind": [], "publish": args.publish})
    bot = build_bot(team, FileChat(args.out, delay=args.send_delay, stall_after=args.stall_after), lambda: datetime.now(team.zone),
                    database_url=args.db)
    stop = threading.Event()
    scheduler = Scheduler(bot, SchedulerOptions(lease=timedelta(seconds=args.lease),
                                                recover_every=args.recover_every))
    scheduler.start()
    stops = [stop.set]
    if args.inbox:
        from bot.services.chat import Inbound
        from bot.services.journal import Entry, InboundJournal
        from bot.services.spool import Spool

        # The inbound journal with its spool right in --spool, so the test can count what is kept there.
        journal = InboundJournal(bot.ctx, bot.engine, Spool(args.spool or args.out.parent / "spool",
                                                             scheduler.options.instance))

        def store(entry: Entry) -> None:
            a = entry.payload
            bot.inbox.receive(Inbound(platform="file", user=a["user"], source_id=a["source_id"], text=a["text"],
                                      at=entry.received_at))

        journal.register("file", store)
        journal.start(poll=0.3)
        stops.insert(0, journal.stop)
        threading.Thread(target=tail_answers, args=(args.inbox, journal, stop), daemon=True).start()
    # Stop firing on SIGTERM, let the running job finish its sends, then exit 0 (as `Runtime.stop` does).
    stop_on_sigterm(scheduler, *stops)
    print(f"ready {os.getpid()} {datetime.now(team.zone).isoformat()}", flush=True)
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
