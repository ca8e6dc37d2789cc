"""`zhoubao backup` / `restore`: a backup of a live SQLite database restores to the identical report."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.demo import DEMO_START, DEMO_WEEK
from bot.adapters.console.workspace import ConsoleSession
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from storage.backup import BackupError, backup_sqlite, restore_sqlite
from storage.db import make_engine, session_factory, upgrade
from storage.reports import Reports
from tests.conftest import EXAMPLE_TEAM, invoke
from tests.test_demo_week import GOLDEN, play


def stored_report(database_url: str) -> tuple[str, str]:
    """(the report as stored at publish, the report compiled again) from the database at `database_url`."""
    bot = build_bot(load_team(EXAMPLE_TEAM), ConsoleChat(io.StringIO()), VirtualClock(DEMO_START),
                    database_url=database_url)
    with session_factory(bot.engine)() as s:
        row = Reports(s).by_label(bot.ctx.team_id, DEMO_WEEK)
        assert row is not None, f"no report for {DEMO_WEEK} in {database_url}"
        stored, published = row.markdown, row.published_at
    compiled = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek.parse(DEMO_WEEK), published))
    bot.engine.dispose()
    return stored, compiled


def answers_in(path: Path) -> int:
    """Answer messages stored in the SQLite file at `path`; 0 when it does not even have the table."""
    with closing(sqlite3.connect(path)) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'answer_messages'").fetchone() is None:
            return 0
        return int(conn.execute("SELECT count(*) FROM answer_messages").fetchone()[0])


def late_answer(bot: Bot) -> None:
    session = ConsoleSession(bot, bot.ctx.chat, bot.ctx.clock, io.StringIO(), jobs=DueJobs(bot))  # type: ignore[arg-type]
    session.run(["clock +1h", "as 周杰", "机房迁移：整体进度达到了85%，生产验证提前完成"])


def test_backup_of_a_running_bot_restores_to_the_identical_report(tmp_path: Path) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    bot, chat, _ = play(live)  # the bot keeps its connections open, as a running one does
    posted = chat.channel[-1][1]
    assert posted == GOLDEN.read_text(encoding="utf-8")

    result = backup_sqlite(live, tmp_path / "backups" / "w26.db")
    assert result.path == tmp_path / "backups" / "w26.db" and result.size > 0
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["w26.db"], "one self-contained file"

    restored = restore_sqlite(result.path, tmp_path / "restored.db")
    assert restored.revision == restored.head == result.revision
    stored, compiled = stored_report(f"sqlite:///{tmp_path / 'restored.db'}")
    assert stored == posted and compiled == posted


def test_backup_holds_committed_writes_still_in_the_write_ahead_log(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    bot, _, _ = play(f"sqlite:///{live}")
    wal = live.with_name("live.db-wal")
    assert wal.exists() and wal.stat().st_size > 0, "the demo's writes are still in the log, not the main file"
    (tmp_path / "copy-of-main-file.db").write_bytes(live.read_bytes())  # what `cp live.db` would give
    in_main_file = answers_in(tmp_path / "copy-of-main-file.db")

    backup_sqlite(live, tmp_path / "b.db")
    in_backup = answers_in(tmp_path / "b.db")
    with session_factory(bot.engine)() as s:  # type: ignore[attr-defined]
        in_live = s.execute(text("SELECT count(*) FROM answer_messages")).scalar_one()
    assert in_backup == in_live > in_main_file


def test_restore_refuses_a_database_that_holds_data_and_replaces_it_with_force(tmp_path: Path) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    bot, chat, _ = play(live)
    posted = chat.channel[-1][1]
    backup_sqlite(live, tmp_path / "friday.db")
    late_answer(bot)  # newer data than the backup
    bot.engine.dispose()  # type: ignore[attr-defined]
    newer, _ = stored_report(live)
    assert "整体进度达到了85%" in newer

    with pytest.raises(BackupError) as refused:
        restore_sqlite(tmp_path / "friday.db", live)
    message = str(refused.value)
    assert "is not empty" in message and "--force" in message and "zhoubao backup" in message
    assert stored_report(live)[0] == newer, "a refused restore changes nothing"

    restore_sqlite(tmp_path / "friday.db", live, force=True)
    stored, compiled = stored_report(live)
    assert stored == compiled == posted


def test_restore_into_a_fresh_migrated_database_needs_no_force(tmp_path: Path) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    play(live)
    backup_sqlite(live, tmp_path / "b.db")
    empty = tmp_path / "new" / "zhoubao.db"
    engine = make_engine(f"sqlite:///{empty}")
    upgrade(engine)  # what a first `zhoubao db upgrade` leaves: tables, no rows
    engine.dispose()
    restore_sqlite(tmp_path / "b.db", f"sqlite:///{empty}")
    assert stored_report(f"sqlite:///{empty}")[0] == GOLDEN.read_text(encoding="utf-8")


def test_restore_refuses_files_that_are_not_zhoubao_backups(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    newer = tmp_path / "newer.db"
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0099')")
        conn.commit()
    target = tmp_path / "target.db"
    cases = {tmp_path / "missing.db": "no backup file", text_file: "not a SQLite database",
             other: "not a zhoubao one", newer: "0099, which this version of zhoubao does not know"}
    for src, expected in cases.items():
        with pytest.raises(BackupError, match=expected):
            restore_sqlite(src, target)
    assert not target.exists(), "a refused restore creates nothing"


def test_backup_never_overwrites_and_names_pg_dump_for_postgresql(tmp_path: Path) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    play(live)
    (tmp_path / "taken.db").write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="exists; choose a new file name"):
        backup_sqlite(live, tmp_path / "taken.db")
    assert (tmp_path / "taken.db").read_bytes() == b"an older backup"
    with pytest.raises(BackupError, match="no zhoubao database to back up"):
        backup_sqlite(tmp_path / "nothing.db", tmp_path / "b.db")
    with pytest.raises(BackupError, match="pg_dump"):
        backup_sqlite("postgresql://zhoubao@db:5432/zhoubao", tmp_path / "b.db")
    with pytest.raises(BackupError, match="pg_restore"):
        restore_sqlite(tmp_path / "taken.db", "postgres://zhoubao@db/zhoubao")
    with pytest.raises(BackupError, match=r"'mysql' is not supported.*sqlite.*postgresql"):
        backup_sqlite("mysql://u@h/db", tmp_path / "b.db")


# ----- the command line -----------------------------------------------------------------


def test_cli_backup_and_restore(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh / 'data' / 'zhoubao.db'}")
    assert invoke("demo").exit_code == 0
    result = invoke("backup", "backups/w26.db")
    assert result.exit_code == 0, result.output
    assert "backups/w26.db" in result.output and "revision" in result.output

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh / 'restored.db'}")
    result = invoke("restore", "backups/w26.db")
    assert result.exit_code == 0, result.output
    report = invoke("report", "--week", DEMO_WEEK)
    assert report.exit_code == 0 and report.stdout == GOLDEN.read_text(encoding="utf-8")

    again = invoke("restore", "backups/w26.db")
    assert again.exit_code == 2 and "not empty" in again.output and "--force" in again.output
    forced = invoke("restore", "backups/w26.db", "--force")
    assert forced.exit_code == 0, forced.output


def test_cli_backup_of_postgresql_says_pg_dump(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://zhoubao@127.0.0.1:1/zhoubao")
    result = invoke("backup", "b.db")
    assert result.exit_code == 2 and "pg_dump" in result.output
    assert not (fresh / "b.db").exists()
