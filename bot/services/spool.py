"""What arrives while the database is down: kept durably in a local spool, stored when it returns.

`Spool` is the file mechanics: one fsync'd JSON-lines file per process (`<folder>/<instance>.jsonl`),
replayed in order by `drain(store)` — this process's file and those left by dead processes. A record is
removed from its file only after `store` returned, so a crash in between replays it; `store` must
therefore ignore what it already stored. The inbound journal (`bot/services/journal.py`) spools any
platform payload this way; `AnswerSpool` is the older answers-only use, kept for the console harness.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.services.chat import Inbound, Reply
from bot.text.catalogue import say
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.services.inbox import Inbox

log = logging.getLogger("zhoubao.spool")

Record = dict[str, Any]


def kept_text(locale: str) -> str:
    return say(locale, "answer.kept")


class Spool:
    """An append-only, fsync'd record file per process, drained in order into the database."""

    def __init__(self, folder: Path, instance: str) -> None:
        self.folder = folder
        self.path = folder / f"{instance.replace(':', '_').replace('/', '_')}.jsonl"
        self._lock = threading.Lock()

    def keep(self, record: Record) -> None:
        """Append one record; on return it is on disk (fsync'd)."""
        self.keep_many([record])

    def keep_many(self, records: list[Record]) -> None:
        """Append records in order with one fsync; on return they are on disk."""
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())

    def pending(self) -> int:
        """Records kept in every spool file of the folder, not stored yet."""
        if not self.folder.exists():
            return 0
        return sum(len([ln for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()])
                   for p in self.folder.glob("*.jsonl"))

    def drain(self, store: Callable[[Record], None]) -> int:
        """Hand every kept record to `store`, oldest first; returns how many. Stops at the first outage."""
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
                        store(json.loads(line))
                        replayed += 1
                except DatabaseUnavailable:
                    pass
                finally:
                    # Keep what was not stored yet; a crash between store and this rewrite only replays
                    # records already stored, which store ignores.
                    if replayed:
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
        return done


class AnswerSpool:
    """Answers only: `receive(inbound)` stores it, or spools it while the database is down.

    A drainer thread replays the spool through `inbox.receive`, which ignores a (platform, source id)
    it already stored, so a replay twice stores once."""

    def __init__(self, inbox: Inbox, folder: Path, instance: str) -> None:
        self.inbox = inbox
        self.spool = Spool(folder, instance)
        self.folder, self.path = folder, self.spool.path
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
        self.spool.keep({**asdict(msg), "at": msg.at.isoformat()})

    def pending(self) -> int:
        return self.spool.pending()

    def drain(self) -> int:
        """Store every spooled answer; returns how many were replayed. Stops at the first outage."""
        def store(data: Record) -> None:
            number = data.pop("item_number", None)  # spooled before the inbox read the `[n]` itself
            text = f"[{number}] {data['text']}" if number is not None else data["text"]
            self.inbox.receive(Inbound(**{**data, "text": text, "at": datetime.fromisoformat(data["at"])}))

        done = self.spool.drain(store)
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
