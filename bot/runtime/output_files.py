"""Where a CLI command may write its output (`zhoubao export --output`, `zhoubao report --output`), and how.

Never onto the bot's own files: the SQLite database (and its -wal/-shm/-journal companions), the team
file, or anything inside the spool folder are refused outright, whatever the path says on its way there
(symlinks resolved, hard links compared by inode). Never over an existing file unless the caller passes
--force. Always through a temporary file in the same folder renamed into place (`os.replace`), so a
failed or interrupted write leaves the old file, or nothing, never half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# The files SQLite keeps beside a database while it is open (https://www.sqlite.org/tempfiles.html).
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class OutputRefused(Exception):
    """The output path cannot be written; str() says why and what to do."""


@dataclass(frozen=True)
class BotFiles:
    """The files and folders the bot itself owns, which no output may replace."""

    files: tuple[tuple[str, Path], ...]  # (what it is, where)
    folders: tuple[tuple[str, Path], ...]

    @classmethod
    def of(cls, database_url: str, team_file: Path, spool_dir: Path) -> BotFiles:
        """The SQLite database's files (none for PostgreSQL), the team file and the spool folder."""
        from storage.backup import BackupError, sqlite_path

        files = [("the team file", team_file)]
        try:
            db = sqlite_path(database_url)
        except BackupError:
            pass  # PostgreSQL (or no file on disk): nothing on this machine to protect
        else:
            files += [("the database", db.with_name(db.name + suffix)) for suffix in _SQLITE_COMPANIONS]
        return cls(tuple(files), (("the spool folder", spool_dir),))

    def owner_of(self, path: Path) -> str | None:
        """What of the bot's `path` is ("the database", ...), or None when it is none of them."""
        target = path.resolve()
        for what, f in self.files:
            if target == f.resolve() or _same_file(path, f):
                return what
        for what, folder in self.folders:
            where = folder.resolve()
            if target == where or where in target.parents:
                return what
        return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a hard link has another name, the same inode
    except OSError:
        return False


def check_output(path: Path, bot_files: BotFiles, *, force: bool) -> None:
    """Nothing when `path` may be written; OutputRefused when it is one of the bot's own files (whatever
    `force` says), a folder, or an existing file and `force` is not set."""
    owner = bot_files.owner_of(path)
    if owner is not None:
        raise OutputRefused(f"--output {path} is {owner} ({path.resolve()}); writing there would destroy it. "
                            "Choose another file.")
    if path.is_dir():
        raise OutputRefused(f"--output {path} is a folder; give a file name")
    if (path.exists() or path.is_symlink()) and not force:
        raise OutputRefused(f"--output {path} exists; nothing written. Use --force to replace it.")


@contextmanager
def replacing(path: Path) -> Iterator[TextIO]:
    """A text stream whose content becomes `path` once the block ends without error (written to a temporary
    file in the same folder, then renamed over `path`); on error the temporary file is removed and `path`
    is left as it was. OSError when the folder cannot be made or written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
