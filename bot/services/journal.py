"""The inbound journal: every platform payload is durable before the platform is answered.

An adapter's ack path calls `InboundJournal.record(platform, key, kind, payload)` and answers the
platform only after it returned: the payload is then a row of `inbound_journal`, or, with the database
down or its lock held by another writer past `ACK_LOCK_WAIT`, a line of the fsync'd spool
(`bot/services/spool.py`). A worker thread processes the journal in
arrival order through the handler the adapter registered for its platform — the same translation code
on first delivery and on replay after a restart — and marks each entry processed.

Exactly once: the journal's unique (platform, dedupe key) drops redeliveries; an entry is marked
processed after its handler returned, and a crash in between replays it, which changes nothing because
every core effect is idempotent by its source id (a message, form or incident already stored by that id
is not stored again, an edit to the same text or a second deletion is a no-op). Order: one worker; while
anything is spooled, new entries are spooled behind it, and the spool is drained before the table is
processed. Several processes on one PostgreSQL: only the holder of an advisory lock processes.

Acks first: Slack and Feishu want an answer within 3 seconds (see docs/deploy.md), while
processing has no deadline. So while acks are being recorded, the worker waits between entries until
no ack has been in progress for `ACK_QUIET`, but for at most `ACK_DEFER_MAX` in one pass over the
journal: a burst of acks is answered first, then processed, and under sustained load the worker still
keeps up (it defers once per pass, then works until the journal is empty). Measured in
`bench/slack_ack.py`: processing beside a burst made its acks about 1.4× slower than a bare Bolt app's.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.services.context import Context
from bot.services.spool import Record, Spool
from storage.db import DatabaseUnavailable, leader_lock, transaction
from storage.journal import Journal

log = logging.getLogger("zhoubao.journal")

MAX_ATTEMPTS = 3  # a payload that fails this often (a bug, not an outage) is given up and logged
ACK_QUIET = 0.01  # seconds with no ack in progress before the worker takes its next entry
ACK_DEFER_MAX = 0.5  # the most the worker waits for quiet in one pass over the journal
# The most an ack's journal write waits for another writer's lock (a long import or a backup holding
# SQLite's write lock, a lock on the PostgreSQL table) before it keeps the payload in the spool instead:
# an 8 s lock held Slack's acks 8.1 s (issue 20 item 13), past Slack's 3 s.
ACK_LOCK_WAIT = 0.5


@dataclass(frozen=True)
class Entry:
    """One journaled payload as its handler sees it."""

    platform: str
    key: str
    kind: str
    payload: dict[str, Any]
    received_at: datetime
    id: int = 0


Handler = Callable[[Entry], None]


class NotNow(Exception):
    """Raised by a handler whose entry cannot be processed yet for a passing reason: a platform lookup it
    needs failed (a timeout, a 5xx, a 429 past its retries). The worker keeps the entry and processes it
    again on a later pass, without counting a failed attempt: answering it as if processed would lose an
    acknowledged payload (issue 20 item 17)."""


class MalformedPayload(ValueError):
    """Raised by a handler for a payload whose shape it cannot use: the journal logs one line (the reason and
    `ref`, the platform's id for the payload) and marks the entry processed, since a retry cannot help."""

    def __init__(self, reason: str, ref: str = "") -> None:
        super().__init__(reason)
        self.reason, self.ref = reason, ref

    def log(self, platform: str, key: str) -> None:
        """The one line (no traceback) saying the payload was acknowledged and dropped, and why."""
        log.warning("%s payload %s acknowledged and dropped: %s", platform, self.ref or key, self.reason,
                    extra={"platform": platform, "key": key, "ref": self.ref, "reason": self.reason})


@dataclass
class _Pending:
    """One `record` call waiting for its batch to be written."""

    platform: str
    key: str
    kind: str
    payload: str
    at: datetime
    done: bool = False
    new: bool = False
    error: Exception | None = None
    # Set when the item's batch is written, or when it is its turn to write the next batch (then
    # `done` is still False). One event per item: waking only the callers concerned, not every waiter.
    wake: threading.Event = field(default_factory=threading.Event)


class InboundJournal:
    def __init__(self, ctx: Context, engine: Engine, spool: Spool | None = None, *,
                 ack_defer_max: float = ACK_DEFER_MAX) -> None:
        self.ctx = ctx
        self.engine = engine
        self.spool = spool
        self._handlers: dict[str, Handler] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._spooled = spool.pending() > 0 if spool is not None else False
        self._order = threading.Lock()  # spooling and the spool drain, one at a time
        self._writer = threading.Lock()  # group commit: guards the queue and who writes
        self._queue: list[_Pending] = []
        self._writing = False  # a caller is writing a batch (or has just been handed the next one)
        self._thread: threading.Thread | None = None
        self._acks = threading.Condition()  # the ack path's activity, which the worker defers to
        self._acking = 0
        self._last_ack = 0.0
        self.ack_defer_max = ack_defer_max
        self.deferring = False  # the worker is waiting for the acks in progress (observable in tests)

    # ----- the ack path --------------------------------------------------------------

    def record(self, platform: str, key: str, kind: str, payload: Mapping[str, Any]) -> bool:
        """Make `payload` durable; True when it is new, False for a redelivery of a journaled key.

        With the database down it goes to the spool (True); without a spool DatabaseUnavailable is
        raised, so the adapter answers the platform with an error and the platform redelivers.

        Concurrent calls are committed together (group commit): the first caller writes everything
        queued so far in one transaction while the others wait for it, so a burst of acks costs a few
        commits, not one each, and they reach the journal in the order they arrived."""
        with self.acking():
            return self._record(platform, key, kind, payload)

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Mark an ack in progress, so the worker waits (see "Acks first"). `record` marks itself; the
        runtime's HTTP app marks each platform request, from reading the body to the answer."""
        with self._acks:
            self._acking += 1
        try:
            yield
        finally:
            with self._acks:
                self._acking -= 1
                self._last_ack = time.monotonic()
                if self._acking == 0 and self.deferring:  # wake the worker only when it may go on
                    self._acks.notify()

    def _record(self, platform: str, key: str, kind: str, payload: Mapping[str, Any]) -> bool:
        item = _Pending(platform, key, kind, json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                        self.ctx.now())
        with self._writer:
            self._queue.append(item)
            lead = not self._writing
            self._writing = True
        if not lead:
            item.wake.wait()
        if not item.done:  # this caller writes the batch its item is in
            self._lead()
        if item.error is not None:
            raise item.error
        self._wake.set()
        return item.new

    def _lead(self) -> None:
        """Write everything queued so far as one batch, hand the next batch to the first caller queued
        meanwhile (or stop writing), then wake the batch's callers."""
        with self._writer:
            batch, self._queue = self._queue, []
        try:
            self._write(batch)
        finally:
            with self._writer:
                following = self._queue[0] if self._queue else None
                self._writing = following is not None
            if following is not None:
                following.wake.set()  # not done: it writes the next batch
            for i in batch:
                i.wake.set()

    def _write(self, batch: list[_Pending]) -> None:
        """Journal (or spool) one batch; every item ends done, with `new` or `error` set."""
        try:
            self._store(batch)
        except Exception as exc:  # handed to each waiting ack path (it answers the platform 5xx)
            for i in batch:
                i.error = exc
        finally:
            for i in batch:  # only now: a waiting ack path must not answer before its entry is durable
                i.done = True

    def _store(self, batch: list[_Pending]) -> None:
        if not self._spooled:
            try:
                with transaction(self.ctx.db, lock_wait=ACK_LOCK_WAIT) as s:
                    news = Journal(s).add_many([(i.platform, i.key, i.kind, i.payload, i.at) for i in batch])
            except DatabaseUnavailable:
                if self.spool is None:
                    raise
                log.warning("database away or locked: inbound payloads spooled", extra={"count": len(batch)})
            else:
                for i, new in zip(batch, news, strict=True):
                    i.new = new
                return
        assert self.spool is not None
        with self._order:
            self.spool.keep_many([{"platform": i.platform, "key": i.key, "kind": i.kind, "payload": i.payload,
                                   "received_at": i.at.isoformat()} for i in batch])
            self._spooled = True
        for i in batch:
            i.new = True

    def register(self, platform: str, handler: Handler) -> None:
        """The adapter's translation of its platform's payloads into core calls."""
        self._handlers[platform] = handler

    # ----- processing ----------------------------------------------------------------

    def drain_spool(self) -> int:
        """Move spooled payloads into the table, in order; returns how many. Raises nothing on an outage."""
        if self.spool is None:
            return 0

        def store(recs: list[Record]) -> None:
            # Bounded like the ack's write: acks wait for this drain (they spool behind it), so a lock
            # another writer holds ends the drain, which the next pass resumes. One transaction per chunk:
            # one each kept every ack waiting while hundreds of commits went by (bench/week.py, issue 21).
            rows = [(str(r["platform"]), str(r["key"]), str(r["kind"]), str(r["payload"]),
                     datetime.fromisoformat(str(r["received_at"]))) for r in recs]
            with transaction(self.ctx.db, lock_wait=ACK_LOCK_WAIT) as s:
                Journal(s).add_many(rows)  # a key another process journaled meanwhile is skipped

        with self._order:
            moved = self.spool.drain(store)
            self._spooled = self.spool.pending() > 0
        if moved:
            log.info("spooled inbound payloads journaled", extra={"count": moved})
        return moved

    def spooled(self) -> int:
        """Payloads kept in the spool while the database is away, not journaled yet."""
        return self.spool.pending() if self.spool is not None else 0

    def pending(self) -> int:
        """Entries not processed yet: spooled plus journaled."""
        spooled = self.spooled()
        try:
            with transaction(self.ctx.db) as s:
                return spooled + Journal(s).count_pending()
        except DatabaseUnavailable:
            return spooled

    def run_pending(self) -> int:
        """Process every unprocessed entry in arrival order; returns how many were processed.

        Stops early (leaving the rest for the next run) when the database goes away, when an entry
        failed and will be retried, or when an entry's platform has no handler in this process."""
        defer_until = time.monotonic() + self.ack_defer_max
        self._yield_to_acks(defer_until)
        self.drain_spool()
        if self._spooled:
            return 0  # the database is still away: the spooled entries come first
        done = 0
        # Entries whose handler returned, not marked processed yet: marked in the transaction that reads
        # the next entries (or, when the pass ends early, in one of their own), not one transaction each
        # (bench/week.py, issue 21). A crash before the mark replays them, which changes nothing.
        finished: list[int] = []
        with leader_lock(self.engine, "inbound_journal") as leader:
            if not leader:
                return 0
            try:
                while True:
                    self._yield_to_acks(defer_until)
                    with transaction(self.ctx.db) as s:
                        journal = Journal(s)
                        journal.done(finished, self.ctx.now())
                        finished = []
                        batch = [Entry(r.platform, r.dedupe_key, r.kind, json.loads(r.payload), r.received_at, r.id)
                                 for r in journal.pending()]
                    if not batch:
                        return done
                    for entry in batch:
                        self._yield_to_acks(defer_until)
                        if not self._process(entry, finished):
                            return done
                        done += 1
                        if self._spooled:
                            # An ack spooled (a lock held past its wait): every later ack spools behind it, in
                            # order, until the spool is drained, so drain it now rather than after the whole
                            # journal; entries drained get later ids, so arrival order holds.
                            self.drain_spool()
                            if self._spooled:
                                return done
            finally:
                if finished:
                    with transaction(self.ctx.db) as s:
                        Journal(s).done(finished, self.ctx.now())

    def _yield_to_acks(self, until: float) -> None:
        """Wait until no ack has been in progress for ACK_QUIET seconds, or until `until` (monotonic)."""
        with self._acks:
            try:
                while True:
                    now = time.monotonic()
                    # with an ack in progress, wait to be woken when the last one ends
                    wait = until - now if self._acking else min(self._last_ack + ACK_QUIET, until) - now
                    if wait <= 0:
                        return
                    self.deferring = True
                    self._acks.wait(wait)
            finally:
                self.deferring = False

    def _process(self, entry: Entry, finished: list[int]) -> bool:
        """Run one entry's handler; False when processing must pause here. An entry handled is added to
        `finished` for the caller to mark processed; one that failed is marked here."""
        handler = self._handlers.get(entry.platform)
        if handler is None:
            return False
        try:
            handler(entry)
        except (DatabaseUnavailable, NotNow):
            raise
        except MalformedPayload as exc:  # acknowledged already; nothing changed, and a retry cannot help
            exc.log(entry.platform, entry.key)
            with transaction(self.ctx.db) as s:
                Journal(s).failed(entry.id, f"malformed: {exc.reason}", self.ctx.now(), give_up=True)
            return True
        except Exception as exc:
            with transaction(self.ctx.db) as s:
                row = Journal(s).get(entry.id)
                give_up = row is not None and (row.attempts or 0) + 1 >= MAX_ATTEMPTS
                Journal(s).failed(entry.id, f"{type(exc).__name__}: {exc}", self.ctx.now(), give_up=give_up)
            if give_up:
                log.exception("inbound payload given up", extra={"platform": entry.platform, "kind": entry.kind,
                                                                 "key": entry.key, "journal_id": entry.id})
                return True
            log.warning("inbound payload failed; retrying", extra={
                "platform": entry.platform, "kind": entry.kind, "key": entry.key, "error": str(exc)})
            return False
        finished.append(entry.id)
        return True

    # ----- the worker thread -----------------------------------------------------------

    def start(self, poll: float = 1.0) -> None:
        """Process in the background until `stop()`: at once (what a previous run left), on every
        `record`, and every `poll` seconds (a retry, the database back, leadership taken over)."""
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                with self._idle:
                    self._busy = True
                try:
                    self.run_pending()
                except DatabaseUnavailable:
                    pass
                except NotNow as exc:
                    log.warning("inbound payload kept for the next pass: %s", exc)
                except Exception:
                    log.exception("inbound journal worker failed")
                finally:
                    with self._idle:
                        self._busy = False
                        self._idle.notify_all()
                self._wake.wait(poll)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="zhoubao-journal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the entry in hand, then stop (what is left is replayed on the next start)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is left to process (for tests and benches); False on timeout."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                if self.pending() == 0:
                    with self._idle:
                        if not self._busy:
                            return True
                self._wake.set()
                with self._idle:
                    self._idle.wait(0.05)
            return False
        finally:
            timer.cancel()
