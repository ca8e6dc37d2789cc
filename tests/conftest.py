"""Shared fixtures: a database per test on SQLite and on PostgreSQL, a fake chat port, a fixed clock.

PostgreSQL tests use ZHOUBAO_TEST_POSTGRES_URL (an admin URL; a scratch database is created per run).
Without a reachable server they skip with a visible reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import make_engine, normalize_url, upgrade
from storage.models import Base
from tests.fakes import FakeChat, FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXAMPLE_TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"
_PG_ENV = "ZHOUBAO_TEST_POSTGRES_URL"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this test run, dropped at the end."""
    admin = os.environ.get(_PG_ENV)
    if not admin:
        if _in_ci():
            pytest.fail(f"CI=true but {_PG_ENV} is not set: the PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL tests skipped: set {_PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/postgres)")
    admin = normalize_url(admin)
    name = f"zhoubao_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the reason is shown, never swallowed
        if _in_ci():
            pytest.fail(f"CI=true but PostgreSQL at {admin} is not usable: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {admin} not reachable ({type(exc).__name__})")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    yield url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a SQLite file, or the PostgreSQL scratch database emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zhoubao.db'}"
        return
    yield empty_postgres(request.getfixturevalue("postgres_url"))


def empty_postgres(url: str) -> str:
    """Migrate the scratch database and empty every table; returns `url`."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
