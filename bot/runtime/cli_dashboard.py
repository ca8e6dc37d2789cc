"""`zhoubao dashboard link --as NAME`: a one-time sign-in link for the web dashboard."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated

import typer

from bot.runtime.cli_team import TeamOption

dashboard_app = typer.Typer(help="The web dashboard: sign-in links.", no_args_is_help=True)


@dashboard_app.command("link")
def link(who: Annotated[str, typer.Option("--as", help="A person id or name from the team file.")],
    team_name: TeamOption = None,
) -> None:
    """Print a signed sign-in link for one person; it works once and expires in 10 minutes."""
    # Imported here: `zhoubao --help` lists this command without loading the services.
    from bot.adapters.console.workspace import ConsoleChat, VirtualClock
    from bot.runtime.composition import build_bot
    from bot.runtime.dashboard import dashboard_config, sign_in_link
    from bot.runtime.settings import Settings
    from bot.runtime.team_file import TeamFileError, load_team_of
    from bot.services.signin import SignInRefused
    from storage.db import DatabaseError

    try:
        settings = Settings()
        team = load_team_of(settings.team_file, team_name)
        bot = build_bot(team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)),
                        database_url=settings.database_url)
    except (TeamFileError, DatabaseError, ValueError) as exc:  # ValueError: pydantic's, naming the setting
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        url, expires = sign_in_link(bot, dashboard_config(settings), who)
    except SignInRefused:
        typer.echo(f"'{who}' is not in the team file {settings.team_file}", err=True)
        raise typer.Exit(2) from None
    typer.echo(url)
    typer.echo(f"(one use; expires {expires.astimezone(team.zone):%Y-%m-%d %H:%M %Z})", err=True)
