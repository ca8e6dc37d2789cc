"""Scheduling bench on a real PostgreSQL, with real bot processes (bench/schedule_proc.py).

    ZHOUBAO_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/schedule_bench.py

1. How late the publish job fires after its due time (median and max over --runs processes).
2. 1,000 owners prompted by one instance, then by two sharing the database: exactly 1,000 prompts
   each time, and two instances no slower than 1.1x one.

Each process starts its own clock a few seconds before the job (time-machine), so the real APScheduler
fires it; times are read from the fake platform's file, stamped by the process's clock.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROC = ROOT / "bench" / "schedule_proc.py"


def scratch_db(admin: str) -> tuple[str, str]:
    from storage.db import normalize_url

    admin = normalize_url(admin)
    name = f"zhoubao_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin, make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_db(admin: str, url: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def lines(path: Path, kind: str) -> list[list[str]]:
    if not path.exists():
        return []
    return [p for p in (ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()) if p[0] == kind]


def run(db: str, out: Path, travel: datetime, count: int, kind: str, *extra: str, timeout: float = 120) -> None:
    """Start `count` processes at `travel`, wait for the job's messages, stop them."""
    procs = [subprocess.Popen([sys.executable, str(PROC), "--db", db, "--out", str(out), "--travel",
                               travel.isoformat(), *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, cwd=ROOT) for _ in range(count)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().startswith("ready")
        end = time.monotonic() + timeout
        want = 1 if kind == "report" else int(extra[extra.index("--owners") + 1])
        while len(lines(out, kind)) < want and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(1.0)  # a duplicate would show up here
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)


def bench_publish(admin: str, runs: int) -> None:
    lags = []
    for i in range(runs):
        admin, db = scratch_db(admin)
        try:
            due = datetime.fromisoformat("2024-06-28T17:00:00+08:00") + timedelta(weeks=i)
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "chat.log"
                run(db, out, due - timedelta(seconds=2), 1, "report")
                reports = lines(out, "report")
                assert len(reports) == 1, f"{len(reports)} reports"
                lags.append(float(reports[0][4]) - due.timestamp())
        finally:
            drop_db(admin, db)
    print(f"publish fired after its due time: median {statistics.median(lags):.3f} s, max {max(lags):.3f} s "
          f"over {runs} runs (target: within 1 s) — includes compiling and posting the report")


def bench_prompts(admin: str, owners: int) -> None:
    took = {}
    for count in (1, 2):
        admin, db = scratch_db(admin)
        try:
            due = datetime.fromisoformat("2024-06-27T10:00:00+08:00")
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "chat.log"
                run(db, out, due - timedelta(seconds=6), count, "prompt", "--owners", str(owners))
                prompts = lines(out, "prompt")
                distinct = len({p[1] for p in prompts})
                took[count] = max(float(p[4]) for p in prompts) - due.timestamp()
                print(f"{count} instance(s): {len(prompts)} prompts to {distinct} owners in {took[count]:.2f} s "
                      f"(senders: {len({p[3] for p in prompts})} process(es))")
                assert len(prompts) == owners == distinct
        finally:
            drop_db(admin, db)
    print(f"two instances / one: {took[2] / took[1]:.2f}x (target <= 1.10x)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--owners", type=int, default=1000)
    args = ap.parse_args()
    admin = os.environ.get("ZHOUBAO_BENCH_POSTGRES_URL") or os.environ.get("ZHOUBAO_TEST_POSTGRES_URL")
    if not admin:
        print("set ZHOUBAO_BENCH_POSTGRES_URL to an admin PostgreSQL URL", file=sys.stderr)
        return 2
    bench_publish(admin, args.runs)
    bench_prompts(admin, args.owners)
    return 0


if __name__ == "__main__":
    sys.exit(main())
