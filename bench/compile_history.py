"""Does five years of stored history slow down compiling this week's report?

Target (from the issue): compiling one week's report for a team of 200 items with 260 weeks of history
stored takes at most 1.3x the time and 1.3x the peak memory of compiling it with only that week stored,
on SQLite and on PostgreSQL. Two databases per backend are measured side by side in one run:

- "single": the target week and the week before it (compile reads last week for progress deltas),
  stored through the real services (prompts, Inbox.receive, IncidentDesk.add, publish of the week before);
- "history": the same two weeks stored the same way, after 258 older weeks bulk-inserted with
  SQLAlchemy Core in the shape the services store them (routed with `route_reply`, derived like
  `Inbox._recompute`).

What is timed is what publishing does first: `WeekReport.compile(week, at)` + `Renderer.markdown(report)`.

    python -m bench.compile_history [--sqlite-only] [--postgres URL] [--weeks 260] [--items 200] [--repeat 30]
                                    [--memory-runs 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from bot.domain.incidents import IncidentDraft
from bot.domain.prompts import Prompt
from bot.domain.replies import bank_stage, parse_entry, parse_metric_value, route_reply
from bot.domain.report import Report
from bot.domain.team import ItemKind, Person, Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.services.bot import Bot
from bot.services.chat import Inbound, MessageRef, RenderedReport
from storage.db import make_engine, normalize_url, upgrade
from storage.models import (
    AnswerMessageRow,
    AnswerRevisionRow,
    BankStatusRow,
    Base,
    ContributionRow,
    EntryRow,
    IncidentRow,
    MetricValueRow,
    PromptRow,
    ReportPostRow,
    ReportRow,
    TeamRow,
    WeekRow,
)

LIMIT = 1.3
TARGET = IsoWeek(2024, 50)  # late in the year, so the year-to-date downtime query spans the most incidents
PG_ENV = "ZHOUBAO_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
COUNTED = (WeekRow, PromptRow, AnswerMessageRow, AnswerRevisionRow, ContributionRow, EntryRow, BankStatusRow,
           MetricValueRow, IncidentRow, ReportRow)
BANKS = ("建行", "招行", "中行", "工行", "农行", "交行", "浦发", "兴业")
BANK_NOTES = ("已完成方案评审，等待排期", "开发中，预计下周提测", "联调中，发现两处报文差异待对方确认",
              "已上线，交易平稳", "初步对接，意向良好", "本周无进展，等待对方反馈")
TOPICS = ("清结算重构", "风控规则迁移", "对账平台", "渠道路由", "商户进件", "账务核心", "监控告警", "数据治理")
PROBLEMS = ("依赖方排期紧张", "测试环境不稳定", "需求仍在变化", "人力不足")
UNITS = ("%", "ms", "笔", "")
console = Console(width=118)


# ----- the synthetic team --------------------------------------------------------------------------------


def synthetic_team(n_items: int) -> Team:
    """A team with about `n_items` answerable items of every kind (200: 18 parts, 48 banks, 8 prose
    projects, 80 OKR items, 43 reported metrics, 3 editor sections) and one computed availability metric."""
    scale = n_items / 200
    n_people = max(5, round(40 * scale))
    n_projects, n_prose, n_okr = max(1, round(6 * scale)), max(1, round(8 * scale)), max(1, round(8 * scale))
    n_metrics = n_items - 3 - n_projects * (3 + len(BANKS)) - n_prose - n_okr * 10
    if n_metrics < 1:
        raise SystemExit(f"--items {n_items} is too small for a team with every kind of item; use 30 or more")
    people = [{"id": f"p{i:02d}", "name": f"成员{i:02d}", "slack": f"U{i:08d}", "email": f"p{i:02d}@example.com"}
              for i in range(n_people)]
    owners = iter([f"p{1 + i % (n_people - 1):02d}" for i in range(n_items * 2)])  # p00 is the editor
    projects: list[dict[str, Any]] = []
    for p in range(n_projects):
        projects.append({"name": f"项目{p:02d}", "parts": [
            {"name": f"业务{p:02d}", "owner": next(owners)},
            {"name": f"银行{p:02d}", "owner": next(owners),
             "banks": [{"name": b, "aliases": [f"{b}{p:02d}"]} for b in BANKS]},
            {"name": f"产研{p:02d}", "owner": next(owners)}]})
    projects += [{"name": f"专项{p:02d}", "owner": next(owners)} for p in range(n_prose)]
    okrs = [{"id": f"O{g + 1}", "name": f"目标{g:02d}",
             "items": [{"name": f"关键结果{g:02d}-{i}", "owner": next(owners)} for i in range(10)]}
            for g in range(n_okr)]
    groups: list[dict[str, Any]] = [{"name": f"指标组{g}", "metrics": []} for g in range(5)]
    for m in range(n_metrics):
        groups[m % 5]["metrics"].append({"name": f"指标{m:02d}", "owner": next(owners), "unit": UNITS[m % 4]})
    groups[0]["incident_counts"] = True
    groups[0]["metrics"].append({"name": "年度可用性", "owner": "p00", "unit": "%", "source": "availability"})
    team = Team.model_validate({
        "team": {"name": "基准团队", "timezone": "Asia/Shanghai"}, "people": people, "editors": ["p00"],
        "admins": ["p00"], "projects": projects, "okrs": okrs, "metrics": groups})
    assert len(team.items) == n_items, len(team.items)
    return team


def answer_text(team: Team, person: str, week_no: int) -> str:
    """What `person` replies in week `week_no`: one `名：…` block per item, banks under their part."""
    lines: list[str] = []
    for n, it in enumerate(team.items_of(person)):
        r = random.Random(week_no * 1000 + n)
        if it.kind is ItemKind.BANK:
            lines.append(f"{it.name}：{r.choice(BANK_NOTES)}")
        elif it.kind is ItemKind.METRIC:
            value = {"%": f"{99 + r.random():.2f}", "ms": str(r.randint(80, 300)),
                     "笔": f"{r.randint(10_000, 999_999):,}"}.get(it.unit, f"{r.random() * 10:.1f}")
            lines.append(f"{it.name}：{value}{it.unit}")
        else:
            lines.append(f"{it.name}：本周推进{r.choice(TOPICS)}，完成接口改造与灰度验证，"
                         f"整体进度{(week_no * 5 + n * 13) % 100}%。")
            lines.append(f"下周计划：{r.choice(TOPICS)}全量上线，并完成回归测试与文档更新。")
            if r.random() < 0.35:
                lines.append(f"主要问题：{r.choice(PROBLEMS)}")
    return "\n".join(lines)


def incident_drafts(team: Team, week: IsoWeek, week_no: int) -> list[tuple[IncidentDraft, str]]:
    """A few incidents in the week, with the person who filed each."""
    r = random.Random(-week_no - 1)
    out = []
    for _ in range(r.choice((1, 2, 2, 3, 3, 4))):
        start = week.start(team.zone) + timedelta(minutes=r.randint(0, 7 * 24 * 60 - 240))
        draft = IncidentDraft(started_at=start, what="支付超时率升高", system=r.choice(TOPICS),
                              cause="下游渠道网络抖动", impact=f"约{r.randint(10, 900)}笔交易失败",
                              recovered_at=start + timedelta(minutes=r.randint(3, 180)),
                              severity=r.choice(team.incidents.severities),
                              counts_toward_availability=r.random() < 0.9)
        out.append((draft, r.choice(team.people).id))
    return out


@dataclass
class NullChat:
    """A chat port that delivers nothing and answers with made-up Slack message ids."""

    platform: str = "slack"
    parallel_sends: int = 1
    n: int = 0

    def _ref(self, channel: str) -> MessageRef:
        self.n += 1
        return MessageRef(self.platform, channel, f"{1_700_000_000 + self.n}.000100")

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        return self._ref(f"D{person.id}")

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        return self._ref(f"D{person.id}")

    def display_name(self, user: str) -> str | None:
        return None

    def post_text(self, channel: str, text: str) -> MessageRef:
        return self._ref(channel)

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        return [self._ref(channel)]

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        return posted


def thursday(week: IsoWeek, team: Team) -> datetime:
    return datetime.combine(week.day(4), clock_time(10, 0), tzinfo=team.zone)


def publish_time(week: IsoWeek, team: Team) -> datetime:
    return datetime.combine(week.day(5), clock_time(17, 0), tzinfo=team.zone)


# ----- filling a database -------------------------------------------------------------------------------------


def store_recent_week(bot: Bot, week: IsoWeek, week_no: int, *, publish: bool) -> None:
    """One week through the real services: prompts, every owner's reply, incidents, and the report."""
    team, at = bot.ctx.team, thursday(week, bot.ctx.team)
    bot.cycle.send_prompts(at=at)
    for n, pid in enumerate(team.owners()):
        person = team.person_by_id[pid]
        reply = bot.inbox.receive(Inbound("slack", person.slack or pid, f"{week.label}-{pid}",
                                          answer_text(team, pid, week_no), at + timedelta(hours=4, minutes=n)))
        assert reply is not None and set(reply.stored_items) == {it.key for it in team.items_of(pid)}, (pid, reply)
    for draft, reporter in incident_drafts(team, week, week_no):
        bot.incidents.add(draft, reporter, "slack", None, draft.recovered_at or draft.started_at)
    if publish:
        bot.cycle.publish(week, publish_time(week, team))


def history_rows(bot: Bot, weeks: list[IsoWeek], rendered: RenderedReport) -> dict[type[Base], list[dict[str, Any]]]:
    """Rows for `weeks` as the services would have stored them (ids assigned here, in an empty database)."""
    team, ctx = bot.ctx.team, bot.ctx
    tid, pids = ctx.team_id, ctx.person_ids
    rows: dict[type[Base], list[dict[str, Any]]] = {m: [] for m in (
        WeekRow, PromptRow, AnswerMessageRow, AnswerRevisionRow, ContributionRow, EntryRow, BankStatusRow,
        MetricValueRow, IncidentRow, ReportRow, ReportPostRow)}
    mine = {pid: team.items_of(pid) for pid in team.owners()}
    seq = 0

    def add(model: type[Base], **values: Any) -> int:
        values["id"] = len(rows[model]) + 1
        rows[model].append(values)
        return int(values["id"])

    for week_no, week in enumerate(weeks):
        opened, published = thursday(week, team), publish_time(week, team)
        wid = add(WeekRow, team_id=tid, label=week.label, opened_at=opened)
        for n, pid in enumerate(mine):
            add(PromptRow, team_id=tid, week_id=wid, person_id=pids[pid], kind="prompt", platform="slack",
                idempotency_key=f"{tid}:{week.label}:{pid}:prompt:slack"[:64], channel=f"D{pid}",
                message_id=f"{opened.timestamp():.0f}.{n:06d}", item_keys=[it.key for it in mine[pid]],
                created_at=opened, sent_at=opened)
            at = opened + timedelta(hours=4, minutes=n)
            body = answer_text(team, pid, week_no)
            edited = at + timedelta(minutes=30) if (week_no + n) % 20 == 0 else None
            mid = add(AnswerMessageRow, team_id=tid, week_id=wid, person_id=pids[pid], platform="slack",
                      source_id=f"{week.label}-{pid}", thread_id=None, target_item=None, via="message", text=body,
                      received_at=at, edited_at=edited, deleted_at=None)
            add(AnswerRevisionRow, team_id=tid, week_id=wid, message_id=mid, change="create", text=body, at=at)
            if edited:
                add(AnswerRevisionRow, team_id=tid, week_id=wid, message_id=mid, change="edit", text=body, at=edited)
            pieces: dict[str, list[str]] = {}
            for piece in route_reply(body, mine[pid], team_items=team.items).pieces:
                add(ContributionRow, team_id=tid, week_id=wid, message_id=mid, item_key=piece.item_key,
                    text=piece.text, superseded_at=None)
                pieces.setdefault(piece.item_key, []).append(piece.text)
            for key, texts in pieces.items():  # what Inbox._recompute derives
                item, done = team.item_by_key[key], edited or at
                common = {"team_id": tid, "week_id": wid, "item_key": key, "author_id": pids[pid], "updated_at": done}
                if item.kind is ItemKind.METRIC:
                    value = parse_metric_value(texts[-1], item.unit)
                    assert value is not None, texts
                    add(MetricValueRow, value_text=value[0], value=value[1], **common)
                elif item.kind is ItemKind.BANK:
                    add(BankStatusRow, note=texts[-1], stage=bank_stage(texts[-1]), **common)
                else:
                    parsed = parse_entry("\n".join(texts))
                    add(EntryRow, text=parsed.text, progress=parsed.progress, main_problem=parsed.main_problem,
                        **common)
        for k, (d, reporter) in enumerate(incident_drafts(team, week, week_no)):
            seq += 1
            filed = d.recovered_at or d.started_at
            add(IncidentRow, team_id=tid, week_id=wid, number=seq, started_at=d.started_at,
                recovered_at=d.recovered_at, system=d.system, what=d.what, cause=d.cause, impact=d.impact,
                severity=d.severity, weight=d.weight, counts_toward_availability=d.counts_toward_availability,
                reporter_id=pids[reporter], source="slack", source_ref=None, created_at=filed, updated_at=filed,
                deleted_at=filed + timedelta(hours=1) if (week_no + k) % 30 == 0 else None)
        rid = add(ReportRow, team_id=tid, week_id=wid, compiled_at=published, published_at=published,
                  markdown=rendered.markdown, slack=rendered.slack, feishu=rendered.feishu, revision=1)
        add(ReportPostRow, report_id=rid, platform="slack", part=0, channel=team.team.report_channel,
            message_id=f"{published.timestamp():.0f}.000001", posted_at=published, updated_at=None)
    return rows


def bulk_insert(engine: Engine, team_id: int, rows: dict[type[Base], list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for model, values in rows.items():
            for i in range(0, len(values), 5000):
                conn.execute(insert(model), values[i:i + 5000])
        conn.execute(update(TeamRow).where(TeamRow.id == team_id)
                     .values(incident_seq=len(rows[IncidentRow])))
        if engine.dialect.name == "postgresql":  # explicit ids do not move the sequences
            for model in rows:
                t = model.__tablename__
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                                  f"(SELECT max(id) FROM {t}))"))


@dataclass
class Case:
    backend: str
    name: str  # history | single
    bot: Bot
    weeks: int
    times: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)

    def run(self) -> str:
        """What publishing does first: compile, then render the Markdown."""
        report = self.bot.week_report.compile(TARGET, publish_time(TARGET, self.bot.ctx.team))
        return self.bot.ctx.renderer.markdown(report)


def fill(url: str, backend: str, team: Team, n_weeks: int) -> tuple[Case, Case]:
    """The "history" and "single" databases of one backend, each behind its own Bot."""
    weeks = [TARGET]
    while len(weeks) < n_weeks:
        weeks.insert(0, weeks[0].previous())
    cases: list[Case] = []
    for name, db_url in (("single", url.format("single")), ("history", url.format("history"))):
        engine = make_engine(db_url)
        upgrade(engine)
        bot = build_bot(team, NullChat(), lambda: publish_time(TARGET, team), database_url=db_url,
                        engine=engine, migrate=False)
        if name == "history":
            with cases[0].bot.ctx.db() as s:  # last week's report, as published, gives old reports their size
                prev_id = s.scalar(select(WeekRow.id).where(WeekRow.label == weeks[-2].label))
                r = s.scalars(select(ReportRow).where(ReportRow.week_id == prev_id)).one()
                rendered = RenderedReport(r.markdown, r.slack, r.feishu)
            bulk_insert(engine, bot.ctx.team_id, history_rows(bot, weeks[:-2], rendered))
        for week_no, week in enumerate(weeks[-2:], start=n_weeks - 2):
            store_recent_week(bot, week, week_no, publish=week != TARGET)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))  # what autovacuum does on a live database
        cases.append(Case(backend, name, bot, n_weeks if name == "history" else 2))
    single, history = cases
    return history, single


# ----- measuring ------------------------------------------------------------------------------------------------


def measure(pairs: list[tuple[Case, Case]], repeat: int, mem_runs: int) -> None:
    """Interleaved runs (A, B, B, A, …) so drift hits both databases alike; memory with tracemalloc after."""
    cases = [c for pair in pairs for c in pair]
    for c in cases:
        for _ in range(3):
            c.run()
    for i in range(repeat):
        for c in cases if i % 2 == 0 else reversed(cases):
            gc.collect()
            t0 = time.perf_counter()
            c.run()
            c.times.append(time.perf_counter() - t0)
    tracemalloc.start()
    for i in range(mem_runs):
        for c in cases if i % 2 == 0 else reversed(cases):
            gc.collect()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            c.run()
            c.peaks.append(tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(pairs: list[tuple[Case, Case]], repeat: int, mem_runs: int) -> bool:
    ok = True
    table = Table(title=f"compile + render {TARGET.label} ({repeat} timed runs, {mem_runs} tracemalloc runs each)")
    for col in ("backend", "database", "weeks", "median ms", "p95 ms", "peak MiB (median)"):
        table.add_column(col, justify="left" if col in ("backend", "database") else "right")
    for history, single in pairs:
        for c in (single, history):
            table.add_row(c.backend, c.name, str(c.weeks), f"{statistics.median(c.times) * 1e3:.1f}",
                          f"{p95(c.times) * 1e3:.1f}", f"{statistics.median(c.peaks) / 2**20:.2f}")
        t = statistics.median(history.times) / statistics.median(single.times)
        t95 = p95(history.times) / p95(single.times)
        m = statistics.median(history.peaks) / statistics.median(single.peaks)
        passed = t <= LIMIT and m <= LIMIT
        ok &= passed
        verdict = "[green]PASS[/]" if passed else "[red]FAIL[/]"
        table.add_row(history.backend, f"ratio history/single {verdict}", f"≤{LIMIT}", f"{t:.2f}×", f"{t95:.2f}×",
                      f"{m:.2f}×", end_section=True)
    console.print(table)
    console.print(f"PASS/FAIL compares the median time and the median peak memory against {LIMIT}×; "
                  "p95 is shown for the spread. Peak memory is Python allocations during one compile "
                  "(tracemalloc), not process RSS.")
    return ok


def row_counts(pairs: list[tuple[Case, Case]]) -> None:
    table = Table(title="rows stored (history / single)")
    table.add_column("table")
    for history, _ in pairs:
        table.add_column(history.backend, justify="right")
    counts = []
    for history, single in pairs:
        per: dict[str, list[int]] = {}
        for c in (history, single):
            with c.bot.ctx.db() as s:
                for model in COUNTED:
                    per.setdefault(model.__tablename__, []).append(
                        s.scalar(select(func.count()).select_from(model)) or 0)
        counts.append(per)
    for model in COUNTED:
        t = model.__tablename__
        table.add_row(t, *(f"{per[t][0]:,} / {per[t][1]:,}" for per in counts))
    console.print(table)


# ----- databases ------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_urls() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="zhoubao-bench-") as folder:
        yield f"sqlite:///{Path(folder)}/{{}}.db"


@contextmanager
def postgres_urls(admin_url: str) -> Iterator[str]:
    """A `{}` URL template over two scratch databases (history, single), dropped at the end."""
    admin: Engine = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    base = f"zhoubao_bench_{uuid.uuid4().hex[:8]}"
    names = [f"{base}_history", f"{base}_single"]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        template = make_url(normalize_url(admin_url)).set(database=f"{base}_SLOT").render_as_string(hide_password=False)
        yield template.replace("SLOT", "{}")
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def reachable(admin_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = create_engine(normalize_url(admin_url), connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # the reason is printed, never swallowed
        reason = str(getattr(exc, "orig", None) or exc).strip()
        return f"{type(exc).__name__}: {reason.splitlines()[0] if reason else 'no detail'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.compile_history", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--postgres", metavar="URL", help=f"admin URL (default: ${PG_ENV}, else {PG_DEFAULT})")
    ap.add_argument("--weeks", type=int, default=260, help="weeks stored in the history database (default 260)")
    ap.add_argument("--items", type=int, default=200, help="report items in the team (default 200)")
    ap.add_argument("--repeat", type=int, default=30, help="timed compiles per database (default 30)")
    ap.add_argument("--memory-runs", type=int, default=5, help="tracemalloc compiles per database (default 5)")
    args = ap.parse_args(argv)
    if args.weeks < 3 or args.repeat < 2:
        ap.error("--weeks must be at least 3 and --repeat at least 2")

    team = synthetic_team(args.items)
    kinds = Counter(it.kind.value for it in team.items)
    console.print(f"team: {len(team.items)} items ({', '.join(f'{k} {n}' for k, n in kinds.items())}), "
                  f"{len(team.owners())} people answering; target week {TARGET.label}")
    console.print(f"history DB: {args.weeks} weeks ({TARGET.label} and the {args.weeks - 1} before it); "
                  f"single DB: {TARGET.label} and {TARGET.previous().label} only (compile reads last week "
                  "for progress deltas)")
    backends: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [("sqlite", sqlite_urls)]
    if not args.sqlite_only:
        admin = args.postgres or os.environ.get(PG_ENV) or PG_DEFAULT
        shown = make_url(admin).render_as_string(hide_password=True)
        why = reachable(admin)
        if why is None:
            backends.append(("postgresql", lambda: postgres_urls(admin)))
        elif args.postgres:
            console.print(f"[red]PostgreSQL at {shown} is not usable: {why}[/]")
            return 2
        else:
            console.print(f"[yellow]PostgreSQL skipped: {shown} not reachable ({why}); "
                          f"set {PG_ENV} or pass --postgres URL[/]")

    pairs: list[tuple[Case, Case]] = []
    with ExitStack() as scratch:  # temporary files and databases go away even on an error
        for backend, urls in backends:
            t0 = time.perf_counter()
            pair = fill(scratch.enter_context(urls()), backend, team, args.weeks)
            console.print(f"filled {backend} (history + single) in {time.perf_counter() - t0:.1f}s")
            pairs.append(pair)
            for c in pair:
                report_ = c.bot.week_report.compile(TARGET, publish_time(TARGET, team))
                assert not report_.missing, f"{backend} {c.name}: {len(report_.missing)} items unanswered"
        row_counts(pairs)
        console.print(f"measuring ({args.repeat} runs per database, interleaved)…")
        measure(pairs, args.repeat, args.memory_runs)
        ok = report(pairs, args.repeat, args.memory_runs)
        for c in (c for pair in pairs for c in pair):
            c.bot.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
