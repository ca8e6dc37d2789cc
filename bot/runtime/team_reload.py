"""Changing the running team without a restart: the one reload, used by the dashboard's settings page (which
writes the team file first) and by the watch on the file (a change made on disk).

A reload registers the new team's people (rows are never deleted), swaps the team every service reads
(`LiveTeam`), and has the scheduler re-read its jobs. Prompts already sent stay sent: a prompt is recorded
per (week, person, kind), so a moved prompt time reaches only the people this week's prompt has not.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.team import Team
from bot.runtime.team_file import TeamFileError, edit_team_source, load_team, parse_team
from bot.services.bot import Bot
from bot.services.context import register_team
from bot.services.team_settings import (
    SettingsConflict,
    SettingsProblem,
    SettingsRejected,
    TeamEdit,
    TeamFileView,
)

if TYPE_CHECKING:
    from bot.runtime.scheduler import Scheduler

log = logging.getLogger("zhoubao.team")


def _version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class TeamReload:
    """One team's file and the process serving it (keyed by the team: an instance holding several teams
    has one of these per team file)."""

    def __init__(self, path: Path, bot: Bot, scheduler: Scheduler | None = None) -> None:
        self.path = path
        self.bot = bot
        self.scheduler = scheduler
        self._lock = threading.RLock()  # one save or reload at a time
        self._seen = self._read_version()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def team_name(self) -> str:
        return self.bot.ctx.team.team.name

    # ----- the one reload ----------------------------------------------------------------------------

    def apply(self, team: Team) -> None:
        """Serve `team` from now on: register its people, swap it in, re-read the scheduler's jobs."""
        if team.team.name != self.team_name:
            raise SettingsRejected([SettingsProblem("team.name", f"the team is '{self.team_name}'; a running "
                                                                 "instance cannot be renamed (restart it)")])
        with self._lock:
            ctx = self.bot.ctx
            roster = register_team(ctx.db, team, ctx.now())
            ctx.live.swap(team, roster)
            jobs = self.scheduler.resync(ctx.team_id) if self.scheduler is not None else {}
        log.info("team reloaded", extra={"team": self.team_name, "people": len(team.people), "jobs": jobs})

    # ----- the settings page (TeamSettingsPort) -----------------------------------------------------------

    def current(self) -> TeamFileView:
        """The team file as it is now: what the settings page shows, and the version a save must name;
        SettingsRejected when the file cannot be read or does not validate (an edit on disk gone wrong)."""
        try:
            text = self.path.read_text(encoding="utf-8")
            return TeamFileView(parse_team(text, self.path), _version(text))
        except TeamFileError as exc:
            raise SettingsRejected([SettingsProblem(p.key, p.message) for p in exc.problems]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsRejected([SettingsProblem("", f"{self.path}: cannot read it: {exc}")]) from None

    def save(self, edit: TeamEdit, version: str, by: str) -> Team:
        """Write `edit` into the team file (comments kept) and apply it; raises SettingsRejected with each
        problem named by its field, or SettingsConflict when the file changed since `version`."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
            if _version(text) != version:
                raise SettingsConflict(str(self.path))
            try:
                new_text = edit_team_source(text, edit)
                team = parse_team(new_text, self.path)
            except TeamFileError as exc:
                raise SettingsRejected([SettingsProblem(p.key, p.message) for p in exc.problems]) from None
            except ValueError as exc:
                raise SettingsRejected([SettingsProblem("", str(exc))]) from None
            if team.team.name != self.team_name:
                raise SettingsRejected([SettingsProblem("team.name", "cannot be changed here")])
            _write(self.path, new_text)
            self._seen = _version(new_text)
            self.apply(team)
        log.info("team settings saved", extra={"team": self.team_name, "by": by})
        return team

    # ----- the watch on the file ----------------------------------------------------------------------

    def check_disk(self) -> bool:
        """Apply the team file if its content changed since it was last read or written; returns whether it
        did. A file that does not validate is logged and left: the running team stays as it was."""
        with self._lock:
            version = self._read_version()
            if version is None or version == self._seen:
                return False
            self._seen = version
            try:
                team = load_team(self.path)
                self.apply(team)
            except (TeamFileError, SettingsRejected) as exc:
                log.warning("team file changed but cannot be used; keeping the running team",
                            extra={"team": self.team_name, "problem": str(exc)})
                return False
        return True

    def watch(self, every: float) -> None:
        """Check the file every `every` seconds on a daemon thread, until `stop()`."""
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.check_disk()
                except Exception:  # the database away: the next pass tries again
                    self._seen = None
                    log.exception("team file check failed")

        self._watcher = threading.Thread(target=loop, name="zhoubao-team-file", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def _read_version(self) -> str | None:
        try:
            return _version(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None


def _write(path: Path, text: str) -> None:
    """Replace the file at once (a reader sees the old text or the new, never half), keeping its mode."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
