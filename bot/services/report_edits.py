"""Edits of a posted report after late answers: coalesced, paced, and off the inbound path.

When an answer, an edit, a deletion, a form or an incident changes a week whose report is already in the
channel, the core asks for the post to be brought up to date (`ReportEdits.request`) and goes on, so the
journal's worker stores the next answer at once whatever the platform's chat.update pacing, a 429 with
`Retry-After`, or the CPU a recompile takes (issue 20 item 14, issue 21 item 8). The edits are made on a
thread of their own, each from the latest stored state of its week (compiled when the edit is made), at
most once every `every` seconds per week: thirty late answers in a minute are two or three edits, not
thirty. The adapters then edit only the parts whose text changed (`ChatPort.update_report`'s `previous`).

A failed edit (the platform still refusing after its retries) is tried again later, `RETRY_AFTER`
seconds on, up to `ATTEMPTS` times in a row; the answers themselves are stored whatever happens here, and
the editors were told of the refusal by the cycle. A request queued when the process stops is made
before it exits (`stop`); one lost to a crash is made by the next late answer or publish of that week.

Without a thread (`every=None`: one-shot commands, the console, tests over a fake chat) the edit is made
at once, on the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError

log = logging.getLogger("zhoubao.report_edits")

EVERY = 5.0  # default seconds between two edits of one week's post (settings: REPORT_EDIT_SECONDS)
RETRY_AFTER = 30.0  # seconds before a failed edit is tried again
ATTEMPTS = 3  # failed edits in a row before a week's edit is given up (until the next request)

# Makes the edit: returns normally when the post shows the week's stored state, raises when it does not.
Refresh = Callable[[IsoWeek, datetime], object]


class ReportEdits:
    def __init__(self, refresh: Refresh, every: float | None = EVERY, *, retry_after: float = RETRY_AFTER,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.refresh = refresh
        self.every = every
        self.retry_after = retry_after
        self.monotonic = monotonic
        self._due: dict[str, tuple[IsoWeek, datetime]] = {}  # week label -> the latest request
        self._next: dict[str, float] = {}  # week label -> the earliest its next edit may start (monotonic)
        self._failed: dict[str, int] = {}  # week label -> failed edits in a row
        self._cond = threading.Condition()
        self._running = False  # the thread is alive (it ends when nothing is due)
        self._hurry = False  # stopping: what is due goes now, without waiting for its turn
        self._stopped = False
        self.edits = 0  # edits made (tests and benches count them)

    def request(self, week: IsoWeek, at: datetime) -> None:
        """Bring `week`'s post up to date soon; returns at once (inline without a thread)."""
        if self.every is None:
            self._edit(week, at)
            return
        with self._cond:
            if self._stopped:
                log.warning("report edits stopped; edit not made", extra={"week": week.label})
                return
            self._due[week.label] = (week, at)
            self._failed.pop(week.label, None)  # news: a fresh set of attempts
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="zhoubao-report-edits", daemon=True).start()
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._due:
                        self._running = False
                        self._cond.notify_all()
                        return
                    now = self.monotonic()
                    label = min(self._due, key=lambda w: self._next.get(w, now))
                    start = self._next.get(label, now)
                    if start <= now or self._hurry:
                        break
                    self._cond.wait(start - now)
                week, at = self._due.pop(label)
                assert self.every is not None
                self._next[label] = now + self.every
            ok = self._edit(week, at)
            with self._cond:
                if ok:
                    self._failed.pop(label, None)
                    continue
                failed = self._failed[label] = self._failed.get(label, 0) + 1
                if failed < ATTEMPTS and not self._hurry:
                    self._due.setdefault(label, (week, at))  # a newer request keeps its own time
                    self._next[label] = self.monotonic() + max(self.every, self.retry_after)
                else:
                    log.error("report post not updated after %d attempts", failed, extra={"week": label})

    def _edit(self, week: IsoWeek, at: datetime) -> bool:
        try:
            self.refresh(week, at)
        except ChatError as exc:  # the platform refused: the gateway logged it, the cycle told the editors
            log.warning("report post not updated: %s", exc.reason, extra={"week": week.label})
            return False
        except Exception:
            log.exception("report post not updated", extra={"week": week.label})
            return False
        self.edits += 1
        return True

    def flush(self) -> None:
        """Make the edits that are waiting for their turn now (a test, or an operator who wants the post
        current); returns at once."""
        with self._cond:
            for label in self._due:
                self._next[label] = float("-inf")
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every requested edit has been made (tests, benches); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running, timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """Make what is due now (not waiting for its turn, up to `timeout`), then refuse more."""
        with self._cond:
            self._hurry = True
            self._cond.notify_all()
        done = self.wait_idle(timeout)
        with self._cond:
            self._stopped = True
        return done
