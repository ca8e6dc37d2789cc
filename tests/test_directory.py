"""Get-or-create of weeks is safe when another thread or instance creates the same week first."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, session_factory, transaction, upgrade
from storage.directory import Directory
from storage.models import WeekRow


class RacedDirectory(Directory):
    """Its first look finds nothing, and meanwhile another instance creates the week: the race, on cue."""

    def __init__(self, session: Session, other: sessionmaker[Session]) -> None:
        super().__init__(session)
        self.other = other
        self.raced = False

    def week(self, team_id: int, label: str) -> WeekRow | None:
        if not self.raced:
            self.raced = True
            with transaction(self.other) as s:
                Directory(s).ensure_week(team_id, label)
            return None
        return super().week(team_id, label)


def test_ensure_week_keeps_the_row_another_instance_created_first(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    db = session_factory(engine)
    with transaction(db) as s:
        team_id = Directory(s).ensure_team("t", datetime.now(UTC)).id
    with transaction(db) as s:
        d = RacedDirectory(s, db)
        week = d.ensure_week(team_id, "2024-W26")
        assert d.raced and week.label == "2024-W26"
    with transaction(db) as s:
        assert s.scalar(select(func.count()).select_from(WeekRow)) == 1


def test_a_week_keeps_the_time_it_was_first_opened(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    db = session_factory(engine)
    first, later = datetime(2024, 6, 27, 2, tzinfo=UTC), datetime(2024, 6, 28, 9, tzinfo=UTC)
    with transaction(db) as s:
        team_id = Directory(s).ensure_team("t", first).id
        Directory(s).open_week(team_id, "2024-W26", first)
    with transaction(db) as s:
        assert Directory(s).open_week(team_id, "2024-W26", later).opened_at == first
    with transaction(db) as s:
        row = Directory(s).week(team_id, "2024-W26")
        assert row is not None and row.opened_at == first
    engine.dispose()
