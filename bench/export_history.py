"""Does exporting five years of weeks hold more in memory than exporting one week?

Target (issue 12): `zhoubao export` streams week by week, so for a team of 200 items with 260 weeks
stored, the peak memory of exporting all 260 weeks is within 1.3x of exporting one week, in every
format (md, json, csv). The database is filled as `bench.compile_history` fills its "history" one
(258 older weeks bulk-inserted in the shape the services store them, then two weeks through the real
services); what is measured is `write_export`, the function behind `zhoubao export`, writing into a
sink that only counts characters, so the output itself is not held.

    python -m bench.export_history [--sqlite-only] [--postgres URL] [--weeks 260] [--items 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from rich.table import Table
from sqlalchemy.engine import make_url

from bench.compile_history import (
    PG_DEFAULT,
    PG_ENV,
    TARGET,
    console,
    fill,
    postgres_urls,
    reachable,
    sqlite_urls,
    synthetic_team,
)
from bot.domain.weeks import IsoWeek
from bot.runtime.cli_history import write_export
from bot.services.exporting import Exporter

LIMIT = 1.3
FORMATS = ("md", "json", "csv")


class CountingSink(io.TextIOBase):
    """Stands in for stdout: counts what is written and keeps none of it."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def run_export(exporter: Exporter, first: IsoWeek, last: IsoWeek, fmt: str) -> tuple[int, int]:
    """(weeks written, characters written) for one export to the counting sink."""
    sink = CountingSink()
    weeks = write_export(exporter, first, last, fmt, sink)
    return weeks, sink.chars


def measure(exporter: Exporter, first: IsoWeek, fmt: str, runs: int, warm_from: IsoWeek) -> dict[str, Any]:
    # Warm-up, the same for every case: every week once, so templates, compiled SQL and the
    # interpreter's bounded caches are as a long export leaves them before anything is traced.
    run_export(exporter, warm_from, TARGET, fmt)
    peaks, times, out = [], [], (0, 0)
    for _ in range(runs):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        out = run_export(exporter, first, TARGET, fmt)
        times.append(time.perf_counter() - t0)
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()
    return {"weeks": out[0], "chars": out[1], "peak": statistics.median(peaks), "time": statistics.median(times)}


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(prog="python -m bench.export_history", description=doc.split("\n\n")[0])
    ap.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--postgres", metavar="URL", help=f"admin URL (default: ${PG_ENV}, else {PG_DEFAULT})")
    ap.add_argument("--weeks", type=int, default=260, help="weeks stored (default 260)")
    ap.add_argument("--items", type=int, default=200, help="report items in the team (default 200)")
    ap.add_argument("--runs", type=int, default=3, help="tracemalloc runs per case (median; default 3)")
    args = ap.parse_args(argv)
    if args.weeks < 3:
        ap.error("--weeks must be at least 3")

    team = synthetic_team(args.items)
    first = TARGET
    for _ in range(args.weeks - 1):
        first = first.previous()
    console.print(f"team: {len(team.items)} items; {args.weeks} weeks stored, {first.label} to {TARGET.label}")
    backends: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [("sqlite", sqlite_urls)]
    if not args.sqlite_only:
        admin = args.postgres or os.environ.get(PG_ENV) or PG_DEFAULT
        why = reachable(admin)
        if why is None:
            backends.append(("postgresql", lambda: postgres_urls(admin)))
        else:
            shown = make_url(admin).render_as_string(hide_password=True)
            console.print(f"[yellow]PostgreSQL skipped: {shown} not reachable ({why})[/]")
            if args.postgres:
                return 2

    table = Table(title=f"export: all {args.weeks} weeks vs one week ({TARGET.label}); tracemalloc peak, "
                        f"median of {args.runs}")
    for col in ("backend", "format", "weeks", "output chars", "peak KiB", "seconds", "peak all/one"):
        table.add_column(col, justify="left" if col in ("backend", "format") else "right")
    ok = True
    with ExitStack() as scratch:
        for backend, urls in backends:
            t0 = time.perf_counter()
            history, _single = fill(scratch.enter_context(urls()), backend, team, args.weeks)
            console.print(f"filled {backend} in {time.perf_counter() - t0:.1f}s")
            exporter = Exporter(history.bot.ctx, history.bot.week_report)
            for fmt in FORMATS:
                one = measure(exporter, TARGET, fmt, args.runs, first)
                every = measure(exporter, first, fmt, args.runs, first)
                ratio = every["peak"] / one["peak"]
                passed = ratio <= LIMIT and every["weeks"] == args.weeks and one["weeks"] == 1
                ok &= passed
                for name, r in (("one", one), ("all", every)):
                    table.add_row(backend, f"{fmt} ({name})", str(r["weeks"]), f"{r['chars']:,}",
                                  f"{r['peak'] / 1024:,.0f}", f"{r['time']:.2f}",
                                  (f"{ratio:.2f}× " + ("[green]PASS[/]" if passed else "[red]FAIL[/]"))
                                  if name == "all" else "", end_section=name == "all")
            history.bot.engine.dispose()
            _single.bot.engine.dispose()
    console.print(table)
    console.print(f"PASS when the peak of exporting every week is at most {LIMIT}× that of one week. Peak is "
                  "Python allocations during the export (tracemalloc), not process RSS; output goes to a sink "
                  "that keeps nothing, as a file or pipe would.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
