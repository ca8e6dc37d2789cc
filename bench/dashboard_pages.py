"""How long does the dashboard take to answer, with five years stored?

Target (from the issue): with 260 weeks × 200 items stored, the server time of each page (this week, history,
an old week, search by text, by a bank's and a person's name and with filters, the publish confirmation,
trends, an item) has p95 ≤ 150 ms, on SQLite and on PostgreSQL; the trends page with 260 weeks stored takes
at most 1.3× its time with 26 weeks stored (it reads a fixed window); and a range export of every stored week
streams in flat memory: its peak (tracemalloc) at most 1.3× that of exporting one week.

Data: the synthetic 200-item team of `bench.compile_history`; older weeks bulk-inserted in the shape the
services store them, the last two weeks through the real services. Server time is one request through the
Starlette app in process (httpx's ASGI transport, signed in as the editor): routing, session, the queries,
templates and Markdown, without a network.

    python -m bench.dashboard_pages [--sqlite-only] [--postgres URL] [--weeks 260] [--window 26] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import statistics
import sys
import time
import tracemalloc
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text

from bench.compile_history import (
    PG_DEFAULT,
    PG_ENV,
    TARGET,
    NullChat,
    bulk_insert,
    history_rows,
    postgres_urls,
    publish_time,
    reachable,
    sqlite_urls,
    store_recent_week,
    synthetic_team,
)
from bot.adapters.web import DashboardConfig, build_dashboard
from bot.adapters.web.pages import csv_chunks
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.dashboard import sign_in_link
from bot.services.bot import Bot
from bot.services.chat import RenderedReport
from bot.services.dashboard import Dashboard
from storage.db import make_engine, upgrade
from storage.models import ReportRow, WeekRow

TARGET_P95_MS = 150.0
TRENDS_LIMIT = 1.3
SECRET = "bench-" + "s" * 26
console = Console(width=118)


@dataclass
class Site:
    backend: str
    weeks: int
    bot: Bot
    client: httpx.AsyncClient
    times: dict[str, list[float]] = field(default_factory=dict)


def pages(weeks: int) -> dict[str, str]:
    old = TARGET  # a week about two years back (or the oldest stored)
    for _ in range(min(weeks - 1, 100)):
        old = old.previous()
    return {
        "this week": "/week",
        "history": "/history",
        f"a week ({old.label})": f"/week/{old.label}",
        "search (联调中)": "/search?q=联调中",
        "search (农行: a bank by name)": "/search?q=农行",
        "search (建行, page 3)": "/search?q=建行&page=3",
        "search (成员01: a person)": "/search?q=成员01",
        "search (filters)": f"/search?q=联调&person=p03&kind=bank&from={old.label}&to={TARGET.label}",
        "publish (confirm)": f"/week/{TARGET.label}/publish",
        "trends": "/trends",
        "an item": "/item?key=okr:O1/关键结果00-0",
    }


def fill(url: str, team: Team, n_weeks: int) -> Bot:
    weeks = [TARGET]
    while len(weeks) < n_weeks:
        weeks.insert(0, weeks[0].previous())
    engine = make_engine(url)
    upgrade(engine)
    bot = build_bot(team, NullChat(), lambda: publish_time(TARGET, team), database_url=url, engine=engine,
                    migrate=False)
    # Old reports get the size of a real one: publish the week before the target first into a scratch week.
    store_recent_week(bot, weeks[0], 0, publish=True)
    with bot.ctx.db() as s:
        r = s.scalars(select(ReportRow).join(WeekRow, WeekRow.id == ReportRow.week_id)
                      .where(WeekRow.label == weeks[0].label)).one()
        rendered = RenderedReport(r.markdown, r.slack, r.feishu)
    with engine.begin() as conn:  # the scratch week goes; the bulk rows take its place
        for t in ("report_posts", "reports", "answer_revisions", "contributions", "entries", "bank_statuses",
                  "metric_values", "incidents", "prompts", "answer_messages", "weeks"):
            conn.execute(text(f"DELETE FROM {t}"))
    bulk_insert(engine, bot.ctx.team_id, history_rows(bot, weeks[:-2], rendered))
    for week_no, week in enumerate(weeks[-2:], start=n_weeks - 2):
        store_recent_week(bot, week, week_no, publish=week != TARGET)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return bot


async def signed_in_client(bot: Bot) -> httpx.AsyncClient:
    config = DashboardConfig(secret=SECRET, public_url="http://bench")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_dashboard(bot, config)),
                               base_url="http://bench", follow_redirects=True)
    link = sign_in_link(bot.ctx, config, "p00")[0]
    page = await client.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    done = await client.post("/signin/link", data={"csrf": csrf.group(1), "token": httpx.URL(link).params["token"]})
    assert done.url.path == "/week", done.text[:300]
    return client


async def measure(sites: list[Site], repeat: int) -> None:
    for site in sites:
        for name, path in pages(site.weeks).items():
            for _ in range(3):  # warm caches and pools
                resp = await site.client.get(path)
                assert resp.status_code == 200, (site.backend, path, resp.status_code, resp.text[:300])
            site.times[name] = []
    for i in range(repeat):
        for site in sites if i % 2 == 0 else list(reversed(sites)):
            for name, path in pages(site.weeks).items():
                t0 = time.perf_counter()
                await site.client.get(path)
                site.times[name].append(time.perf_counter() - t0)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(sites: list[Site], repeat: int) -> bool:
    ok = True
    table = Table(title=f"server time per page ({repeat} requests each, ms)")
    for col in ("backend", "weeks stored", "page", "p50", "p95", f"p95 ≤ {TARGET_P95_MS:.0f}"):
        table.add_column(col, justify="left" if col in ("backend", "page") else "right")
    for site in sites:
        for name, times in site.times.items():
            good = p95(times) * 1e3 <= TARGET_P95_MS
            ok &= good or site.weeks < 260
            table.add_row(site.backend, str(site.weeks), name, f"{statistics.median(times) * 1e3:.1f}",
                          f"{p95(times) * 1e3:.1f}", "[green]yes[/]" if good else "[red]no[/]")
        table.add_section()
    console.print(table)
    by_backend: dict[str, dict[int, Site]] = {}
    for site in sites:
        by_backend.setdefault(site.backend, {})[site.weeks] = site
    for backend, pair in by_backend.items():
        big, small = max(pair), min(pair)
        ratio = statistics.median(pair[big].times["trends"]) / statistics.median(pair[small].times["trends"])
        good = ratio <= TRENDS_LIMIT
        ok &= good
        console.print(f"{backend}: trends median with {big} weeks / with {small} weeks = {ratio:.2f}× "
                      f"(≤ {TRENDS_LIMIT}×: {'[green]PASS[/]' if good else '[red]FAIL[/]'})")
    return ok


def export_peak(bot: Bot, first: IsoWeek, last: IsoWeek) -> tuple[float, int, int]:
    """Peak traced memory (MiB), rows and bytes of the dashboard's range export from `first` to `last`, read
    chunk by chunk as the server streams it (the same generator the `/export` response iterates)."""
    gc.collect()
    tracemalloc.start()
    rows = size = 0
    try:
        for chunk in csv_chunks(Dashboard(bot).range_rows(first, last)):
            size += len(chunk.encode())
            rows += chunk.count("\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 2**20, rows, size


def report_export(sites: list[Site]) -> bool:
    ok = True
    for site in sites:
        if site.weeks < max(s.weeks for s in sites if s.backend == site.backend):
            continue  # the database with the most weeks (260 by default; fewer with --weeks, to check a change)
        weeks = [TARGET]
        for _ in range(site.weeks - 1):
            weeks.insert(0, weeks[0].previous())
        first = weeks[0]
        export_peak(site.bot, weeks[-3], TARGET)  # warm: caches every export fills once
        # "one week": the heaviest of eight spread over the range (weeks differ in rows and text)
        one, n1, _ = max(export_peak(site.bot, w, w) for w in weeks[::max(1, len(weeks) // 8)])
        t0 = time.perf_counter()
        all_weeks, n_all, size = export_peak(site.bot, first, TARGET)
        took = time.perf_counter() - t0
        good = all_weeks <= TRENDS_LIMIT * one
        ok &= good
        console.print(f"{site.backend}: export of {site.weeks} weeks ({n_all} lines, {size / 2**20:.1f} MiB, "
                      f"{took:.1f}s traced) peaks at {all_weeks:.2f} MiB; one week ({n1} lines) at {one:.2f} MiB: "
                      f"{all_weeks / one:.2f}× (≤ {TRENDS_LIMIT}×: {'[green]PASS[/]' if good else '[red]FAIL[/]'})")
    return ok


async def run(args: argparse.Namespace) -> int:
    team = synthetic_team(200)
    backends = [("sqlite", sqlite_urls)]
    if not args.sqlite_only:
        admin = args.postgres or os.environ.get(PG_ENV) or PG_DEFAULT
        why = reachable(admin)
        if why is None:
            backends.append(("postgresql", lambda: postgres_urls(admin)))  # type: ignore[arg-type,return-value]
        else:
            console.print(f"[yellow]PostgreSQL skipped: not reachable ({why})[/]")
    sites: list[Site] = []
    with ExitStack() as scratch:
        for backend, urls in backends:
            template = scratch.enter_context(urls())
            for slot, n in (("history", args.weeks), ("single", args.window)):
                t0 = time.perf_counter()
                bot = fill(template.format(slot), team, n)
                console.print(f"filled {backend} with {n} weeks × {len(team.items)} items "
                              f"in {time.perf_counter() - t0:.1f}s")
                sites.append(Site(backend, n, bot, await signed_in_client(bot)))
        console.print(f"measuring ({args.repeat} requests per page, interleaved)…")
        await measure(sites, args.repeat)
        ok = report(sites, args.repeat)
        ok &= report_export(sites)
        for site in sites:
            await site.client.aclose()
            site.bot.engine.dispose()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.dashboard_pages", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--postgres", metavar="URL", help=f"admin URL (default: ${PG_ENV}, else {PG_DEFAULT})")
    ap.add_argument("--weeks", type=int, default=260, help="weeks stored (default 260)")
    ap.add_argument("--window", type=int, default=26, help="weeks stored in the comparison database (default 26)")
    ap.add_argument("--repeat", type=int, default=30, help="requests per page (default 30)")
    args = ap.parse_args(argv)
    if args.weeks < 3 or args.window < 3 or args.repeat < 2:
        ap.error("--weeks and --window must be at least 3, --repeat at least 2")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

