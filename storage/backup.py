"""Back up and restore a SQLite database while the bot runs; PostgreSQL is backed up with pg_dump.

SQLite's online backup API (`sqlite3.Connection.backup`, https://www.sqlite.org/backup.html) copies a
consistent snapshot page by page, including what is still in the write-ahead log, while other
connections keep reading and writing. Copying the file with `cp` would miss the log and can catch a
half-written page.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.db import MIGRATIONS, normalize_url

_SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables whose rows say nothing about a team: an empty, migrated database has rows only here.
_BOOKKEEPING = frozenset({"alembic_version", "sqlite_sequence", "sqlite_stat1"})


class BackupError(Exception):
    """A backup or restore was refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """What was written: the file, its size in bytes and the migration revision it is at."""

    path: Path
    size: int
    revision: str


@dataclass(frozen=True)
class RestoreResult:
    """What was restored: the database file, the revision it is at, and the newest revision known.

    When `revision != head`, `zhoubao db upgrade` (or the next start) brings it up to date."""

    path: Path
    revision: str
    head: str


def sqlite_path(url_or_path: str | os.PathLike[str]) -> Path:
    """The file behind a `sqlite:///…` URL or a plain path.

    Raises BackupError for a PostgreSQL URL (naming pg_dump/pg_restore), another scheme, or an
    in-memory database."""
    text = os.fspath(url_or_path)
    if "://" not in text:
        return Path(text).expanduser()
    try:
        url = make_url(normalize_url(text))
    except ArgumentError as exc:
        raise BackupError(f"'{text}' is neither a file path nor a database URL: {exc}") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise BackupError(
            "DATABASE_URL is a PostgreSQL database: back it up with pg_dump and restore it with "
            "pg_restore (see docs/deploy.md, 'Backups'); zhoubao backup/restore handle SQLite files only."
        )
    if backend != "sqlite":
        raise BackupError(f"database scheme '{url.drivername}' is not supported: zhoubao stores its data in "
                          "SQLite (sqlite:///path/to/zhoubao.db) or PostgreSQL (postgresql://…)")
    db = url.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        raise BackupError(f"'{text}' is not a SQLite file on disk; give a URL like sqlite:///./data/zhoubao.db")
    return Path(db).expanduser()


def backup_sqlite(url_or_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> BackupResult:
    """Copy the SQLite database at `url_or_path` to the new file `dest`, safely while the bot runs.

    The copy is written beside `dest` and renamed into place only when complete and checked, so
    `dest` never holds half a backup. An existing `dest` is never overwritten."""
    source = sqlite_path(url_or_path)
    target = Path(dest).expanduser()
    if not _is_sqlite_file(source):
        raise BackupError(f"no zhoubao database to back up at {source}" + (
            "" if not source.exists() else " (the file is not a SQLite database)"))
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name (a backup never overwrites a file)")
    if target.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the folder {target.parent}: {exc.strerror}") from None
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(_connect(source, readonly=True)) as src, closing(sqlite3.connect(partial)) as out:
            src.backup(out)
            # One self-contained file: the copy is not in WAL mode, so no -wal file has to travel with it.
            out.execute("PRAGMA journal_mode=DELETE")
        revision = _check_zhoubao_database(partial, what=f"the copy of {source}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backing up {source} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, revision)


def restore_sqlite(src: str | os.PathLike[str], url: str | os.PathLike[str], *, force: bool = False) -> RestoreResult:
    """Bring the backup file `src` back as the SQLite database at `url` (a URL or a path).

    The backup must be a zhoubao database at a migration revision this version knows. A database
    that already holds data is replaced only with `force=True`. Stop the bot first: a running bot
    would keep writing to the database being replaced."""
    backup = Path(src).expanduser()
    target = sqlite_path(url)
    if not backup.exists():
        raise BackupError(f"no backup file at {backup}")
    if not _is_sqlite_file(backup):
        raise BackupError(f"{backup} is not a SQLite database, so not a zhoubao backup")
    revision = _check_zhoubao_database(backup, what=str(backup))
    if target.exists() and target.resolve() == backup.resolve():
        raise BackupError("the backup file is the database itself; nothing to restore")
    if not force:
        holding = _tables_with_rows(target)
        if holding:
            raise BackupError(
                f"the database at {target} is not empty (it holds {', '.join(holding[:4])}"
                f"{', …' if len(holding) > 4 else ''}); restoring would replace its data. "
                "Back it up first (zhoubao backup), stop the bot, then restore with --force."
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(_connect(backup, readonly=True)) as source, closing(sqlite3.connect(target)) as out:
            # Through the backup API rather than a file copy: it replaces the pages under SQLite's own
            # locks, so a -wal file left beside the old database cannot be replayed over the restored one.
            source.backup(out)
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror}") from None
    except sqlite3.Error as exc:
        raise BackupError(f"restoring into {target} failed: {exc}") from None
    return RestoreResult(target, revision, _head())


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        # mode=ro never creates or changes the file; WAL readers still see committed transactions.
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def _known_revisions() -> set[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return {rev.revision for rev in script.walk_revisions()}


def _head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def _check_zhoubao_database(path: Path, *, what: str) -> str:
    """The migration revision of the zhoubao database at `path`; BackupError if it is not one we know."""
    try:
        with closing(_connect(path, readonly=True)) as conn:
            status = conn.execute("PRAGMA quick_check").fetchone()
            if status is None or status[0] != "ok":
                raise BackupError(f"{what} is damaged: {status[0] if status else 'no answer'}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables:
                raise BackupError(f"{what} is a SQLite database but not a zhoubao one (no migration record)")
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} cannot be read as a SQLite database: {exc}") from None
    if len(rows) != 1:
        raise BackupError(f"{what} has no migration revision recorded; it is not a complete zhoubao database")
    revision = str(rows[0][0])
    if revision not in _known_revisions():
        raise BackupError(f"{what} is at migration revision {revision}, which this version of zhoubao does not "
                          f"know (newest known: {_head()}); it was made by a newer zhoubao: upgrade first")
    return revision


def _tables_with_rows(path: Path) -> list[str]:
    """Tables at `path` holding rows, bookkeeping aside; empty for a missing, zero-byte or fresh database."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    if not _is_sqlite_file(path):
        return [f"data that is not a SQLite database ({path.stat().st_size} bytes)"]
    with closing(_connect(path, readonly=True)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        # The search index (FTS5 shadow tables `search_*`) is derived from the team's rows, not data of its own.
        return [n for n in names if n not in _BOOKKEEPING and not n.startswith("search_")
                and conn.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone() is not None]
