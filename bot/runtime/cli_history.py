"""`zhoubao import` and `zhoubao export`: a team's past reports in, its stored weeks out.

Kept apart from `cli.py` so the history commands grow without touching the main command module;
`register_history(app)` adds them to the `zhoubao` command.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.runtime.cli_shared import TeamOption, fail, read_settings
from bot.runtime.heap import started

# `zhoubao --help` registers these commands without loading the services: each imports them when it runs.
if TYPE_CHECKING:
    from bot.domain.import_plan import ImportPlan, PlanWarning
    from bot.runtime.output_files import BotFiles
    from bot.runtime.store import Reports
    from bot.services.exporting import Exporter
    from bot.services.importing import Importer, Stored

SUFFIXES = (".md", ".markdown", ".txt", ".json")


def _open_reports(team_name: str | None) -> Reports:
    """The team's read side (context and week reports): import and export need no jobs, inbox or platform."""
    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.domain.department import TeamChoiceError
    from bot.domain.team import Team
    from bot.runtime.store import open_reports
    from bot.runtime.team_file import TeamFileError, load_department
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    settings = read_settings()
    try:
        department = load_department(settings.team_file)
        team: Team = department.choose(team_name)
    except TeamFileError as exc:
        raise fail(str(exc)) from None
    except TeamChoiceError as exc:
        raise fail(f"--team: {exc}") from None
    try:
        # A single team's database holds no other team; a department's holds its teams.
        reports = open_reports(team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)),
                               database_url=settings.database_url, allow_other_teams=len(department.teams) > 1)
    except (DatabaseError, TeamMismatchError) as exc:
        raise fail(f"Database: {exc}") from None
    started()
    return reports


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
        elif p.is_file():
            out.append(p)
        else:
            raise fail(f"{p}: no such file or folder")
    if not out:
        raise fail(f"no report files ({', '.join(SUFFIXES)}) in {', '.join(map(str, paths))}")
    return out


def _warning_text(name: str, w: PlanWarning) -> str:
    where = f"{name}:{w.line}" if w.line else name
    if w.code == "by_position":
        said = f" (the file says '{w.detail}')" if w.detail else ""
        return f"  warning {where}: matched {w.subject} by its position in the group{said}"
    if w.code == "away":
        return f"  warning {where}: {w.subject} is marked away; nothing stored for it"
    if w.code == "incident_as_text":
        return f"  warning {where}: incident kept as its start time and text only ({w.detail})"
    if w.code == "unknown_item":
        return f"  warning {where}: '{w.subject}' is not an item of the team file; stored, not shown"
    return f"  warning {where}: {w.subject} {w.detail}"


def _summary(name: str, plan: ImportPlan, *, mapping: bool) -> list[str]:
    created = f" (Created {plan.created_at:%Y-%m-%d %H:%M})" if plan.created_at else ""
    lines = [f"{name} → {plan.week}{created}"]
    if mapping:
        lines += [f"  {m.title} ← {name}:{m.line}" if m.line else f"  {m.title} ← {name}" for m in plan.mapped]
    lines += [f"  unmapped {name}:{u.line}: '{u.text}' → kept as the note {u.note_title}" for u in plan.unmapped]
    lines += [_warning_text(name, w) for w in plan.warnings]
    return lines


def import_reports(
    paths: Annotated[list[Path], typer.Argument(help="Report files (Markdown, or JSON from export) or folders.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the mapping (item ← file:line); change nothing.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Replace weeks that hold answers collected in chat.")] = False,
    week: Annotated[str | None, typer.Option(help="The week, for a file whose title and name do not say it.")] = None,
    team_name: TeamOption = None,
) -> None:
    """Import past weekly reports (the house Markdown, as wikis export it) as stored weeks."""
    from bot.services.importing import Importer, ImportRefused

    try:
        fallback = IsoWeek.parse(week) if week else None
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    files = _files(paths)
    reports = _open_reports(team_name)
    try:
        fallback = reports.ctx.check_week(fallback) if fallback else None
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    importer = Importer(reports.ctx, reports.week_report)
    # First every file is read and checked, then written one file at a time (each all or nothing), older
    # weeks first so last week's progress is known; a file is read again rather than kept between the two.
    first_weeks: list[tuple[IsoWeek, int]] = []
    for n, f in enumerate(files):
        try:
            file = importer.read(f)
            order = importer.checked(file, fallback)
            for _, index in order if dry_run else ():
                plan = importer.plan(file, index, fallback)
                for line in _summary(f.name, plan, mapping=True):
                    typer.echo(line)
                _held(importer, plan, replace=replace)
        except ImportRefused as exc:
            raise fail(f"{exc}; nothing imported") from None
        first_weeks += [(order[0][0], n)] if order else []
    if dry_run:
        typer.echo("Dry run: nothing was changed.")
        return
    refused = 0
    for _, n in sorted(first_weeks):
        try:
            lines = _store(importer, files[n], fallback, replace=replace)
        except ImportRefused as exc:
            typer.echo(f"  refused: {exc}; nothing imported from {files[n].name}", err=True)
            refused += 1
            continue
        for line in lines:  # after the commit: what was stored
            typer.echo(line)
    if refused:
        raise typer.Exit(1)


def _store(importer: Importer, path: Path, fallback: IsoWeek | None, *, replace: bool) -> list[str]:
    """Import the file at `path` (all of it, or ImportRefused and none); returns what to tell of each week."""
    lines: list[str] = []

    def told(plan: ImportPlan, stored: Stored) -> None:
        lines.extend(_summary(path.name, plan, mapping=False))
        lines.append(f"  stored {stored.week}: {stored.changes} change(s)"
                     + (" (chat answers replaced)" if stored.replaced_chat else "") if stored.changes
                     else f"  {stored.week}: already imported, nothing changed")

    importer.store_file(importer.read(path), fallback, replace_chat=replace, each=told)
    return lines


def _held(importer: Importer, plan: ImportPlan, *, replace: bool) -> None:
    held = importer.chat_answers(IsoWeek.parse(plan.week))
    if held:
        typer.echo(f"  {plan.week} holds {held} answer(s)/incident(s) from chat: "
                   + ("they would be replaced" if replace else "it would be refused (use --replace)"))


@contextmanager
def _sink(output: Path | None) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        return
    from bot.runtime.output_files import replacing

    with replacing(output) as f:
        yield f


def _bot_files() -> BotFiles:
    from bot.runtime.output_files import BotFiles
    from bot.runtime.settings import Settings

    settings = Settings()  # already read once by `_open_reports`, which reports a bad one
    return BotFiles.of(settings.database_url, settings.team_file, settings.spool_dir)


def export_reports(
    first: Annotated[str, typer.Option("--from", help="First ISO week, e.g. 2024-W01.")],
    last: Annotated[str, typer.Option("--to", help="Last ISO week, e.g. 2024-W26.")],
    format: Annotated[str, typer.Option("--format", help="md, json or csv.")] = "md",
    output: Annotated[Path | None, typer.Option(
        help="A file (one combined file); for md, a folder or a name without a suffix gets one file "
             "per week. Default: stdout.")] = None,
    force: Annotated[bool, typer.Option(help="Replace files that already exist (never the database, the team "
                                        "file or the spool folder).")] = False,
    team_name: TeamOption = None,
) -> None:
    """Export stored weeks: Markdown reports, the stored facts as JSON (importable), or a CSV of items × weeks."""
    from bot.runtime.output_files import OutputRefused, check_output
    from bot.services.exporting import Exporter

    if format not in ("md", "json", "csv"):
        raise fail(f"--format must be md, json or csv, not '{format}'")
    try:
        start, end = IsoWeek.parse(first), IsoWeek.parse(last)
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    if end < start:
        raise fail(f"--to {end.label} is before --from {start.label}")
    reports = _open_reports(team_name)
    try:
        start, end = reports.ctx.check_week(start), reports.ctx.check_week(end)
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    exporter = Exporter(reports.ctx, reports.week_report)
    try:
        if format == "md" and output is not None and (output.is_dir() or not output.suffix):
            count = write_week_files(exporter, start, end, output, _bot_files(), force=force)
        else:
            if output is not None:
                check_output(output, _bot_files(), force=force)
            with _sink(output) as out:
                count = write_export(exporter, start, end, format, out)
    except OutputRefused as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--output {output}: cannot write it ({exc.strerror}); nothing written.") from None
    if output is not None:
        typer.echo(f"Exported {count} week(s) to {output}.", err=True)


def write_week_files(exporter: Exporter, start: IsoWeek, end: IsoWeek, folder: Path, bot_files: BotFiles, *,
                     force: bool) -> int:
    """One Markdown file per stored week, `<folder>/<week>.md`; returns how many. Every target is checked
    (`check_output`) before the first is written, so a refusal writes nothing."""
    from bot.runtime.output_files import OutputRefused, check_output, replacing

    if (owner := bot_files.owner_of(folder)) is not None:
        raise OutputRefused(f"--output {folder} is {owner}; choose another folder.")
    weeks = list(exporter.stored_weeks(start, end))
    for week in weeks:
        check_output(folder / f"{week.label}.md", bot_files, force=force)
    for week in weeks:
        with replacing(folder / f"{week.label}.md") as out:
            out.write(exporter.markdown(week))
    return len(weeks)


def write_export(exporter: Exporter, start: IsoWeek, end: IsoWeek, fmt: str, out: TextIO) -> int:
    """Write the stored weeks from `start` to `end` to `out` one week at a time; returns how many."""
    with _week_by_week():
        return _write(exporter, start, end, fmt, out)


@contextmanager
def _week_by_week() -> Iterator[None]:
    """Hand back what each week held before the next one is read.

    Without this the interpreter keeps about 1 KiB per exported week (measured with tracemalloc in
    bench/export_history.py) until its next full collection. Objects that exist before the export are
    frozen out of the collector, so a collection per week only looks at that week's objects.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _week_done() -> None:
    gc.collect()


def _write(exporter: Exporter, start: IsoWeek, end: IsoWeek, fmt: str, out: TextIO) -> int:
    from bot.domain.facts_json import FORMAT
    from bot.services.exporting import CSV_HEADER

    count = 0
    if fmt == "md":
        for week in exporter.stored_weeks(start, end):
            out.write("\n" if count else "")  # written apart: joining would copy each week's text
            out.write(exporter.markdown(week))
            count += 1
            _week_done()
    elif fmt == "json":
        out.write(json.dumps({"format": FORMAT, "team": exporter.ctx.team.team.name}, ensure_ascii=False)[:-1]
                  + ', "weeks": [\n')
        for week in exporter.stored_weeks(start, end):
            out.write(",\n" if count else "")
            out.write(json.dumps(exporter.json_week(week), ensure_ascii=False))
            count += 1
            _week_done()
        out.write("\n]}\n")
    else:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for week in exporter.stored_weeks(start, end):
            writer.writerows(exporter.csv_rows(week))
            count += 1
            _week_done()
    return count


def register_history(app: typer.Typer) -> None:
    """Add `import` and `export` to the `zhoubao` command."""
    app.command("import")(import_reports)
    app.command("export")(export_reports)
