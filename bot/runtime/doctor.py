"""`zhoubao doctor`: checks the setup and names what is wrong, one line per check, each saying what to do.

Doctor only reads: it never creates the database file or folder (on failure nothing is left behind);
`zhoubao init` and `zhoubao db upgrade` create and migrate the database, and `zhoubao run` does too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.runtime.settings import Settings, both_platforms_problem
from bot.runtime.team_file import TeamFileError, load_department
from storage.db import DatabaseError, make_engine, migration_state, normalize_url, session_factory

# Every command reads its settings through `settings_problems`: rich (doctor's output) and the scheduler's
# job table load only when doctor itself prints or checks the schedule.
if TYPE_CHECKING:
    from rich.console import Console

Line = Callable[[bool, str], None]


def console() -> Console:
    """Doctor's console: long lines are never broken by rich (a wide terminal shows them whole;
    a narrow one wraps them itself)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def settings_problems(exc: ValidationError) -> list[str]:
    """Each problem pydantic found in the environment, as one plain sentence naming the variable."""
    out = []
    for err in exc.errors():
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err.get("loc", ()))
        out.append(f"{loc.upper()}: {msg}" if loc and loc.upper() not in msg else msg)
    return out


def report_settings_error(exc: ValidationError, out: Console | None = None) -> None:
    """Doctor's answer when the settings themselves are incomplete: one ✗ line per problem."""
    from rich.markup import escape

    out = out or console()
    for problem in settings_problems(exc):
        out.print("[red]✗[/red] settings: " + escape(problem) + " — fix it in .env or the environment")


def shown_url(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL points at (None for memory databases and other back ends)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).expanduser()


def check_database(settings: Settings, line: Line) -> bool:
    """One line on the database; True when it is reachable and migrated."""
    shown = shown_url(settings.database_url)
    sqlite = _sqlite_file(settings.database_url)
    if sqlite is not None and not sqlite.exists():
        line(False, f"database {sqlite} does not exist yet — run `zhoubao db upgrade` to create it "
                    "(`zhoubao init` and `zhoubao run` also do)")
        return False
    try:
        engine = make_engine(settings.database_url)
    except DatabaseError as exc:
        line(False, f"database {shown}: {exc}")
        return False
    try:
        current, head = migration_state(engine)
    except (DatabaseError, SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        line(False, f"database {shown} unreachable ({reason}) — check DATABASE_URL and that the server is running")
        return False
    finally:
        engine.dispose()
    if current == head:
        line(True, f"database reachable; migrations at {current} (head {head})")
        return True
    if current is None:
        line(False, f"database reachable; migrations at none (head {head}) — run `zhoubao db upgrade`")
    else:
        line(False, f"database reachable; migrations at {current} (head {head}) — run `zhoubao db upgrade`; "
                    "if it says the revision is unknown, this database belongs to a newer zhoubao")
    return False


def prompted_weeks(settings: Settings, team: Team) -> Callable[[str], bool]:
    """Whether a week's prompts went out, read from the database (read only)."""

    def prompted(label: str) -> bool:
        from bot.services.stored_team import StoredTeam

        engine = make_engine(settings.database_url)
        try:
            return StoredTeam(session_factory(engine), team.team.name).prompted(IsoWeek.parse(label))
        finally:
            engine.dispose()

    return prompted


def check_schedule(team: Team, line: Line, now: datetime | None = None,
                   prompted: Callable[[str], bool] | None = None) -> None:
    """The next run of each job, then the next publish run and whether it will post."""
    now = now or datetime.now(team.zone)
    nxt: dict[str, datetime] = {}
    from bot.runtime.jobs import job_specs

    specs = job_specs(team)
    for spec in specs:
        fire = spec.trigger(team).get_next_fire_time(None, now)
        if fire is None:
            continue
        nxt.setdefault(spec.kind, fire)
        line(True, f"schedule {spec.id}: next {fire:%Y-%m-%d %a %H:%M} ({team.team.timezone})")
    publish, prompt = nxt.get("publish"), nxt.get("prompt")
    if publish is None:
        line(False, "next publish run: none in the coming year — check `schedule.publish` in the team file")
        return
    text = f"next publish run: {publish:%Y-%m-%d %a %H:%M} ({team.team.timezone})"
    if prompt is not None and prompt > publish:
        # That week's prompt time has passed. A week whose prompts never went out is not posted
        # (WeeklyCycle.publish_on_schedule) unless the calendar skipped every prompt of the week.
        week = IsoWeek.of(publish)
        start = week.start(team.zone)
        due = any(t is not None and start <= t < publish
                  for spec in specs if spec.kind != "publish"
                  for t in [spec.trigger(team).get_next_fire_time(None, start)])
        if due and prompted is not None and not prompted(week.label):
            after = next((spec.trigger(team).get_next_fire_time(None, prompt) for spec in specs
                          if spec.kind == "publish"), None)
            first = f"; the first report: {after:%Y-%m-%d %a %H:%M}" if after else ""
            text += (f" — no prompt went out for {week.label}, so it will post nothing and tell the editors "
                     f"(`/zhoubao publish` posts it anyway){first}")
        elif due and prompted is None:
            text += f"; it posts only if {week.label}'s prompts went out"
    line(True, text)


def run_checks(settings: Settings, out: Console | None = None, *, now: datetime | None = None) -> bool:
    """Print each check; True when nothing is wrong."""
    from rich.markup import escape

    out = out or console()
    ok = True

    def line(good: bool, text: str) -> None:
        nonlocal ok
        ok = ok and good
        out.print(("[green]✓[/green] " if good else "[red]✗[/red] ") + escape(text))

    where = ("console (no Slack or Feishu credentials; set SLACK_* or FEISHU_* in .env to connect)"
             if settings.platform == "console" else settings.platform)
    line(True, f"settings: platform {where}; database {shown_url(settings.database_url)}")
    teams: tuple[Team, ...] = ()
    try:
        department = load_department(settings.team_file)
        teams = tuple(t.team for t in department.teams)
        problem = both_platforms_problem(settings, department.platforms_named)
        if problem:
            line(False, f"settings: {problem}")
        if department.info is not None:
            line(True, f"department file {settings.team_file}: {department.name}, {len(teams)} teams, the "
                       f"roll-up to {department.info.report_channel} at {department.info.publish}")
        for entry in department.teams:
            file = settings.team_file if department.info is None else f"{entry.key}.yaml"
            line(True, f"team file {file}: {entry.name}, {len(entry.team.people)} people, "
                       f"{len(entry.team.items)} items")
    except TeamFileError as exc:
        hint = " — run `zhoubao init` to write an example" if not settings.team_file.exists() else \
            " — fix it in the team file"
        line(False, str(exc) + hint)
    database_ok = check_database(settings, line)
    for good, text in digest_checks(settings):
        line(good, text)
    for team in teams:
        check_schedule(team, line, now, prompted_weeks(settings, team) if database_ok else None)
        for good, text in platform_checks(settings, team):
            line(good, text)
    return ok


def digest_checks(settings: Settings) -> Sequence[tuple[bool, str]]:
    """Whether the key points are on, which host the week's facts go to, and whether that server answers
    `/models` and lists the model (one call, within AI_TIMEOUT_SECONDS)."""
    from bot.runtime.composition import digest_parts
    from bot.services.digest_model import ModelError

    model, config = digest_parts(settings)
    if model is None:
        return [(True, "key points off (set AI_BASE_URL and AI_MODEL to have a model write them)")]
    names = "pseudonyms (person-17)" if config.pseudonyms else "names"
    out = [(True, f"key points on: the week's facts go to {model.host} (model {model.model}), people as {names}")]
    try:
        listed = model.models()
    except ModelError as exc:
        return [*out, (False, f"model server {model.base_url} does not answer /models ({exc}) — check AI_BASE_URL "
                              "and that the server is running; the report is posted without key points meanwhile")]
    if model.model in listed:
        return [*out, (True, f"model server answers /models and lists {model.model}")]
    return [*out, (False, f"model server answers /models but has no {model.model} (it has "
                          f"{', '.join(listed[:10]) or 'none'}) — check AI_MODEL (Ollama: `ollama pull {model.model}`)")]


def platform_checks(settings: Settings, team: Team) -> Sequence[tuple[bool, str]]:
    """The checks of the chat app the team is on: its `team.platform`, else the environment's."""
    platform = team.team.platform or settings.platform
    if platform == "slack":
        from bot.adapters.slack.doctor import check as slack_check

        return slack_check(settings, team)
    if platform == "feishu":
        from bot.adapters.feishu.doctor import check as feishu_check

        return feishu_check(settings, team)
    return ()


def sign_in_problem(settings: Settings, platforms: Sequence[str] | None = None) -> str | None:
    """Before serving: one call to each platform (the environment's, or `platforms`: every app a department
    served in one process uses, each when configured: the composition root names missing credentials); a
    line naming what is wrong, or None when each answered."""
    for platform in platforms if platforms is not None else (settings.platform,):
        if platform == "slack" and settings.slack_bot_token is not None:
            from bot.adapters.slack.doctor import sign_in as slack_sign_in

            auth, said = slack_sign_in(settings)
            if auth is None:
                return said
        elif platform == "feishu" and settings.feishu_app_id and settings.feishu_app_secret is not None:
            from bot.adapters.feishu.doctor import sign_in as feishu_sign_in

            good, said = feishu_sign_in(settings)
            if not good:
                return said
    return None


def explain_failure(exc: BaseException, settings: Settings) -> str:
    """One line for anything that stopped `zhoubao run`: the platform's words when it is about the
    platform, the database's when about the database, else the exception's own."""
    if settings.platform == "slack":
        from bot.adapters.slack.doctor import explain as slack_explain

        said = slack_explain(exc, settings)
    elif settings.platform == "feishu":
        from bot.adapters.feishu.doctor import explain as feishu_explain

        said = feishu_explain(exc, settings)
    else:
        said = None
    if said:
        return said
    if isinstance(exc, DatabaseError | SQLAlchemyError):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"Database {shown_url(settings.database_url)}: {reason}"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
