"""Migrations build the schema from empty, and the models match them exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import head_revision, make_engine, migration_state, upgrade
from storage.models import Base
from tests.conftest import empty_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty SQLite file (the suite's other tests start from a migrated copy), or the PostgreSQL scratch
    database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zhoubao.db'}"
        return
    yield empty_postgres(request.getfixturevalue("postgres_url"))


def test_upgrade_from_empty_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    current, head = migration_state(engine)
    assert current == head and head
    # the head read without Alembic (so an up-to-date database never imports it) is Alembic's own
    assert head_revision() == head
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diff if not _search_object(d)] == []


def _search_object(diff: object) -> bool:
    """The dialect-specific search index (FTS5 tables, pg_trgm indexes) is made by migration 0003 alone."""
    obj = diff[1] if isinstance(diff, tuple) and len(diff) > 1 else None
    return str(getattr(obj, "name", "")).startswith("search_")


def test_week_scoped_tables_have_a_team_week_index(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    insp = inspect(engine)
    for table in ("prompts", "answer_messages", "answer_revisions", "contributions", "entries",
                  "bank_statuses", "metric_values", "incidents", "reports"):
        cols = [tuple(ix["column_names"][:2]) for ix in insp.get_indexes(table)]
        cols += [tuple(uc["column_names"][:2]) for uc in insp.get_unique_constraints(table)]
        assert ("team_id", "week_id") in cols, table
