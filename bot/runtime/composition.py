"""The composition root: settings → engine → services → scheduler → chat adapter → HTTP app.

Everything is built here, once, in that order, each object complete when built: nothing is assigned
afterwards, nothing is registered globally, nothing happens at import. `compose` builds a whole
`Runtime` for `zhoubao run`; `build_bot` builds just the services around a given chat port (one-shot
commands and tests). Adapters only translate; they receive what they need from here.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Protocol, TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.adapters.console.workspace import ConsoleChat, VirtualClock
from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.web.config import DashboardConfig
from bot.domain.department import Department
from bot.domain.team import Team
from bot.runtime.dashboard import dashboard_config
from bot.runtime.health import Health
from bot.runtime.settings import Settings
from bot.runtime.team_reload import TeamReload
from bot.services.bot import Bot
from bot.services.chat import ChatPort
from bot.services.commands import Commands
from bot.services.context import Clock, Context, LiveTeam, Roster, register_team
from bot.services.cycle import WeeklyCycle
from bot.services.digest import DigestConfig, Digests
from bot.services.digest_model import DigestModel, OpenAIChatModel
from bot.services.documents import Destinations, DocumentPublisher
from bot.services.inbox import Inbox
from bot.services.incident_desk import IncidentDesk
from bot.services.journal import InboundJournal
from bot.services.metrics import NO_METRICS, Metrics
from bot.services.outbox import Outbox
from bot.services.platform_ids import PlatformIds
from bot.services.rollup import DepartmentRollup
from bot.services.spool import Spool
from bot.services.week_report import WeekReport
from bot.text.render import Renderer
from storage.db import make_engine, session_factory, startup_lock, upgrade

# A light start: a platform's SDK is imported by the function that wires that platform, the web stack,
# scheduler and metrics by `compose`, uvicorn by `_server`; one-shot commands (`build_bot`) load none of them.
if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from bot.adapters.feishu.api import OpenApi
    from bot.adapters.feishu.events import FeishuEvents
    from bot.adapters.feishu.gateway import FeishuGateway
    from bot.adapters.feishu.intake import FeishuIntake
    from bot.adapters.slack.app import SlackApp
    from bot.adapters.slack.gateway import SlackGateway
    from bot.adapters.slack.intake import ModalLane, SlackIntake
    from bot.adapters.slack.limits import Pacer
    from bot.runtime.http import Callback
    from bot.runtime.metrics import PrometheusMetrics
    from bot.runtime.rollup_schedule import RollupSchedule
    from bot.runtime.scheduler import Scheduler, SchedulerOptions

log = logging.getLogger("zhoubao.runtime")


# ----- the database and the services -------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """The database, migrated, with the team's rows in it."""

    engine: Engine
    db: sessionmaker[Session]
    roster: Roster


def open_store(team: Team, clock: Clock, *, database_url: str, engine: Engine | None = None, migrate: bool = True,
               allow_other_teams: bool = True) -> Store:
    """Open (and migrate) the database and register the team and its people."""
    engine = engine or make_engine(database_url)
    db = session_factory(engine)
    with startup_lock(engine):  # several instances starting at once on one PostgreSQL
        if migrate:
            upgrade(engine)
        roster = register_team(db, team, clock().astimezone(team.zone), allow_other_teams=allow_other_teams)
    return Store(engine, db, roster)


def digest_parts(settings: Settings) -> tuple[DigestModel | None, DigestConfig]:
    """The model that writes the key points (None when AI_BASE_URL/AI_MODEL are unset) and the team's digest
    settings. Building the model loads no client: `openai` is imported by its first call."""
    config = DigestConfig(max_lines=settings.ai_digest_lines, min_lines=settings.ai_digest_min_lines,
                          pseudonyms=settings.ai_pseudonyms, post_unapproved=settings.ai_post_unapproved,
                          context_tokens=settings.ai_context_tokens, timeout_seconds=settings.ai_timeout_seconds)
    if not (settings.ai_base_url and settings.ai_model):
        return None, config
    key = settings.ai_api_key.get_secret_value() if settings.ai_api_key is not None else None
    return OpenAIChatModel(settings.ai_base_url, settings.ai_model, key, settings.ai_timeout_seconds), config


def build_services(team: Team, store: Store, chat: ChatPort, clock: Clock, *, templates: Path | None = None,
                   spool_dir: Path | None = None, metrics: Metrics = NO_METRICS,
                   digest_model: DigestModel | None = None, digest_config: DigestConfig | None = None,
                   report_edit_every: float | None = None, destinations: Destinations | None = None,
                   live: LiveTeam | None = None) -> Bot:
    """The core services around one chat port. With `spool_dir`, platform payloads that arrive while the
    database is down are kept there (the journal's spool) until it returns; with `digest_model`, the week's
    key points are written by it. With `report_edit_every`, a posted report is edited after late answers from
    a thread of its own, at most once every that many seconds per week (None: at once, on the caller's
    thread: one-shot commands and the console). With `destinations`, each post is also written there, from
    a queue of its own when `report_edit_every` is set (else on the caller's thread). `live`: the running team
    when the chat port already reads it (built first, so a reload reaches the adapter's matching of people)."""
    ctx = Context(live=live or LiveTeam(team, store.roster), db=store.db, chat=chat, renderer=Renderer(templates), clock=clock,
                  metrics=metrics)
    week_report = WeekReport(ctx)
    documents = DocumentPublisher(ctx, destinations, outbox=Outbox(max_channels=1) if report_edit_every is not None
                                  else None) if destinations else None
    cycle = WeeklyCycle(ctx, week_report, digests=Digests(ctx, week_report, digest_model, digest_config),
                        edit_every=report_edit_every, documents=documents)
    inbox = Inbox(ctx, cycle)
    instance = f"{socket.gethostname()}-{os.getpid()}"
    # In its own folder under spool_dir (where earlier versions also kept an answers-only spool).
    journal = InboundJournal(ctx, store.engine, Spool(spool_dir / "inbound", instance) if spool_dir else None)
    return Bot(ctx=ctx, engine=store.engine, week_report=week_report, cycle=cycle, inbox=inbox, incidents=IncidentDesk(ctx, cycle),
               commands=Commands(ctx, week_report, cycle), journal=journal)


def build_bot(team: Team, chat: ChatPort, clock: Clock, *, database_url: str, templates: Path | None = None,
              engine: Engine | None = None, migrate: bool = True, allow_other_teams: bool = True,
              spool_dir: Path | None = None, metrics: Metrics = NO_METRICS,
              digest_model: DigestModel | None = None, digest_config: DigestConfig | None = None) -> Bot:
    """Open (and migrate) the database, register the team, and wire the services around `chat`."""
    store = open_store(team, clock, database_url=database_url, engine=engine, migrate=migrate,
                       allow_other_teams=allow_other_teams)
    return build_services(team, store, chat, clock, templates=templates, spool_dir=spool_dir, metrics=metrics,
                          digest_model=digest_model, digest_config=digest_config)


@dataclass(frozen=True)
class DepartmentBots:
    """One bot per team of the department, sharing the engine and the chat port, and the roll-up over them
    (None for a plain team file, a department of one without a roll-up)."""

    department: Department
    bots: tuple[Bot, ...]
    rollup: DepartmentRollup | None

    def bot(self, wanted: str | None) -> Bot:
        """The bot of the team `wanted` names (`Department.choose`); TeamChoiceError when none or several."""
        team = self.department.choose(wanted)
        return next(b for b in self.bots if b.ctx.team.team.name == team.team.name)


def build_department(department: Department, chat: ChatPort, clock: Clock, *, database_url: str,
                     engine: Engine | None = None, migrate: bool = True, templates: Path | None = None,
                     metrics: Metrics = NO_METRICS) -> DepartmentBots:
    """Open (and migrate) the database once, register every team of the department, and wire each team's
    services around the one `chat`; the department's roll-up reads them all."""
    engine = engine or make_engine(database_url)
    bots: list[Bot] = []
    for entry in department.teams:
        store = open_store(entry.team, clock, database_url=database_url, engine=engine, migrate=migrate)
        migrate = False  # once is enough
        bots.append(build_services(entry.team, store, chat, clock, templates=templates, metrics=metrics))
    rollup = None if department.info is None else \
        DepartmentRollup(department, bots, chat, Renderer(templates), f"{socket.gethostname()}-{os.getpid()}")
    return DepartmentBots(department, tuple(bots), rollup)


# ----- the chat adapters ----------------------------------------------------------------------------


class Connector(Protocol):
    """A connection the platform pushes events through (Socket Mode, the Feishu long connection)."""

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def connected(self) -> bool:
        """Whether the connection is open now (/readyz is not ready while it is not)."""
        ...


@dataclass(frozen=True)
class SlackParts:
    gateway: SlackGateway
    app: SlackApp
    modals: ModalLane  # where requests that open a modal run, beside the journal's worker
    intake: SlackIntake  # the ack path: journaled before Slack is answered


@dataclass(frozen=True)
class FeishuParts:
    api: OpenApi
    gateway: FeishuGateway
    events: FeishuEvents
    intake: FeishuIntake  # the ack path: journaled before Feishu is answered


@dataclass(frozen=True)
class ConsoleParts:
    chat: ConsoleChat
    clock: VirtualClock


@dataclass(frozen=True)
class Overrides:
    """What a test or bench supplies instead of what the root builds for production (the defaults)."""

    pacer: Pacer | None = None
    socket_mode: Callable[[SlackIntake, str], Connector] | None = None
    feishu_api: OpenApi | None = None
    # How long a card callback's answer waits for its work (None: the intake's own, within Feishu's 3 s);
    # tests that check the answered card give it longer, so a busy machine cannot turn it into "saving".
    feishu_card_wait: float | None = None
    feishu_bot_open_id: str | None = None  # known already: no bot-info call at start
    long_connection: Callable[[FeishuSettings, FeishuIntake], Connector] | None = None
    scheduler: SchedulerOptions | None = None
    console_out: TextIO | None = None
    templates: Path | None = None


def _slack(settings: Settings, team: Team, store: Store, clock: Clock, metrics: PrometheusMetrics,
           o: Overrides) -> tuple[Bot, SlackParts, Connector | None, dict[str, Callback]]:
    from slack_sdk.signature import SignatureVerifier

    from bot.adapters.slack import canvas
    from bot.adapters.slack import transports as slack
    from bot.adapters.slack.app import build_app
    from bot.adapters.slack.gateway import SlackGateway, make_client
    from bot.adapters.slack.intake import ModalLane, SlackIntake

    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ValueError("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    outbox = Outbox()  # answers leave per channel, paced, apart from the journal's worker
    live = LiveTeam(team, store.roster)  # the gateway matches users against the team a reload swaps in
    gateway = SlackGateway(client, live, ids=PlatformIds(store.db, store.roster), pacer=o.pacer, metrics=metrics,
                           outbox=outbox)
    model, config = digest_parts(settings)
    bot = build_services(team, store, gateway, clock, templates=o.templates, spool_dir=settings.spool_dir,
                         metrics=metrics, digest_model=model, digest_config=config,
                         report_edit_every=settings.report_edit_seconds, destinations=canvas.destinations(client, team),
                         live=live)
    assert bot.journal is not None
    # Every request is journaled before Slack is answered and the journal's worker runs the listeners;
    # one that opens a modal runs at once on the modal lane instead.
    modals = ModalLane()
    app = build_app(bot, gateway, defer=modals.defer)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    intake = SlackIntake(bot.journal, app, SignatureVerifier(secret) if secret else None, modals)
    parts = SlackParts(gateway, app, modals, intake)
    if settings.slack_app_token is not None:
        token = settings.slack_app_token.get_secret_value()
        connect = o.socket_mode or (lambda i, t: slack.socket_mode(i, t, client))
        return bot, parts, connect(intake, token), {}
    return bot, parts, None, {slack.EVENTS_PATH: intake.http}


def _feishu(settings: Settings, team: Team, store: Store, clock: Clock, metrics: PrometheusMetrics,
            o: Overrides) -> tuple[Bot, FeishuParts, Connector | None, dict[str, Callback]]:
    from bot.adapters.feishu import documents
    from bot.adapters.feishu import transports as feishu
    from bot.adapters.feishu.events import FeishuEvents
    from bot.adapters.feishu.gateway import FeishuGateway
    from bot.adapters.feishu.intake import FeishuIntake
    from bot.adapters.feishu.people import People

    keys = feishu.keys_of(settings)
    http_mode = settings.feishu_event_mode == "http"
    if http_mode and not (keys.verification_token and keys.encrypt_key):
        raise ValueError("FEISHU_EVENT_MODE=http needs FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY")
    api = o.feishu_api or feishu.open_api(settings, metrics)
    live = LiveTeam(team, store.roster)  # People matches open_ids against the team a reload swaps in
    people = People(api, live)
    gateway = FeishuGateway(api, people, outbox=Outbox(), dashboard=settings.dashboard_url)
    model, config = digest_parts(settings)
    bot = build_services(team, store, gateway, clock, templates=o.templates, spool_dir=settings.spool_dir,
                         metrics=metrics, digest_model=model, digest_config=config,
                         report_edit_every=settings.report_edit_seconds,
                         destinations=documents.destinations(api, people, team), live=live)
    # The journal's worker runs the events, one at a time in arrival order.
    events = FeishuEvents(bot, gateway, bot_open_id=o.feishu_bot_open_id or feishu.bot_open_id(api))
    assert bot.journal is not None
    intake = FeishuIntake(bot.journal, events, gateway) if o.feishu_card_wait is None else \
        FeishuIntake(bot.journal, events, gateway, card_wait=o.feishu_card_wait)
    parts = FeishuParts(api, gateway, events, intake)
    if http_mode:
        return bot, parts, None, {feishu.EVENTS_PATH: feishu.callback(intake, keys, lambda: clock().timestamp())}
    connect = o.long_connection or (lambda s, i: feishu.LongConnection(feishu.ws_client(s, i)))
    return bot, parts, connect(settings, intake), {}


# ----- the whole process ----------------------------------------------------------------------------


def settle_heap() -> None:
    """Collect, then freeze what is alive: the objects built at start (the SDKs' modules and classes,
    about 440,000 with lark-oapi's 10,000 modules) live as long as the process, and a full collection
    walking them stalled every request in flight for about 0.23 s (bench/slack_ack.py). Frozen objects
    are never examined again (gc.freeze, https://docs.python.org/3/library/gc.html#gc.freeze);
    `Runtime.stop` unfreezes them."""
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class Runtime:
    """One `zhoubao run` process: the bot, its chat adapter, its scheduler and its HTTP app."""

    settings: Settings
    bot: Bot
    platform: SlackParts | FeishuParts | ConsoleParts
    scheduler: Scheduler | None  # None on the console: its jobs follow the virtual clock
    connector: Connector | None
    metrics: PrometheusMetrics
    health: Health
    http: Starlette
    dashboard: DashboardConfig  # the web dashboard's configuration (sign-in links are made with it)
    team_file: TeamReload  # the one reload of the team: the settings page and the watch on the file
    rollup: RollupSchedule | None = None  # the department's roll-up (a department file; not on the console)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Settle the heap, start the scheduler and the journal's worker, then connect to the platform (if it pushes)."""
        settle_heap()
        if self.scheduler is not None:
            self.scheduler.start()
        if self.rollup is not None:
            self.rollup.start()
        self.team_file.watch(self.settings.team_file_check_seconds)
        if self.bot.journal is not None and not isinstance(self.platform, ConsoleParts):
            self.bot.journal.start()  # first replays what a previous run acknowledged but did not process
        if self.connector is not None:
            self.connector.connect()

    def stop(self) -> None:
        """Take no new events, finish the work already acknowledged and the job already running, then
        close the database. Safe to call twice."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.connector is not None:
            self.connector.close()
        self.team_file.stop()
        if self.bot.journal is not None:
            self.bot.journal.stop()  # the entry in hand is finished; the rest waits in the journal
        self.bot.cycle.edits.stop()  # the post shows the answers already stored
        if self.bot.cycle.documents is not None:
            self.bot.cycle.documents.stop()  # the documents already queued are written
        if isinstance(self.platform, SlackParts | FeishuParts) and self.platform.gateway.outbox is not None:
            self.platform.gateway.outbox.stop()  # the answers already queued go out
        if isinstance(self.platform, SlackParts):
            self.platform.modals.shutdown(wait=True)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        if self.rollup is not None:
            self.rollup.shutdown()
        self.bot.engine.dispose()
        gc.unfreeze()
        log.info("stopped: in-flight work finished")

    def serve(self, sock: socket.socket) -> None:
        """Run until SIGTERM or Ctrl-C: start, serve HTTP on `sock` in this (the main) thread, then stop.

        While serving, uvicorn turns SIGTERM into a graceful shutdown (requests in progress finish) and
        raises the signal again once done (uvicorn/server.py `capture_signals`); the handlers set here
        make that second delivery a no-op, so the process then stops its work and exits 0."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _already_handled)
        self.start()
        try:
            _server(self.http).run(sockets=[sock])
        finally:
            log.info("SIGTERM: finishing in-flight work")
            self.stop()

    def serve_alongside(self, sock: socket.socket) -> HttpThread:
        """Serve the HTTP app on a background thread (the console keeps the main one); `.stop()` ends it."""
        return HttpThread(self.http, sock)


def _already_handled(signum: int, frame: FrameType | None) -> None:
    log.info("signal %s: shutting down", signum)


def _server(app: Starlette) -> uvicorn.Server:
    import uvicorn

    # log_config=None: keep the process's own (JSON) logging; access lines would drown the useful ones.
    return uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                         timeout_graceful_shutdown=10))


class HttpThread:
    """uvicorn on a daemon thread. The socket is already listening, so requests queue until it accepts."""

    def __init__(self, app: Starlette, sock: socket.socket) -> None:
        self.server = _server(app)
        self.port = int(sock.getsockname()[1])
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="zhoubao-http",
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def bind(port: int, host: str) -> socket.socket:
    """A listening socket on `host`:`port` (port 0: any free one); OSError when it is taken."""
    return socket.create_server((host, port), backlog=2048)


def listen(settings: Settings) -> socket.socket:
    """The one HTTP app's socket, on HOST (default loopback) and PORT; OSError when it is taken."""
    return bind(settings.port, settings.host)


def compose(settings: Settings, team: Team, *, clock: Clock | None = None, overrides: Overrides | None = None,
            extra_routes: Sequence[BaseRoute] = (), department: Department | None = None) -> Runtime:
    """Build the process for `settings.platform` (slack, feishu or console), serving `team`.

    `clock` defaults to the wall clock (the console passes its `VirtualClock`); `extra_routes` are
    mounted on the HTTP app after its own (the dashboard). With a `department` (a department file), a
    Slack or Feishu process also runs the department's roll-up on its schedule, over bots for its other
    teams that only read (posted once across every process). Raises ValueError for missing credentials,
    DatabaseError or TeamMismatchError for the database."""
    from starlette.routing import Mount

    from bot.adapters.web import DepartmentWeb, build_dashboard, build_department_dashboard
    from bot.runtime.http import build_http_app
    from bot.runtime.metrics import PrometheusMetrics
    from bot.runtime.scheduler import Scheduler, options_from_settings

    o = overrides or Overrides()
    platform = settings.platform
    if clock is None:
        clock = VirtualClock(datetime.now(team.zone)) if platform == "console" else (lambda: datetime.now(team.zone))
    # A team alone refuses a database holding another team's data; a department's teams share one.
    shared = platform == "console" or (department is not None and len(department.teams) > 1)
    store = open_store(team, clock, database_url=settings.database_url, allow_other_teams=shared)
    metrics = PrometheusMetrics()
    connector: Connector | None = None
    events: dict[str, Callback] = {}
    parts: SlackParts | FeishuParts | ConsoleParts
    if platform == "slack":
        bot, parts, connector, events = _slack(settings, team, store, clock, metrics, o)
    elif platform == "feishu":
        bot, parts, connector, events = _feishu(settings, team, store, clock, metrics, o)
    else:
        if not isinstance(clock, VirtualClock):
            raise ValueError("the console runs on a VirtualClock")
        chat = ConsoleChat(o.console_out or sys.stdout)
        model, config = digest_parts(settings)
        bot = build_services(team, store, chat, clock, templates=o.templates, metrics=metrics, digest_model=model,
                             digest_config=config)
        parts = ConsoleParts(chat, clock)
    scheduler = None if platform == "console" else \
        Scheduler(bot, o.scheduler or options_from_settings(settings), metrics)
    health = Health(team.team.name, store.db, scheduler, None if platform == "console" else bot.journal,
                    connection=connector.connected if connector is not None else None)
    rollup = None
    chat_port: ChatPort = parts.chat if isinstance(parts, ConsoleParts) else parts.gateway
    several = department is not None and len(department.teams) > 1
    team_bots = _department_bots(department, bot, store, chat_port, clock, o.templates) \
        if department is not None and (several or department.info is not None) else None
    department_rollup = None if department is None or department.info is None or team_bots is None else \
        DepartmentRollup(department, team_bots, chat_port, Renderer(o.templates), f"{socket.gethostname()}-{os.getpid()}")
    if department_rollup is not None and platform != "console":
        from bot.runtime.rollup_schedule import RollupSchedule
        from bot.runtime.scheduler import options_from_settings as grace_of

        rollup = RollupSchedule(department_rollup, clock, grace_of(settings).misfire_grace)
    dashboard = dashboard_config(settings)
    # The file the settings page writes and the watch reads: the team's own, also in a department.
    own = next((t.file for t in department.teams if t.name == team.team.name and t.file is not None), None) \
        if department is not None else None
    team_file = TeamReload(own or settings.team_file, bot, scheduler)
    # The dashboard answers at `/` on the same app, after the platform callbacks, health and metrics.
    # A department of several teams: each team's pages at /t/<key>/, the served team's also at `/`.
    if department is not None and several and team_bots is not None:
        web = DepartmentWeb(department, team_bots, department_rollup, dashboard.secret, dashboard.session_hours)
        site = Mount("/", app=build_department_dashboard(web, bot, dashboard, team_settings=team_file))
    else:
        site = Mount("/", app=build_dashboard(bot, dashboard, team_settings=team_file))
    http = build_http_app(health, metrics, events=events, extra=[*extra_routes, site],
                          in_flight=bot.journal.acking if bot.journal is not None else None)
    return Runtime(settings, bot, parts, scheduler, connector, metrics, health, http, dashboard, team_file, rollup)


def _department_bots(department: Department, served: Bot, store: Store, chat: ChatPort, clock: Clock,
                     templates: Path | None) -> list[Bot]:
    """The served team's bot and, for the department's other teams, bots on the same engine that only
    compile and show (their own processes prompt and publish them): for the roll-up and the dashboard."""
    bots = []
    for entry in department.teams:
        if entry.name == served.ctx.team.team.name:
            bots.append(served)
            continue
        other = open_store(entry.team, clock, database_url="", engine=store.engine, migrate=False)
        bots.append(build_services(entry.team, other, chat, clock, templates=templates))
    return bots
