"""Get-or-create of weeks is safe when threads (or instances) race to create the same week."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from storage.db import make_engine, session_factory, transaction, upgrade
from storage.directory import Directory


def test_concurrent_ensure_week_creates_one_row(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    db = session_factory(engine)
    with transaction(db) as s:
        team_id = Directory(s).ensure_team("t", datetime.now(UTC)).id
    ids: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        try:
            start.wait()
            with transaction(db) as s:
                ids.append(Directory(s).ensure_week(team_id, "2024-W26").id)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(ids) == 8 and len(set(ids)) == 1
