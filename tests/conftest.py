"""Shared fixtures: a database per test on SQLite and on PostgreSQL, a fake chat port, a fixed clock,
the command line in a scratch folder, and the one way a test waits for something to happen.

PostgreSQL tests use ZHOUBAO_TEST_POSTGRES_URL (an admin URL; a scratch database is created per run).
Without a reachable server they skip with a visible reason (the run's header and closing lines say how to
turn them on), except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import make_engine, normalize_url, upgrade
from storage.models import Base
from tests.fakes import FakeChat, FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXAMPLE_TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"
_PG_ENV = "ZHOUBAO_TEST_POSTGRES_URL"
_PG_HOW = (f"PostgreSQL tests are skipped: set {_PG_ENV} to an admin URL, e.g. "
           f"{_PG_ENV}=postgresql://postgres@127.0.0.1:5432/postgres pytest (`make test` sets it for you)")

# How long a test waits for something it expects before calling it a hang. It bounds a hang only, never
# the speed of the machine: every wait polls an observable condition and returns as soon as it holds, so
# a busy machine makes a test slower, not red.
PATIENCE = 120.0


def eventually(condition: Callable[[], bool], what: str, *, within: float = PATIENCE) -> None:
    """Return as soon as `condition()` holds; fail naming `what` if it still does not after `within` s."""
    end = time.monotonic() + within
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"still waiting after {within:.0f} s: {what}")
        time.sleep(0.02)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# Files whose tests each take 30–90 s (a whole week through the real runtime, kill -9 runs, processes,
# generated round trips, every runnable docs block): they go first, so the workers start them early and
# the run does not end waiting on one of them (xdist hands tests out in collection order).
_LONGEST_FIRST = ("tests/test_week_bench.py", "tests/chaos/test_chaos.py", "tests/schedule/test_processes.py",
                  "tests/test_roundtrip.py", "tests/behaviour/test_week.py", "tests/test_light_start.py",
                  "tests/test_docs.py", "tests/behaviour/test_department_week.py")


# The behaviour scenarios run on SQLite over all five transports, and on PostgreSQL over one transport per
# platform (Slack's HTTP endpoint, Feishu's long connection) and the console: the transports differ only in
# the adapter, which never sees the database, and the database only in storage, which every transport reaches
# through the same journal and services. All five on PostgreSQL as well cost ~60 CPU-seconds a run.
_POSTGRES_TRANSPORTS = ("console", "slack", "feishu_ws")
_TRANSPORTS = ("console", "slack", "slack_socket", "feishu", "feishu_ws")  # tests/behaviour/conftest.PLATFORMS


def _pairing_deselects(item: pytest.Item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    transports = {v for v in params.values() if v in _TRANSPORTS}  # whatever the behaviour fixture is called
    return (item.nodeid.startswith("tests/behaviour/") and params.get("database_url") == "postgres"
            and bool(transports) and not transports <= set(_POSTGRES_TRANSPORTS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [item for item in items if _pairing_deselects(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not _pairing_deselects(item)]
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in _LONGEST_FIRST)  # stable: order kept within


def pytest_report_header(config: pytest.Config) -> str:
    admin = os.environ.get(_PG_ENV)
    return f"PostgreSQL tests: on ({_PG_ENV} is set)" if admin else _PG_HOW


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say again at the end how to run the PostgreSQL tests, when they were skipped for want of a server."""
    skipped = terminalreporter.stats.get("skipped", [])
    if any("PostgreSQL tests skipped" in str(getattr(r, "longrepr", "")) for r in skipped):
        terminalreporter.write_line(_PG_HOW if not os.environ.get(_PG_ENV) else
                                    f"PostgreSQL tests are skipped: the server at {_PG_ENV} is not reachable",
                                    yellow=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this test run, dropped at the end."""
    admin = os.environ.get(_PG_ENV)
    if not admin:
        if _in_ci():
            pytest.fail(f"CI=true but {_PG_ENV} is not set: the PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL tests skipped: set {_PG_ENV} (e.g. {_PG_ENV}=postgresql://postgres@127.0.0.1:5432/postgres)")
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


_migrated: Path | None = None


def migrated_sqlite(path: Path) -> str:
    """The URL of a new SQLite database at `path`, already at the migrations' head: a copy of one database
    this test process migrated with the real migrations (`storage.db.upgrade`), so `upgrade` only reads it.
    Running the chain costs about 0.3 s of CPU, and a run of the suite makes some 2,000 databases; the tests
    of the migrations themselves start from an empty file instead (tests/test_migrations.py)."""
    global _migrated
    if _migrated is None:
        template = Path(tempfile.mkdtemp(prefix="zhoubao-migrated-")) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()
        _migrated = template
    shutil.copyfile(_migrated, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a SQLite file, or the PostgreSQL scratch database emptied."""
    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path / "zhoubao.db")
        return
    yield empty_postgres(request.getfixturevalue("postgres_url"))


def empty_postgres(url: str) -> str:
    """Migrate the scratch database and empty every table; returns `url`."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        # A connection an earlier test left open (a process it started, a proxy it cut) may hold a session
        # lock, such as the journal's leader lock: end them all, so no test inherits another's state.
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        # DELETE, children first, and every sequence back to 1: a test leaves a few rows, and TRUNCATE of
        # every table (a new file per table) took 0.22 s of the server's time per test against 0.045 s.
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
        conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
    engine.dispose()
    return url


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))


# ----- the command line in a scratch folder ---------------------------------------------------------------

# The variables `Settings` reads (bot/runtime/settings.py and its platform and dashboard parts), cleared so
# the developer's own environment never leaks into a test.
_SETTINGS_PREFIXES = ("SLACK_", "FEISHU_", "DASHBOARD_", "AI_")
_SETTINGS_VARS = ("TEAM_FILE", "DATABASE_URL", "PORT", "HOST", "SPOOL_DIR", "LOG_LEVEL", "ZHOUBAO_CONSOLE",
                  "SCHEDULE_MISFIRE_GRACE_HOURS", "SCHEDULE_LEASE_SECONDS")


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder with no zhoubao variables in the environment: a fresh clone."""
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith(_SETTINGS_PREFIXES) or var in _SETTINGS_VARS:
            monkeypatch.delenv(var)
    with socket.socket() as probe:  # a free port: no test depends on what else this machine serves on 3000
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PORT", str(probe.getsockname()[1]))
    return tmp_path


@pytest.fixture
def workdir(fresh: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """A fresh folder whose DATABASE_URL is the test's database (SQLite, and PostgreSQL when enabled)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return fresh


def invoke(*args: str, input: str | None = None) -> Result:
    """`zhoubao *args` in this process, as typer's runner sees it (output, exit code, exception)."""
    from typer.testing import CliRunner

    from bot.runtime.cli import app  # imported when a test runs the CLI, not when conftest loads

    return CliRunner().invoke(app, list(args), input=input)


def one_line_error(result: Result) -> str:
    """The failure the operator reads: exit status 2, one line, no traceback; returns that line."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]
