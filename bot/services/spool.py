"""What arrives while the database is down: kept durably in a local spool, stored when it returns.

`Spool` is the file mechanics: one fsync'd JSON-lines file per process (`<folder>/<instance>.jsonl`),
replayed in order by `drain(store)` — this process's file and those left by dead processes. A record is
removed from its file only after `store` returned, so a crash in between replays it; `store` must
therefore ignore what it already stored. Its one user is the inbound journal (`bot/services/journal.py`),
which spools platform payloads this way.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storage.db import DatabaseUnavailable

log = logging.getLogger("zhoubao.spool")

Record = dict[str, Any]


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

    def drain(self, store: Callable[[list[Record]], None], chunk: int = 500) -> int:
        """Hand every kept record to `store`, oldest first, up to `chunk` at a time (so the database takes
        them in a few transactions, not one each); returns how many. Stops at the first outage."""
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
                    while replayed < len(lines):
                        batch = lines[replayed:replayed + chunk]
                        store([json.loads(ln) for ln in batch])
                        replayed += len(batch)
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
