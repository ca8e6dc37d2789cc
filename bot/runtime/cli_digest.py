"""`zhoubao digest`: the week's key points, written now by the configured model (or, with --dry-run, exactly
what would be sent and where, sending nothing). Kept apart from `cli.py`; `register_digest(app)` adds it."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated

import typer

from bot.runtime.cli_shared import TeamOption, fail, read_settings
from bot.runtime.heap import started


def digest(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2024-W26.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the request and its host; send nothing.")] = False,
    lang: Annotated[str | None, typer.Option(help="zh-CN or en (default: the team's locale).")] = None,
    team_name: TeamOption = None,
) -> None:
    """Write a week's key points (本周要点) with the model in AI_BASE_URL / AI_MODEL and show them with the
    lines the fact check dropped; --dry-run prints exactly what would be sent instead."""

    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.domain.team import Team
    from bot.domain.weeks import IsoWeek, WeekLabelError
    from bot.runtime.composition import build_bot, digest_parts
    from bot.runtime.team_file import TeamFileError, load_team_of
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    try:
        iso = IsoWeek.parse(week)
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    if lang is not None and lang not in ("zh-CN", "en"):
        raise fail(f"--lang must be zh-CN or en, not '{lang}'")
    settings = read_settings()
    model, config = digest_parts(settings)
    if model is None:
        raise fail("The digest is off: set AI_BASE_URL and AI_MODEL (see README, Key points).")
    try:
        team = load_team_of(settings.team_file, team_name)
    except TeamFileError as exc:
        raise fail(str(exc)) from None
    # Another language than the team's is a look only: the stored digest (what is posted) stays the team's.
    own_locale = team.team.locale
    store = lang is None or lang == own_locale
    if lang:
        team = Team.model_validate({**team.model_dump(), "team": {**team.team.model_dump(), "locale": lang}})
    try:
        bot = build_bot(team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)),
                        database_url=settings.database_url, allow_other_teams=False, digest_model=model,
                        digest_config=config)
        bot.ctx.check_week(iso)
    except (DatabaseError, TeamMismatchError) as exc:
        raise fail(f"Database: {exc}") from None
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    started()
    if dry_run:
        typer.echo(bot.digests.dry_run(iso).text(), nl=False)
        return
    typer.echo(f"Sending {iso.label}'s facts to {model.host} ({model.model}) …", err=True)
    view = bot.digests.prepare(iso, store=store)
    assert view is not None
    if not store:
        typer.echo(f"(--lang {lang}: shown only; the stored key points stay in {own_locale})", err=True)
    report = bot.week_report.compile(iso)
    from dataclasses import replace

    from bot.text import digest_notes

    shown = bot.ctx.renderer.markdown(replace(report, key_points=view.points))
    head = shown.split("\n## ", 2)
    if view.points and len(head) > 1:
        typer.echo("## " + head[1].rstrip() + "\n")
    if store:
        typer.echo(bot.digests.notes(iso))
    else:
        for line in ([digest_notes.reason_text(*view.error, bot.ctx.locale)] if view.error else []) + \
                digest_notes.dropped_lines(view.dropped, bot.ctx.locale):
            typer.echo(line)
    raise typer.Exit(0 if view.state == "ready" else 1)


def register_digest(app: typer.Typer, cls: type | None = None) -> None:
    app.command("digest", cls=cls)(digest)
