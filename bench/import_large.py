"""How much memory does `zhoubao import` of a large report file take, and how much does the database grow?

Target (issue 20 item 12): importing a 50 MB report file peaks within a few hundred MB of RSS and the
database grows by about what the file holds (the probe saw 1.85 GB peak and 730 MB of growth). The file is
the example report (tests/golden) once per week for the last `--weeks` weeks, each week's PCI DSS answer
padded so the whole file is `--mb` MB; it is imported by the real `zhoubao import` in a child process into
a fresh SQLite database, and the child's peak RSS (getrusage) and the database's growth (file, -wal and
-shm) are printed.

    python -m bench.import_large [--mb 50] [--weeks 250] [--format md|json]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.weeks import IsoWeek

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "report_2024-W26.zh-CN.md"
TEAM = ROOT / "bot" / "examples" / "team.yaml"
PADDED = "本周完成差距分析与整改清单"


def write_file(path: Path, mb: float, weeks: int) -> int:
    """The example report once per week up to last week, padded to `mb` MB in all; returns its size."""
    golden = GOLDEN.read_text(encoding="utf-8")
    last = IsoWeek.of(datetime.now(ZoneInfo("Asia/Shanghai"))).previous()
    labels = [last]
    while len(labels) < weeks:
        labels.append(labels[-1].previous())
    per_week = int(mb * 1_000_000 / weeks)
    filler = "，整改项逐条核对留痕" * max(0, (per_week - len(golden.encode())) // len("，整改项逐条核对留痕".encode()))
    with path.open("w", encoding="utf-8") as out:
        for n, week in enumerate(reversed(labels)):
            out.write("\n" if n else "")
            out.write(golden.replace("# 2024-W26", f"# {week.label}").replace(PADDED, PADDED + filler, 1))
    return path.stat().st_size


def database_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))
               if p.exists())


def largest(db: Path) -> list[tuple[str, float]]:
    """The five text columns holding the most bytes: where the growth went."""
    import sqlite3

    out = []
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for _, column, kind, *_ in conn.execute(f'PRAGMA table_info("{table}")'):
                if kind.upper() in ("TEXT", "VARCHAR", "JSON") or kind.upper().startswith("VARCHAR"):
                    total = conn.execute(f'SELECT SUM(LENGTH(CAST("{column}" AS BLOB))) FROM "{table}"').fetchone()[0]
                    out.append((f"{table}.{column}", (total or 0) / 1e6))
    return sorted(out, key=lambda x: -x[1])[:5]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--weeks", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhoubao-import-bench-") as scratch:
        folder = Path(scratch)
        source = folder / "reports.md"
        size = write_file(source, args.mb, args.weeks)
        db = folder / "zhoubao.db"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TEAM_FILE": str(TEAM),
               "SPOOL_DIR": str(folder / "spool")}
        for var in [v for v in env if v.startswith(("SLACK_", "FEISHU_", "DASHBOARD_"))]:
            del env[var]
        before = database_bytes(db)  # none yet: the import creates it (the empty schema is a few hundred KB)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", "from bot.runtime.cli import main; main()", "import",
                               str(source)], env=env, cwd=folder, capture_output=True, text=True)
        took = time.monotonic() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child: the import
        grown = database_bytes(db) - before
        print(f"file: {size / 1e6:.1f} MB, {args.weeks} weeks; import exit {done.returncode} in {took:.0f} s")
        print(f"peak RSS of the import: {peak_kib / 1024:.0f} MiB")
        print(f"database growth: {grown / 1e6:.1f} MB ({grown / size:.1f}x the file), of which -wal "
              f"{database_bytes(db.with_name(db.name + '-wal')) / 1e6:.1f} MB")
        print("largest columns (MB):", ", ".join(f"{name} {mb:.1f}" for name, mb in largest(db)))
        if done.returncode:
            print(done.stderr[-2000:])
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
