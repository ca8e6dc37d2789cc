"""Answers that arrive while the database is down: kept durably in a local spool, stored when it returns.

Adapters call `AnswerSpool.receive(inbound)` instead of `bot.inbox.receive(inbound)` when they have
already acknowledged the platform (Slack Socket Mode, Feishu long connection): on `DatabaseUnavailable`
the message is appended (fsync'd) to `<folder>/<instance>.jsonl` and the sender is told it will be
saved. A drainer thread replays every spool file in the folder — this process's and those left by
dead processes — through `inbox.receive`, which ignores a (platform, source id) it already stored, so
a replay twice stores once. Where the platform redelivers on an error (Slack Events API over HTTP:
non-2xx; Feishu HTTP callback: non-200), the adapter may instead let `DatabaseUnavailable` propagate.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.services.chat import Inbound, Reply
from bot.text.catalogue import say
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.services.inbox import Inbox

log = logging.getLogger("zhoubao.spool")


def kept_text(locale: str) -> str:
    return say(locale, "answer.kept")


class AnswerSpool:
    def __init__(self, inbox: Inbox, folder: Path, instance: str) -> None:
        self.inbox = inbox
        self.folder = folder
        self.path = folder / f"{instance.replace(':', '_').replace('/', '_')}.jsonl"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def receive(self, msg: Inbound) -> Reply | None:
        """Store the message, or keep it in the spool when the database is down; never lose it."""
        try:
            return self.inbox.receive(msg)
        except DatabaseUnavailable as exc:
            self.keep(msg)
            log.warning("answer spooled", extra={"platform": msg.platform, "source_id": msg.source_id,
                                                 "error": str(exc)})
            return Reply(kept_text(self.inbox.ctx.locale), ok=True)

    def keep(self, msg: Inbound) -> None:
        record = {**asdict(msg), "at": msg.at.isoformat()}
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def pending(self) -> int:
        if not self.folder.exists():
            return 0
        return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in self.folder.glob("*.jsonl"))

    def drain(self) -> int:
        """Store every spooled answer; returns how many were replayed. Stops at the first outage."""
        done = 0
        if not self.folder.exists():
            return 0
        for path in sorted(self.folder.glob("*.jsonl")):
            with self._lock, open(path, "r+", encoding="utf-8") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # another process is draining (or writing) it
                lines = [ln for ln in f.read().splitlines() if ln.strip()]
                replayed = 0
                try:
                    for line in lines:
                        data = json.loads(line)
                        self.inbox.receive(Inbound(**{**data, "at": datetime.fromisoformat(data["at"])}))
                        replayed += 1
                except DatabaseUnavailable:
                    pass
                finally:
                    # Keep what was not stored yet; a crash between receive and this rewrite only replays
                    # messages that are already stored, which receive ignores.
                    f.seek(0)
                    f.truncate()
                    f.write("".join(ln + "\n" for ln in lines[replayed:]))
                    f.flush()
                    os.fsync(f.fileno())
                done += replayed
                if replayed < len(lines):
                    return done
            if path.stat().st_size == 0 and path != self.path:
                path.unlink(missing_ok=True)
        if done:
            log.info("spooled answers stored", extra={"count": done})
        return done

    def start(self, every: float = 5.0) -> None:
        """Drain in the background until `stop()`."""
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.drain()
                except Exception:
                    log.exception("spool drain failed")
        self._thread = threading.Thread(target=loop, name="zhoubao-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
