"""A single-team install of the last release upgrades with `zhoubao db upgrade` and behaves the same (issue 25).

`tests/golden/release-2026-11-27/` holds what that release (commit 5391a43) left in a folder after
`zhoubao init && zhoubao demo`: its team file, unchanged, and its SQLite database (gzipped). That release's
`zhoubao report --week 2024-W26 --format md` printed exactly `tests/golden/report_2024-W26.zh-CN.md`, the
seed replay's golden report. Before the fix in `storage/migrations/env.py` the upgrade failed half-way
(a batch-mode table rebuild dropped `people` while other rows referenced it) and left the database unusable.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

from tests.conftest import invoke

RELEASE = Path(__file__).resolve().parent / "golden" / "release-2026-11-27"
GOLDEN = Path(__file__).resolve().parent / "golden" / "report_2024-W26.zh-CN.md"


def _release_folder(folder: Path) -> None:
    shutil.copyfile(RELEASE / "team.yaml", folder / "team.yaml")
    (folder / "data").mkdir()
    with gzip.open(RELEASE / "zhoubao.db.gz") as packed, (folder / "data" / "zhoubao.db").open("wb") as db:
        shutil.copyfileobj(packed, db)


def _revision(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def test_the_last_release_upgrades_and_prints_the_same_report(fresh: Path) -> None:
    _release_folder(fresh)
    assert _revision(fresh / "data" / "zhoubao.db") == "0006_durable"

    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "0013_documents (head 0013_documents)" in upgraded.output
    assert _revision(fresh / "data" / "zhoubao.db") == "0013_documents"

    report = invoke("report", "--week", "2024-W26", "--format", "md")
    assert report.exit_code == 0, report.output
    assert report.output.rstrip("\n") == GOLDEN.read_text(encoding="utf-8").rstrip("\n")


def test_the_upgraded_install_keeps_working(fresh: Path) -> None:
    """After the upgrade the week goes on: an incident is filed into the release's week and listed with the
    release's own incidents, and the data its people typed is all still there."""
    _release_folder(fresh)
    assert invoke("db", "upgrade").exit_code == 0
    added = invoke("incident", "add", "--as", "zhoujie", "2024-06-28 08:00 支付网关 证书过期告警 级别：D")
    assert added.exit_code == 0, added.output
    listed = invoke("incident", "list", "--week", "2024-W26")
    assert listed.exit_code == 0, listed.output
    assert "证书过期告警" in listed.output and "招行代扣通道返回码异常" in listed.output
