"""`zhoubao dashboard link --as NAME`: a one-time sign-in link for the web dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from bot.runtime.cli_shared import TeamOption, read_settings

dashboard_app = typer.Typer(help="The web dashboard: sign-in links.", no_args_is_help=True)


@dashboard_app.command("link")
def link(who: Annotated[str, typer.Option("--as", help="A person id or name from the team file.")],
    team_name: TeamOption = None,
) -> None:
    """Print a signed sign-in link for one person; it works once and expires in 10 minutes."""
    # Imported here: `zhoubao --help` lists this command without loading the services. A link is signed for
    # a person in the team file; issuing one opens no database (the dashboard records its use when redeemed).
    from bot.runtime.dashboard import dashboard_config, sign_in_link
    from bot.runtime.team_file import TeamFileError, load_department
    from bot.services.sign_in_links import SignInRefused, TeamAt

    settings = read_settings()
    try:
        department = load_department(settings.team_file)
        team = department.choose(team_name)
        # Several teams: each has its pages (and sign-in) under /t/<key>; one team keeps the plain addresses.
        key = next(t.key for t in department.teams if t.team is team) if len(department.teams) > 1 else None
    except (TeamFileError, ValueError) as exc:  # ValueError: --team (TeamChoiceError)
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        url, expires = sign_in_link(TeamAt(team, lambda: datetime.now(team.zone)), dashboard_config(settings), who,
                                    team_key=key)
    except SignInRefused:
        typer.echo(f"'{who}' is not in the team file {settings.team_file}", err=True)
        raise typer.Exit(2) from None
    typer.echo(url)
    typer.echo(f"(one use; expires {expires.astimezone(team.zone):%Y-%m-%d %H:%M %Z})", err=True)
