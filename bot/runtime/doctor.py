"""`zhoubao doctor`: checks the setup and names what is wrong, one line per check."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console

from bot.domain.team import Team
from bot.runtime.jobs import job_specs
from bot.runtime.settings import Settings
from bot.runtime.team_file import TeamFileError, load_team
from storage.db import DatabaseError, make_engine, migration_state


def run_checks(settings: Settings, console: Console | None = None) -> bool:
    """Print each check; True when nothing is wrong."""
    out = console or Console(highlight=False)
    ok = True

    def line(good: bool, text: str) -> None:
        nonlocal ok
        ok = ok and good
        out.print(("[green]✓[/green] " if good else "[red]✗[/red] ") + text, markup=True)

    line(True, f"settings: platform {settings.platform}, database {settings.database_url}")
    team: Team | None = None
    try:
        team = load_team(settings.team_file)
        line(True, f"team file {settings.team_file}: {team.team.name}, {len(team.people)} people, "
                   f"{len(team.items)} items")
    except TeamFileError as exc:
        line(False, str(exc).replace("[", "\\["))
    try:
        engine = make_engine(settings.database_url)
        current, head = migration_state(engine)
        line(current == head, f"database reachable; migrations at {current or 'none'} (head {head})"
             + ("" if current == head else " — run `zhoubao db upgrade`"))
    except (DatabaseError, Exception) as exc:  # any driver error is reported, not raised
        line(False, f"database: {exc}".replace("[", "\\["))
    if team is not None:
        now = datetime.now(team.zone)
        for spec in job_specs(team):
            nxt = spec.trigger(team).get_next_fire_time(None, now)
            line(True, f"schedule {spec.id}: next {nxt:%Y-%m-%d %a %H:%M} ({team.team.timezone})")
        if settings.platform == "slack":
            from bot.adapters.slack.doctor import check
        elif settings.platform == "feishu":
            from bot.adapters.feishu.doctor import check  # type: ignore[assignment]
        if settings.platform != "console":
            for good, text in check(settings, team):
                line(good, text.replace("[", "\\["))
    return ok
