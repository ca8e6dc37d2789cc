"""`zhoubao` command line: init, run, demo, report, incident, db, backup, restore, doctor, dashboard
(import and export: cli_history; digest: cli_digest)."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import stat
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from pydantic import ValidationError
from typer.core import TyperCommand, TyperGroup

from bot.runtime.cli_dashboard import dashboard_app
from bot.runtime.cli_shared import TeamOption, fail, read_settings
from bot.runtime.heap import started
from bot.runtime.settings import Settings

# A light start: `zhoubao --help` loads typer and the settings only. Each command imports what it runs
# (the services, the database, the composition root) in its body; a platform SDK only when that platform
# is configured (composition.py). tests/test_light_start.py holds this.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.adapters.console.workspace import ConsoleSession
    from bot.domain.department import Department
    from bot.domain.team import Team
    from bot.domain.weeks import IsoWeek
    from bot.runtime.composition import DepartmentBots, HttpThread, Runtime
    from bot.runtime.store import Reports
    from bot.services.bot import Bot


def _plain_metavars(params: list[Any]) -> list[Any]:
    """Help shows `--week WEEK` and bare flags, not typer's `<str>` / `<bool>` type tags."""
    for p in params:
        if getattr(p, "param_type_name", "") == "argument":
            # An argument's type column ignores metavar in typer; its name already says what to write.
            p.display_type_rich = lambda ctx: None
            p.metavar = p.metavar or (p.name or "value").upper()
        elif p.metavar is None:
            p.metavar = "" if getattr(p, "is_flag", False) else (p.name or "value").upper()
    return params


# typer vendors its own click (typer._click, private), so its Context and Parameter are typed as Any here.
class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))


# pretty_exceptions_enable=False: an unexpected error is one line (see `run`), the traceback only with --debug.
app = typer.Typer(help="zhoubao (周报): runs a team's weekly report in Slack, Feishu/Lark or the console.",
                  no_args_is_help=True, add_completion=False, cls=_Group, pretty_exceptions_enable=False)
incident_app = typer.Typer(help="File and list production incidents.", no_args_is_help=True, cls=_Group)
log = logging.getLogger("zhoubao")
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True, cls=_Group)
app.add_typer(incident_app, name="incident")
app.add_typer(db_app, name="db")
app.add_typer(dashboard_app, name="dashboard")


def _department(settings: Settings, path: Path | None = None) -> Department:
    from bot.runtime.team_file import TeamFileError, load_department

    try:
        return load_department(path or settings.team_file)
    except TeamFileError as exc:
        raise fail(str(exc)) from None


def _team(settings: Settings, path: Path | None = None, wanted: str | None = None) -> Team:
    """The team `--team` names in the department TEAM_FILE describes (the only team when it names none)."""
    return _choose(_department(settings, path), wanted)


def _choose(department: Department, wanted: str | None) -> Team:
    from bot.domain.department import TeamChoiceError

    try:
        return department.choose(wanted)
    except TeamChoiceError as exc:
        raise fail(f"--team: {exc}") from None




def _bot(settings: Settings, team: Team, chat: ConsoleChat, clock: VirtualClock, *,
         engine: Engine | None = None, allow_other_teams: bool = True) -> Bot:
    from bot.runtime.composition import build_bot
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    try:
        bot = build_bot(team, chat, clock, database_url=settings.database_url, engine=engine,
                        migrate=engine is None, allow_other_teams=allow_other_teams)
    except (DatabaseError, TeamMismatchError) as exc:
        raise fail(f"Database: {exc}") from None
    started()
    return bot


def _reports(settings: Settings, team: Team, chat: ConsoleChat, clock: VirtualClock, *,
             allow_other_teams: bool = True) -> Reports:
    """The read side of `team` (for a command that reads its weeks: no jobs, inbox or platform loaded)."""
    from bot.runtime.store import open_reports
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    try:
        reports = open_reports(team, chat, clock, database_url=settings.database_url,
                               allow_other_teams=allow_other_teams)
    except (DatabaseError, TeamMismatchError) as exc:
        raise fail(f"Database: {exc}") from None
    started()
    return reports


def _example_env() -> str:
    for candidate in (Path(__file__).resolve().parents[1] / "examples" / "env.example",
                      Path(__file__).resolve().parents[2] / ".env.example"):
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    return ""


@app.command(cls=_Command)
def init(force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
         department: Annotated[bool, typer.Option("--department", help="Write an example department of three "
                                                  "teams instead (TEAM_FILE names them; their files beside it).")]
         = False) -> None:
    """Write a commented example team file (team.yaml) and .env for a team shaped like the example report."""
    from storage.db import DatabaseError, make_engine, migration_state, upgrade

    settings = read_settings()
    for target, content in (*_example_files(settings.team_file, department), (Path(".env"), _example_env())):
        if target.exists() and not force:
            typer.echo(f"{target} exists; kept (use --force to overwrite).")
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        except OSError as exc:  # a read-only folder, or a file where a folder should be
            raise fail(f"Cannot write {target} ({exc.strerror}); run `zhoubao init` in a folder you can "
                        "write to.") from None
        typer.echo(f"Wrote {target}.")
    # The database is created and migrated here, so `zhoubao doctor` passes right after `init`.
    settings = read_settings()
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        current, _ = migration_state(engine)
        engine.dispose()
    except DatabaseError as exc:
        raise fail(f"Database: {exc}") from None
    from bot.runtime.doctor import shown_url

    typer.echo(f"Database ready at {shown_url(settings.database_url)} (revision {current}).")
    typer.echo(f"Next: edit {settings.team_file}, then `zhoubao doctor` and `zhoubao run`.")


def _example_files(team_file: Path, department: bool) -> list[tuple[Path, str]]:
    """What `init` writes at TEAM_FILE: the example team, or the example department's file (there) and its
    three team files (beside it), so TEAM_FILE needs no change either way."""
    from bot.adapters.console.demo import DEPARTMENT_FILES, EXAMPLE_DEPARTMENT, EXAMPLE_TEAM

    if not department:
        return [(team_file, EXAMPLE_TEAM.read_text(encoding="utf-8"))]
    head, *teams = DEPARTMENT_FILES
    return [(team_file, (EXAMPLE_DEPARTMENT / head).read_text(encoding="utf-8")),
            *((team_file.parent / name, (EXAMPLE_DEPARTMENT / name).read_text(encoding="utf-8")) for name in teams)]


@app.command(cls=_Command)
def run(
    start: Annotated[str | None, typer.Option(help="Console only: start the clock here, e.g. '2024-06-24 09:00'.")] = None,
    echo: Annotated[bool, typer.Option(help="Console only: echo each input line (for piped scripts).")] = False,
    debug: Annotated[bool, typer.Option(help="Show the full traceback when something fails.")] = False,
    team_name: TeamOption = None,
) -> None:
    """Start the bot: on Slack or Feishu when their credentials are set, otherwise on the console.

    The console reads commands from stdin (type `help`), so a piped script plays a whole week.
    """
    from bot.adapters.console.chat import VirtualClock
    from bot.adapters.console.workspace import ConsoleSession
    from bot.runtime.composition import ConsoleParts, compose
    from bot.runtime.jobs import DueJobs
    from bot.runtime.settings import both_platforms_problem
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    settings = read_settings()
    refusal = _console_refusal(settings)
    if refusal:  # a container or service with no credentials stops with a reason instead of restarting silently
        raise fail(refusal)
    department = _department(settings)
    problem = both_platforms_problem(settings, department.platforms_named)
    if problem:
        raise fail(f"Settings: {problem}")
    # A department file without --team: every team in this one process, each on its chat app.
    whole = team_name is None and len(department.teams) > 1 and \
        any(department.platform_of(t, settings.platform) != "console" for t in department.teams)
    team = department.teams[0].team if whole else _choose(department, team_name)  # the file read once (ruamel: ~50 ms)
    if (team.team.platform or settings.platform) != "console" or whole:
        from bot.runtime.composition import listen
        from bot.runtime.doctor import explain_failure, sign_in_problem

        # The port first: a taken port is one line before any call to the platform, migration or log line.
        try:
            sock = listen(settings)
        except OSError as exc:
            raise fail(f"HTTP: cannot listen on port {settings.port} ({exc.strerror}); set PORT to a free "
                        "port.") from None
        try:
            apps = sorted({department.platform_of(t, settings.platform) for t in department.teams} - {"console"}) \
                if whole else [team.team.platform or settings.platform]
            problem = sign_in_problem(settings, apps)  # a bad token or no route is one line, not a traceback
            if problem:
                raise fail(problem)
            _serve_platform(settings, team, sock, department, whole=whole)
        except (typer.Exit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                raise
            raise fail(explain_failure(exc, settings) + " (run with --debug for the traceback)") from None
        finally:
            sock.close()  # served and stopped, or never served
        return
    now = datetime.now(team.zone)
    if start:
        try:
            now = datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=team.zone)
        except ValueError:
            raise fail(f"--start '{start}': write it like 2024-06-24 09:00") from None
    try:
        runtime = compose(settings, team, clock=VirtualClock(now))
    except (DatabaseError, TeamMismatchError) as exc:
        raise fail(f"Database: {exc}") from None
    assert isinstance(runtime.platform, ConsoleParts)
    session = ConsoleSession(runtime.bot, runtime.platform.chat, runtime.platform.clock, sys.stdout,
                             jobs=DueJobs(runtime.bot), echo=echo)
    http = _http_alongside(runtime, settings)
    started()  # the console's jobs run on this thread as lines are read: collect from here
    if http is not None and team.editors:
        from bot.runtime.dashboard import sign_in_link

        editor = team.person_by_id[team.editors[0]]
        link, expires = sign_in_link(runtime.bot.ctx, runtime.dashboard, editor.id)
        typer.echo(f"Dashboard: {runtime.dashboard.url('/')}\n"
                   f"Sign in as {editor.name} (one use, until {expires:%H:%M}): {link}\n"
                   f"Another person: zhoubao dashboard link --as <name>", err=True)
    interactive = sys.stdin.isatty()
    if interactive:
        typer.echo(f"zhoubao console — team {team.team.name}, {now:%Y-%m-%d %a %H:%M} {team.team.timezone}. "
                   "Type `help`; start with `who`, `as <name>`, then `clock thu 10:00` to fire the weekly prompt.")
    try:
        session.run(_lines(session) if interactive else sys.stdin)
    finally:
        if http is not None:
            http.stop()
        runtime.stop()


# What `zhoubao run` looks for before it falls back to the console (Settings.platform).
CREDENTIALS_LOOKED_FOR = ("SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, or FEISHU_APP_ID with "
                          "FEISHU_APP_SECRET")


def _console_refusal(settings: Settings) -> str | None:
    """Why `zhoubao run` must not fall back to the console (None: it may). With no credentials the console
    reads stdin; where nobody can type (a container or a systemd unit: stdin is /dev/null) it would read
    EOF, exit 0 and be restarted again and again without a word, so it refuses with one line instead. A
    piped script (`zhoubao run < week.txt`) is input, so it still plays."""
    if settings.platform != "console" or settings.zhoubao_console is True:
        return None
    if settings.zhoubao_console is False:
        why = "ZHOUBAO_CONSOLE=0 turns the console off"
    elif _no_input(sys.stdin):
        why = "stdin is not a terminal (nobody can type into the console)"
    else:
        return None
    return (f"No chat credentials: looked for {CREDENTIALS_LOOKED_FOR} in the environment and .env, and {why}. "
            "Set the credentials (zhoubao doctor checks them), or run `zhoubao run` in a terminal for the console.")


def _no_input(stdin: TextIO | None) -> bool:
    """True when stdin can bring no console input: closed, or a device that is not a terminal (/dev/null,
    what Docker without -i and systemd give a process). A pipe or a file is a script; a stream with no file
    descriptor (a test's in-memory input) is one too."""
    if stdin is None:
        return True
    try:
        fd = stdin.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False
    try:
        mode = os.fstat(fd).st_mode
    except OSError:  # fd 0 closed
        return True
    return stat.S_ISCHR(mode) and not os.isatty(fd)


def _http_alongside(runtime: Runtime, settings: Settings) -> HttpThread | None:
    """The HTTP app (health, metrics, the dashboard) beside the console; a busy port is one line."""
    from bot.runtime.composition import listen

    port = settings.port
    try:
        sock = listen(settings)
    except OSError as exc:
        typer.echo(f"HTTP: port {port} is not available ({exc.strerror}); the console runs without "
                   "/healthz, /readyz and /metrics (set PORT to another port).", err=True)
        return None
    return runtime.serve_alongside(sock)


def _serve_platform(settings: Settings, team: Team, sock: socket.socket, department: Department, *,
                    whole: bool = False) -> None:
    """Slack or Feishu in real time on `sock`: the composition root builds the process (`team`'s, or with
    `whole` every team of the department's, each on its chat app); it serves until SIGTERM."""
    from bot.runtime.composition import compose, compose_department
    from bot.runtime.logs import configure_logging
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    configure_logging(settings.log_level)
    try:
        runtime = compose_department(settings, department) if whole else compose(settings, team, department=department)
    except (ValueError, DatabaseError, TeamMismatchError) as exc:
        raise fail(f"{'department' if whole else team.team.platform or settings.platform}: {exc}") from None
    if whole:
        on = {t.key: department.platform_of(t, settings.platform) for t in department.teams}
        log.info("department: serving %s", ", ".join(f"{k} on {p}" for k, p in on.items()),
                 extra={"port": settings.port})
        _console_beside(runtime, department, on)
    else:
        log.info("%s: serving", team.team.platform or settings.platform,
                 extra={"port": settings.port, "mode": _mode(settings)})
    runtime.serve(sock)


def _console_beside(runtime: Runtime, department: Department, on: Mapping[str, str]) -> None:
    """A team on the console in a process serving Slack or Feishu too: its people type on stdin (when there
    is any) on a thread of its own, on the wall clock; its prompts and report print on stdout. With several
    console teams, the first one's."""
    from bot.adapters.console.workspace import ConsoleSession
    from bot.runtime.composition import ConsoleParts

    parts = runtime.part(ConsoleParts)
    key = next((k for k, p in on.items() if p == "console"), None)
    if parts is None or key is None or _no_input(sys.stdin):
        return
    name = department.choose(key).team.name
    bot = next(b for b in runtime.bots if b.ctx.team.team.name == name)
    assert runtime.scheduler is not None
    session = ConsoleSession(bot, parts.chat, parts.clock, sys.stdout, jobs=runtime.scheduler)
    threading.Thread(target=session.run, args=(sys.stdin,), name="zhoubao-console", daemon=True).start()


def _mode(settings: Settings) -> str:
    if settings.platform == "slack":
        return "socket mode" if settings.slack_app_token is not None else "http"
    return "long connection" if settings.feishu_event_mode != "http" else "http"


def _lines(session: ConsoleSession) -> Iterator[str]:
    while True:
        try:
            yield input(f"{session.speaker()}> ")
        except EOFError:
            return


@app.command(cls=_Command)
def demo(department: Annotated[bool, typer.Option("--department", help="Play the week through the example "
                                                  "department's three teams, then post the roll-up.")] = False
         ) -> None:
    """Play the example week (2024-W26) of the example team in the configured database, then publish it."""
    if department:
        _demo_department()
        return
    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.adapters.console.demo import DEMO_START, DEMO_WEEK, EXAMPLE_TEAM, SCRIPT
    from bot.adapters.console.workspace import ConsoleSession
    from bot.domain.weeks import IsoWeek
    from bot.runtime.jobs import DueJobs
    from storage.db import DatabaseError, make_engine, session_factory, upgrade

    settings = read_settings()
    team = _team(settings, EXAMPLE_TEAM)
    if not settings.team_file.exists():
        settings.team_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLE_TEAM, settings.team_file)
        typer.echo(f"Wrote the example team file to {settings.team_file}.")
    try:
        from bot.services.stored_team import StoredTeam

        engine = make_engine(settings.database_url)
        upgrade(engine)
        stored = StoredTeam(session_factory(engine), team.team.name)
        others = stored.other_teams()
        played = stored.published_at(IsoWeek.parse(DEMO_WEEK)) is not None
    except DatabaseError as exc:
        raise fail(f"Database: {exc}") from None
    if others:
        raise fail(f"The database at {settings.database_url} holds another team's data ({', '.join(others)}); "
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


def _demo_department() -> None:
    """The example department's week: each team's script on the console (each ends with its report posted),
    then the department's roll-up posted at the department's publish time."""
    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.adapters.console.demo import DEMO_START, DEMO_WEEK, DEPARTMENT_SCRIPTS, EXAMPLE_DEPARTMENT
    from bot.adapters.console.workspace import ConsoleSession
    from bot.domain.weeks import IsoWeek
    from bot.runtime.jobs import DueJobs
    from bot.services.stored_team import StoredTeam
    from storage.db import DatabaseError, make_engine, session_factory, upgrade

    settings = read_settings()
    department = _department(settings, EXAMPLE_DEPARTMENT / "department.yaml")
    if not settings.team_file.exists():
        for target, content in _example_files(settings.team_file, True):
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_text(content, encoding="utf-8")
        typer.echo(f"Wrote the example department to {settings.team_file} (and its teams beside it).")
    week = IsoWeek.parse(DEMO_WEEK)
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        stored = StoredTeam(session_factory(engine), department.teams[0].name)
        others = sorted(set(stored.other_teams()) - set(department.team_names))
        played = stored.published_at(week) is not None
    except DatabaseError as exc:
        raise fail(f"Database: {exc}") from None
    if others:
        raise fail(f"The database at {settings.database_url} holds data of teams outside the example department "
                    f"({', '.join(others)}); the demo will not touch it. Point DATABASE_URL at an empty database, "
                    "e.g. DATABASE_URL=sqlite:///./data/demo.db zhoubao demo --department")
    if played:
        typer.echo(f"The demo week {DEMO_WEEK} is already in this database. See the roll-up with: "
                   f"zhoubao report --department --week {DEMO_WEEK}")
        return
    chat, clock = ConsoleChat(sys.stdout), VirtualClock(DEMO_START)
    built = _department_bots(settings, department, chat, clock)
    for entry, bot in zip(department.teams, built.bots, strict=True):
        typer.echo(f"\n════ {entry.name} ════")
        clock.now = DEMO_START.astimezone(entry.team.zone)  # each team plays the same week from its Monday
        ConsoleSession(bot, chat, clock, sys.stdout, jobs=DueJobs(bot), echo=True).run(
            DEPARTMENT_SCRIPTS[entry.key].splitlines())
    assert built.rollup is not None
    clock.now = built.rollup.fire_time(week)
    built.rollup.publish(week, clock.now)
    typer.echo(f"\nDemo done. Print the roll-up again with: zhoubao report --department --week {DEMO_WEEK}\n"
               f"and a team's report with: zhoubao report --team {department.teams[0].key} --week {DEMO_WEEK}")


@app.command(cls=_Command)
def report(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2024-W26.")],
    format: Annotated[str, typer.Option("--format", help="md, slack or feishu.")] = "md",
    lang: Annotated[str | None, typer.Option(help="zh-CN or en (default: the team's locale).")] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    force: Annotated[bool, typer.Option(help="Replace --output if it exists (never the database, the team file "
                                        "or the spool folder).")] = False,
    team_name: TeamOption = None,
    department: Annotated[bool, typer.Option("--department", help="The department's roll-up of its teams' "
                                             "published reports (md) instead of one team's report.")] = False,
) -> None:
    """Print (or write) a week's report compiled from what is stored, or with --department the roll-up."""
    from bot.domain.team import Team
    from bot.domain.weeks import IsoWeek, WeekLabelError

    if format not in ("md", "slack", "feishu"):
        raise fail(f"--format must be md, slack or feishu, not '{format}'")
    if department and (format != "md" or lang or team_name):
        raise fail("--department prints the roll-up of every team in md, in the department's locale "
                    "(no --format, --lang or --team)")
    if lang and lang not in ("zh-CN", "en"):
        raise fail(f"--lang must be zh-CN or en, not '{lang}'")
    try:
        iso = IsoWeek.parse(week)
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    settings = read_settings()
    teams = None if department else _department(settings)  # the team files are read once (ruamel: ~50 ms each)
    team = None if teams is None else _choose(teams, team_name)
    if output:
        from bot.runtime.output_files import BotFiles, OutputRefused, check_output

        try:
            check_output(output, BotFiles.of(settings.database_url, settings.team_file, settings.spool_dir),
                         force=force)
        except OutputRefused as exc:
            raise fail(str(exc)) from None
    if team is None:
        text = _rollup_text(settings, iso)
    else:
        if lang:
            team = Team.model_validate({**team.model_dump(), "team": {**team.team.model_dump(), "locale": lang}})
        assert teams is not None
        text = _team_report_text(settings, team, iso, format, as_posted=lang is None, alone=len(teams.teams) == 1)
    if output:
        from bot.runtime.output_files import replacing

        try:
            with replacing(output) as out:  # like `backup`: a new folder is made
                out.write(text)
        except OSError as exc:
            raise fail(f"--output {output}: cannot write it ({exc.strerror}).") from None
        typer.echo(f"Wrote {output}.")
    else:
        sys.stdout.write(text)


def _team_report_text(settings: Settings, team: Team, iso: IsoWeek, format: str, *, as_posted: bool,
                      alone: bool) -> str:
    """`alone`: the team is a department of one (its database may hold no other team; a department's holds
    its teams)."""
    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.domain.weeks import WeekLabelError

    reports = _reports(settings, team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)),
                       allow_other_teams=not alone)
    ctx = reports.ctx
    try:
        ctx.check_week(iso)
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    if iso.start(team.zone) > ctx.now():
        raise fail(f"{iso.label} has not started yet (it begins {iso.day(1):%Y-%m-%d}); there is nothing to "
                    "report. This week is " + ctx.week_of(ctx.now()).label + ".")
    from bot.services.exporting import Exporter
    from bot.services.stored_team import StoredTeam

    published = StoredTeam(ctx.db, team.team.name).published_at(iso)
    facts = None if published else reports.week_report.facts(iso)  # a published week prints what was posted
    if facts is not None and not (facts.entries or facts.banks or facts.metrics or facts.incidents):
        typer.echo(f"No answers, incidents or published report are stored for {iso.label}; every item below "
                   "reads as not updated.", err=True)
    return Exporter(ctx, reports.week_report).report(iso, format, as_posted=as_posted)  # type: ignore[arg-type]


def _department_bots(settings: Settings, department: Department, chat: ConsoleChat,
                     clock: VirtualClock) -> DepartmentBots:
    from bot.runtime.composition import build_department
    from bot.services.context import TeamMismatchError
    from storage.db import DatabaseError

    try:
        built = build_department(department, chat, clock, database_url=settings.database_url)
    except (DatabaseError, TeamMismatchError) as exc:
        raise fail(f"Database: {exc}") from None
    started()
    return built


def _rollup_text(settings: Settings, iso: IsoWeek) -> str:
    """The department's roll-up of `iso` as Markdown, compiled now from what the teams published."""
    from bot.adapters.console.chat import ConsoleChat, VirtualClock

    department = _department(settings)
    if department.info is None:
        raise fail(f"{settings.team_file} is a team file; the roll-up needs a department file naming its teams "
                    "(`zhoubao init --department` writes an example)")
    now = datetime.now(department.zone)
    built = _department_bots(settings, department, ConsoleChat(io.StringIO()), VirtualClock(now))
    assert built.rollup is not None
    return built.rollup.render(iso, now, "md")


@incident_app.command("add", cls=_Command)
def incident_add(
    text: Annotated[str, typer.Argument(help="As after /incident: '06/21 10:04 order-api 节点OOM 原因：… 级别：C'.")],
    reporter: Annotated[str, typer.Option("--as", help="Reporter: a person id or name from the team file.")],
    team_name: TeamOption = None,
) -> None:
    """File an incident from the command line."""
    from bot.adapters.console.chat import ConsoleChat, VirtualClock

    settings = read_settings()
    team = _team(settings, wanted=team_name)
    bot = _bot(settings, team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)))
    outcome = bot.incidents.handle("cli", reporter, text, bot.ctx.now(), announce=False)
    typer.echo(outcome.reply.text)
    if not outcome.reply.ok or outcome.number is None:
        raise typer.Exit(1)


@incident_app.command("list", cls=_Command)
def incident_list(week: Annotated[str | None, typer.Option(help="ISO week; default this week.")] = None,
                  team_name: TeamOption = None) -> None:
    """List a week's incidents with their ids."""
    from bot.adapters.console.chat import ConsoleChat, VirtualClock
    from bot.domain.weeks import WeekLabelError

    settings = read_settings()
    team = _team(settings, wanted=team_name)
    bot = _bot(settings, team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)))
    try:
        iso = bot.ctx.parse_week(week) if week else bot.ctx.week_of(bot.ctx.now())
    except WeekLabelError as exc:
        raise fail(str(exc)) from None
    typer.echo(bot.incidents.list_text(iso))


@db_app.command("upgrade", cls=_Command)
def db_upgrade() -> None:
    """Apply all database migrations (also done on every start)."""
    from storage.db import DatabaseError, make_engine, migration_state, upgrade

    settings = read_settings()
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        current, head = migration_state(engine)
    except DatabaseError as exc:
        raise fail(f"Database: {exc}") from None
    typer.echo(f"Database at revision {current} (head {head}).")


@app.command(cls=_Command)
def backup(dest: Annotated[Path, typer.Argument(help="The new backup file, e.g. backups/zhoubao-2026-11-27.db.")]) -> None:
    """Copy the SQLite database to DEST, safely while the bot runs (PostgreSQL: use pg_dump)."""
    from storage.backup import BackupError, backup_sqlite

    settings = read_settings()
    try:
        result = backup_sqlite(settings.database_url, dest)
    except BackupError as exc:
        raise fail(f"Backup: {exc}") from None
    typer.echo(f"Backed up {settings.database_url} to {result.path} "
               f"({result.size / 1024:.0f} KiB, migration revision {result.revision}).")


@app.command(cls=_Command)
def restore(
    src: Annotated[Path, typer.Argument(help="A file written by `zhoubao backup`.")],
    force: Annotated[bool, typer.Option(help="Replace a database that already holds data.")] = False,
) -> None:
    """Bring a backup back as the SQLite database at DATABASE_URL. Stop the bot first."""
    from storage.backup import BackupError, restore_sqlite

    settings = read_settings()
    try:
        result = restore_sqlite(src, settings.database_url, force=force)
    except BackupError as exc:
        raise fail(f"Restore: {exc}") from None
    typer.echo(f"Restored {src} into {result.path} (migration revision {result.revision}).")
    if result.revision != result.head:
        typer.echo(f"Next: `zhoubao db upgrade` brings it to revision {result.head} (the bot also does this on start).")


@app.command(cls=_Command)
def doctor() -> None:
    """Check settings, the team file, the database and its migrations; name what is wrong."""
    from bot.runtime.doctor import report_settings_error, run_checks

    try:
        settings = Settings()
    except ValidationError as exc:
        report_settings_error(exc)
        raise typer.Exit(1) from None
    ok = run_checks(settings)
    raise typer.Exit(0 if ok else 1)


from bot.runtime.cli_history import register_history  # noqa: E402  (import, export)

register_history(app)

from bot.runtime.cli_digest import register_digest  # noqa: E402  (digest)

register_digest(app, _Command)


def main() -> None:
    """The command line (the `zhoubao` script enters through start.py, which first turns automatic garbage
    collection off while the command starts: heap.py; the builders below call `started`)."""
    app()
