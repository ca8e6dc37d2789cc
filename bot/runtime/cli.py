"""`zhoubao` command line: init, run, demo, report, incident, db, doctor (import and export: cli_history)."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from bot.adapters.console.demo import DEMO_START, DEMO_WEEK, EXAMPLE_TEAM, SCRIPT
from bot.adapters.console.workspace import ConsoleChat, ConsoleSession, VirtualClock
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.runtime.settings import Settings
from bot.runtime.team_file import TeamFileError, load_team
from bot.services.bot import Bot
from bot.services.chat import ChatPort
from bot.services.context import TeamMismatchError
from storage.db import DatabaseError, make_engine, migration_state, session_factory, upgrade
from storage.directory import Directory
from storage.reports import Reports

app = typer.Typer(help="zhoubao (周报): runs a team's weekly report in Slack, Feishu/Lark or the console.",
                  no_args_is_help=True, add_completion=False)
incident_app = typer.Typer(help="File and list production incidents.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
app.add_typer(db_app, name="db")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError names the variable and the problem
        raise _fail(f"Bad setting in the environment or .env:\n{exc}") from None


def _team(settings: Settings, path: Path | None = None) -> Team:
    try:
        return load_team(path or settings.team_file)
    except TeamFileError as exc:
        raise _fail(str(exc)) from None


def _bot(settings: Settings, team: Team, chat: ConsoleChat, clock: VirtualClock, *,
         engine: Engine | None = None, allow_other_teams: bool = True) -> Bot:
    try:
        return build_bot(team, chat, clock, database_url=settings.database_url, engine=engine,
                         migrate=engine is None, allow_other_teams=allow_other_teams)
    except (DatabaseError, TeamMismatchError) as exc:
        raise _fail(f"Database: {exc}") from None


def _example_env() -> str:
    for candidate in (Path(__file__).resolve().parents[1] / "examples" / "env.example",
                      Path(__file__).resolve().parents[2] / ".env.example"):
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    return ""


@app.command()
def init(force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False) -> None:
    """Write a commented example team file (team.yaml) and .env for a team shaped like the example report."""
    settings = _settings()
    for target, content in ((settings.team_file, EXAMPLE_TEAM.read_text(encoding="utf-8")),
                            (Path(".env"), _example_env())):
        if target.exists() and not force:
            typer.echo(f"{target} exists; kept (use --force to overwrite).")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        typer.echo(f"Wrote {target}.")
    typer.echo("Next: edit team.yaml, then `zhoubao doctor` and `zhoubao run`.")


@app.command()
def run(
    start: Annotated[str | None, typer.Option(help="Console only: start the clock here, e.g. '2024-06-24 09:00'.")] = None,
    echo: Annotated[bool, typer.Option(help="Console only: echo each input line (for piped scripts).")] = False,
) -> None:
    """Start the bot: on Slack or Feishu when their credentials are set, otherwise on the console.

    The console reads commands from stdin (type `help`), so a piped script plays a whole week.
    """
    settings = _settings()
    team = _team(settings)
    if settings.platform != "console":
        _serve_platform(settings, team)
        return
    now = datetime.now(team.zone)
    if start:
        try:
            now = datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=team.zone)
        except ValueError:
            raise _fail(f"--start '{start}': write it like 2024-06-24 09:00") from None
    chat, clock = ConsoleChat(sys.stdout), VirtualClock(now)
    bot = _bot(settings, team, chat, clock)
    session = ConsoleSession(bot, chat, clock, sys.stdout, jobs=DueJobs(bot), echo=echo)
    interactive = sys.stdin.isatty()
    if interactive:
        typer.echo(f"zhoubao console — team {team.team.name}, {now:%Y-%m-%d %a %H:%M} {team.team.timezone}. "
                   "Type `help`; start with `who`, `as <name>`, then `clock thu 10:00` to fire the weekly prompt.")
    session.run(_lines(session) if interactive else sys.stdin)


def _serve_platform(settings: Settings, team: Team) -> None:
    """Slack or Feishu in real time: the platform adapter, the core, and the APScheduler jobs."""
    from bot.runtime.health import health
    from bot.runtime.logs import configure_logging
    from bot.runtime.scheduler import options_from_settings, start_scheduler, stop_on_sigterm

    configure_logging(settings.log_level)

    def factory(chat: ChatPort) -> Bot:
        return build_bot(team, chat, lambda: datetime.now(team.zone), database_url=settings.database_url,
                         allow_other_teams=False, spool_dir=settings.spool_dir)

    def start_jobs(bot: Bot) -> Callable[[], tuple[int, dict[str, Any]]]:
        scheduler = start_scheduler(bot, options_from_settings(settings))
        assert bot.spool is not None
        bot.spool.start()
        stop_on_sigterm(scheduler, bot.spool.stop)  # SIGTERM: finish in-flight sends, then stop
        return lambda: health(bot, scheduler, bot.spool)

    if settings.platform == "slack":
        from bot.adapters.slack import serve
    else:
        from bot.adapters.feishu import serve  # type: ignore[assignment]
    try:
        serve(factory, team, settings, on_start=start_jobs)
    except (ValueError, DatabaseError, TeamMismatchError) as exc:
        raise _fail(f"{settings.platform}: {exc}") from None


def _lines(session: ConsoleSession):  # type: ignore[no-untyped-def]
    while True:
        try:
            yield input(f"{session._who()}> ")
        except EOFError:
            return


@app.command()
def demo() -> None:
    """Play the example week (2024-W26) of the example team in the configured database, then publish it."""
    settings = _settings()
    team = _team(settings, EXAMPLE_TEAM)
    if not settings.team_file.exists():
        settings.team_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLE_TEAM, settings.team_file)
        typer.echo(f"Wrote the example team file to {settings.team_file}.")
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        with session_factory(engine)() as s:
            d = Directory(s)
            others = [n for n in d.team_names() if n != team.team.name]
            row = d.team(team.team.name)
            week = d.week(row.id, DEMO_WEEK) if row else None
            played = week is not None and Reports(s).get(row.id, week.id) is not None if row else False
    except DatabaseError as exc:
        raise _fail(f"Database: {exc}") from None
    if others:
        raise _fail(f"The database at {settings.database_url} holds another team's data ({', '.join(others)}); "
                    "the demo will not touch it. Point DATABASE_URL at an empty database, e.g. "
                    "DATABASE_URL=sqlite:///./data/demo.db zhoubao demo")
    if played:
        typer.echo(f"The demo week {DEMO_WEEK} is already in this database. "
                   f"See it with: zhoubao report --week {DEMO_WEEK} --format md")
        return
    chat, clock = ConsoleChat(sys.stdout), VirtualClock(DEMO_START)
    bot = _bot(settings, team, chat, clock, engine=engine)
    ConsoleSession(bot, chat, clock, sys.stdout, jobs=DueJobs(bot), echo=True).run(SCRIPT.splitlines())
    typer.echo(f"\nDemo done. Print the report again with: zhoubao report --week {DEMO_WEEK} --format md")


@app.command()
def report(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2024-W26.")],
    format: Annotated[str, typer.Option("--format", help="md, slack or feishu.")] = "md",
    lang: Annotated[str | None, typer.Option(help="zh-CN or en (default: the team's locale).")] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print (or write) a week's report compiled from what is stored."""
    if format not in ("md", "slack", "feishu"):
        raise _fail(f"--format must be md, slack or feishu, not '{format}'")
    try:
        iso = IsoWeek.parse(week)
    except WeekLabelError as exc:
        raise _fail(str(exc)) from None
    settings = _settings()
    team = _team(settings)
    if lang:
        if lang not in ("zh-CN", "en"):
            raise _fail(f"--lang must be zh-CN or en, not '{lang}'")
        team = Team.model_validate({**team.model_dump(), "team": {**team.team.model_dump(), "locale": lang}})
    bot = _bot(settings, team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)),
               allow_other_teams=False)
    with session_factory(bot.engine)() as s:
        row = Reports(s).by_label(bot.ctx.team_id, iso.label)
        published = row.published_at if row else None
    text = bot.ctx.renderer.render(bot.cycle.compile(iso, published or bot.ctx.now()), format)  # type: ignore[arg-type]
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output}.")
    else:
        sys.stdout.write(text)


@incident_app.command("add")
def incident_add(
    text: Annotated[str, typer.Argument(help="As after /incident: '06/21 10:04 order-api 节点OOM 原因：… 级别：C'.")],
    reporter: Annotated[str, typer.Option("--as", help="Reporter: a person id or name from the team file.")],
) -> None:
    """File an incident from the command line."""
    settings = _settings()
    team = _team(settings)
    bot = _bot(settings, team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)))
    outcome = bot.incidents.handle("cli", reporter, text, bot.ctx.now(), announce=False)
    typer.echo(outcome.reply.text)
    if not outcome.reply.ok or outcome.number is None:
        raise typer.Exit(1)


@incident_app.command("list")
def incident_list(week: Annotated[str | None, typer.Option(help="ISO week; default this week.")] = None) -> None:
    """List a week's incidents with their ids."""
    settings = _settings()
    team = _team(settings)
    bot = _bot(settings, team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)))
    try:
        iso = IsoWeek.parse(week) if week else bot.ctx.week_of(bot.ctx.now())
    except WeekLabelError as exc:
        raise _fail(str(exc)) from None
    typer.echo(bot.incidents.list_text(iso))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations (also done on every start)."""
    settings = _settings()
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        current, head = migration_state(engine)
    except DatabaseError as exc:
        raise _fail(f"Database: {exc}") from None
    typer.echo(f"Database at revision {current} (head {head}).")


@app.command()
def doctor() -> None:
    """Check settings, the team file, the database and its migrations; name what is wrong."""
    from bot.runtime.doctor import run_checks

    ok = run_checks(_settings())
    raise typer.Exit(0 if ok else 1)


from bot.runtime.cli_history import register_history  # noqa: E402  (import, export)

register_history(app)


def main() -> None:
    app()
