"""Engine, sessions and migrations for one database URL."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # Alembic (about a second to import) loads only when a migration must run
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# How services open a unit of work (`transaction(factory)`): the database library's type stays in storage.
SessionFactory: TypeAlias = sessionmaker[Session]

# How long a write waits for another writer's lock (an import, a backup) before it is an outage: SQLite's
# busy handler (the sqlite3 `timeout` and `PRAGMA busy_timeout`, https://www.sqlite.org/pragma.html#pragma_busy_timeout).
BUSY_TIMEOUT_S = 30


class DatabaseError(Exception):
    """The database cannot be used; the message says what to do."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached right now (down, restarting, network cut). Nothing was stored:
    an adapter answers the platform with an error so it redelivers, or keeps the message durably
    (`bot/spool.py`) and stores it when the database is back."""


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created, and an unwritable one is a DatabaseError."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"DATABASE_URL '{url}' is not a database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            folder = Path(db).expanduser().resolve().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the database folder {folder}: {exc.strerror}") from None
            if not _writable(folder):
                raise DatabaseError(f"the database folder {folder} is not writable; set DATABASE_URL elsewhere")
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _writable(folder: Path) -> bool:
    probe = folder / ".zhoubao-write-test"
    try:
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


_REVISION = re.compile(r"^(down_)?revision(?::[^=]*)?=\s*['\"]?([\w.-]*)['\"]?", re.M)


def head_revision() -> str:
    """The newest migration's revision, read from the version files' `revision`/`down_revision` lines
    without importing Alembic (a one-shot command on an up-to-date database then never loads it);
    tests/test_migrations.py checks it against Alembic's own `ScriptDirectory.get_current_head()`."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, name in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(name)
    heads = revisions - parents
    if len(heads) != 1:
        raise DatabaseError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _stored_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated), by plain SQL."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Apply every migration (idempotent); a database already at the head is only read."""
    try:
        if _stored_revision(engine) == head_revision():
            return
        from alembic import command

        command.upgrade(alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseError(f"cannot reach or migrate the database: {exc.orig}") from None


# Any fixed 64-bit number: every zhoubao process takes this lock to migrate and register the team.
_STARTUP_LOCK = 0x7A686F7562616F01


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Serialize start-up (migrations, team registration) across processes sharing one PostgreSQL.

    A session-level advisory lock on its own connection; dies with the process. No-op on SQLite."""
    if engine.dialect.name != "postgresql":
        yield
        return
    try:
        conn = engine.connect()
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_STARTUP_LOCK})")
    except OperationalError as exc:
        raise DatabaseError(f"cannot reach the database: {exc.orig}") from None
    try:
        yield
    finally:
        try:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_STARTUP_LOCK})")
        finally:
            conn.close()


@contextmanager
def leader_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Try to become the one process doing `name` on this database; yields whether it did.

    PostgreSQL: a session-level advisory try-lock on its own connection (released with it, or when the
    process dies). SQLite: always True (one process serves a SQLite file)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = _STARTUP_LOCK + 1 + (zlib.crc32(name.encode()) & 0xFFFF)
    try:
        conn = engine.connect()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"the database is unreachable: {exc.orig}") from exc
    try:
        # The lock lives as long as the server's backend for this connection. If the network drops it
        # without a FIN reaching the server, that backend waits on its idle socket, holding the lock, for
        # the OS's keepalive time (two hours on Linux) and no process could lead meanwhile. Per-session
        # keepalives (ordinary user settings) bring that down to about a minute. They last as long as the
        # session, so a pooled connection gets them once (`Connection.info` lives as long as the DBAPI
        # connection): the journal's worker takes this lock on every pass (bench/week.py, issue 21).
        if not conn.info.get("keepalives"):
            conn.exec_driver_sql("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; "
                                 "SET tcp_keepalives_count = 3")
            conn.commit()  # a SET in a transaction rolled back (returning to the pool does) is undone
            conn.info["keepalives"] = True
        got = bool(conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar())
        try:
            yield got
        finally:
            if got:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"the database is unreachable: {exc.orig or exc}") from exc
    finally:
        conn.close()


def migration_state(engine: Engine) -> tuple[str | None, str]:
    """(current revision, head revision)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head or ""


def session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def one_transaction(factory: SessionFactory) -> Iterator[SessionFactory]:
    """A session factory whose every `transaction` joins one outer transaction on one connection: all of it is
    committed when the block ends without error, none of it otherwise (an import of one file, all or nothing).

    The sessions' own commits do not reach the outer transaction and a rollback in any of them rolls it
    back (SQLAlchemy's default `join_transaction_mode`, "conservative_savepoint", acting as "rollback_only"
    on a connection in a transaction: docs.sqlalchemy.org/en/20/orm/session_transaction.html
    #joining-a-session-into-an-external-transaction-such-as-for-test-suites)."""
    engine = factory.kw["bind"]
    try:
        with engine.connect() as conn, conn.begin():
            if conn.dialect.name == "sqlite":
                # pysqlite defers BEGIN to the first INSERT/UPDATE, so a SAVEPOINT written first (an
                # `_insert_racing` week) would open SQLite's transaction itself and its RELEASE commit it
                # (docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-
                # transactional-ddl). Beginning here makes every savepoint nest; IMMEDIATE takes the write lock
                # now rather than failing to upgrade a read lock half-way through the file.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield sessionmaker(bind=conn, expire_on_commit=False)
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"the database is unreachable: {exc.orig or exc}") from exc


@contextmanager
def transaction(factory: SessionFactory, *, lock_wait: float | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error.

    `lock_wait`: the most seconds a statement of this unit waits for a lock another connection holds (a
    long import or a backup holding SQLite's write lock, a lock on a PostgreSQL table); past it the unit
    fails as an outage. For the ack path, which answers the platform within its 3 seconds and keeps what
    it cannot store in the spool instead of waiting.

    Raises DatabaseUnavailable when the database cannot be reached, or a lock was not had within
    `lock_wait` (the transaction did not commit)."""
    try:
        with factory() as session, session.begin():
            if lock_wait is None:
                yield session
            else:
                with _lock_wait(session, lock_wait):
                    yield session
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"the database is unreachable: {exc.orig or exc}") from exc


@contextmanager
def _lock_wait(session: Session, seconds: float) -> Iterator[None]:
    """Bound lock waits inside one transaction. PostgreSQL: `SET LOCAL lock_timeout`, which ends with the
    transaction (https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT; the
    error, SQLSTATE 55P03 lock_not_available, is an OperationalError in psycopg). SQLite: the
    connection's busy timeout, put back before the connection returns to the pool ("database is locked"
    is an OperationalError)."""
    conn = session.connection()
    millis = max(1, int(seconds * 1000))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {millis}")
        yield
        return
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA busy_timeout={millis}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
