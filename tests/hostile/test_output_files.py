"""No file is clobbered (issue 20 item 10): `zhoubao export --output` and `zhoubao report --output` refuse the
bot's own files outright and an existing file unless --force, and write through a temporary file renamed
into place. The probe turned a 1.2 GB SQLite database into 69 bytes of JSON with `export --output`."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_TEAM, invoke
from tests.test_import import GOLDEN

EXPORT = ("export", "--from", "2024-W25", "--to", "2024-W27", "--format", "json")
REPORT = ("report", "--week", "2024-W26")


@pytest.fixture
def stored(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder with a SQLite database holding the example week, the team file copied in and a spool."""
    team = fresh / "team.yaml"
    team.write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    (fresh / "spool").mkdir()
    (fresh / "spool" / "0001.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh / 'zhoubao.db'}")
    monkeypatch.setenv("TEAM_FILE", str(team))
    monkeypatch.setenv("SPOOL_DIR", str(fresh / "spool"))
    result = invoke("import", str(GOLDEN))
    assert result.exit_code == 0, result.output
    return fresh


def weeks_in(db: Path) -> list[str]:
    """The stored week labels, read with the sqlite3 module: the file is still a database."""
    with sqlite3.connect(db) as conn:
        return [label for (label,) in conn.execute("SELECT label FROM weeks")]


def contents(db: Path) -> list[str]:
    """Everything the database holds, as SQL (its bytes move when SQLite checkpoints its write-ahead log into
    the file, which any connection's close may do, so they are no measure of an overwrite)."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_export_onto_the_live_database_is_refused_and_the_database_still_opens(stored: Path) -> None:
    db = stored / "zhoubao.db"
    before = contents(db)
    for target in ("zhoubao.db", "./data/../zhoubao.db", "zhoubao.db-wal"):
        for force in ((), ("--force",)):
            result = invoke(*EXPORT, "--output", target, *force)
            assert result.exit_code == 2, (target, result.output)
            assert "is the database" in result.output and "Traceback" not in result.output, result.output
    assert contents(db) == before
    assert weeks_in(db) == ["2024-W26"]
    assert invoke(*REPORT).exit_code == 0


def test_a_symlink_or_hard_link_to_the_database_is_refused_too(stored: Path) -> None:
    (stored / "out.json").symlink_to(stored / "zhoubao.db")
    os.link(stored / "zhoubao.db", stored / "copy.json")
    for target in ("out.json", "copy.json"):
        result = invoke(*EXPORT, "--output", target, "--force")
        assert result.exit_code == 2 and "is the database" in result.output, result.output
    assert weeks_in(stored / "zhoubao.db") == ["2024-W26"]


@pytest.mark.parametrize(("target", "says"), [
    ("team.yaml", "is the team file"),
    ("spool/0001.json", "is the spool folder"),
    ("spool/new.json", "is the spool folder"),
])
@pytest.mark.parametrize("command", [EXPORT, REPORT], ids=["export", "report"])
def test_the_team_file_and_the_spool_are_refused_even_with_force(stored: Path, target: str, says: str,
                                                                 command: tuple[str, ...]) -> None:
    before = {p: p.read_bytes() for p in [stored / "team.yaml", *sorted((stored / "spool").iterdir())]}
    result = invoke(*command, "--output", target, "--force")
    assert result.exit_code == 2 and says in result.output, result.output
    assert {p: p.read_bytes() for p in [stored / "team.yaml", *sorted((stored / "spool").iterdir())]} == before


@pytest.mark.parametrize("command", [EXPORT, REPORT], ids=["export", "report"])
def test_an_existing_file_is_refused_without_force_and_replaced_with_it(stored: Path,
                                                                        command: tuple[str, ...]) -> None:
    mine = stored / "notes.txt"
    mine.write_text("my notes", encoding="utf-8")
    result = invoke(*command, "--output", "notes.txt")
    assert result.exit_code == 2 and "notes.txt exists; nothing written. Use --force" in result.output, result.output
    assert mine.read_text(encoding="utf-8") == "my notes"
    result = invoke(*command, "--output", "notes.txt", "--force")
    assert result.exit_code == 0, result.output
    assert "2024-W26" in mine.read_text(encoding="utf-8")
    assert sorted(p.name for p in stored.iterdir() if p.name.endswith(".part")) == [], "no temporary file left"


def test_a_file_per_week_is_not_written_over_an_existing_one_without_force(stored: Path) -> None:
    (stored / "weeks").mkdir()
    (stored / "weeks" / "2024-W26.md").write_text("kept", encoding="utf-8")
    result = invoke("export", "--from", "2024-W25", "--to", "2024-W27", "--output", "weeks")
    assert result.exit_code == 2 and "2024-W26.md exists" in result.output, result.output
    assert (stored / "weeks" / "2024-W26.md").read_text(encoding="utf-8") == "kept"
    assert invoke("export", "--from", "2024-W25", "--to", "2024-W27", "--output", "weeks", "--force").exit_code == 0
    assert (stored / "weeks" / "2024-W26.md").read_text(encoding="utf-8").startswith("# 2024-W26")
    result = invoke("export", "--from", "2024-W25", "--to", "2024-W27", "--output", "spool")
    assert result.exit_code == 2 and "is the spool folder" in result.output, result.output
