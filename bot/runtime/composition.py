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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Protocol, TextIO, TypeVar

from sqlalchemy import Engine

from bot.adapters.console.chat import ConsoleChat, VirtualClock, WallClock
from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.web.config import DashboardConfig
from bot.domain.department import Department
from bot.domain.team import Team
from bot.runtime.dashboard import dashboard_config
from bot.runtime.health import Health
from bot.runtime.heap import started
from bot.runtime.settings import Settings
from bot.runtime.store import Store, open_store, team_context
from bot.runtime.team_reload import TeamReload
from bot.services.bot import Bot
from bot.services.chat import ChatPort
from bot.services.commands import Commands
from bot.services.context import Clock, LiveTeam
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
from storage.db import make_engine

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
                   journal: InboundJournal | None = None, live: LiveTeam | None = None) -> Bot:
    """The core services around one chat port. With `spool_dir`, platform payloads that arrive while the
    database is down are kept there (the journal's spool) until it returns; with `digest_model`, the week's
    key points are written by it. With `report_edit_every`, a posted report is edited after late answers from
    a thread of its own, at most once every that many seconds per week (None: at once, on the caller's
    thread: one-shot commands and the console). With `destinations`, each post is also written there, from
    a queue of its own when `report_edit_every` is set (else on the caller's thread). With `journal`, the
    bot shares that inbound journal (one process serving several teams has one inbound path). `live`: the
    running team when the chat port already reads it (built first, so a reload reaches the adapter's
    matching of people)."""
    ctx = team_context(team, store, chat, clock, templates=templates, metrics=metrics, live=live)
    week_report = WeekReport(ctx)
    documents = DocumentPublisher(ctx, destinations, outbox=Outbox(max_channels=1) if report_edit_every is not None
                                  else None) if destinations else None
    cycle = WeeklyCycle(ctx, week_report, digests=Digests(ctx, week_report, digest_model, digest_config),
                        edit_every=report_edit_every, documents=documents)
    inbox = Inbox(ctx, cycle)
    if journal is None:
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
    gateway: SlackGateway  # the first team's
    app: SlackApp
    modals: ModalLane  # where requests that open a modal run, beside the journal's worker
    intake: SlackIntake  # the ack path: journaled before Slack is answered
    # Every team's gateway on this app (one client, pacer and outbox; each team's people and locale), by team id.
    gateways: Mapping[int, SlackGateway] = field(default_factory=dict)


@dataclass(frozen=True)
class FeishuParts:
    api: OpenApi
    gateway: FeishuGateway  # the first team's
    events: FeishuEvents  # the first team's
    intake: FeishuIntake  # the ack path: journaled before Feishu is answered
    gateways: Mapping[int, FeishuGateway] = field(default_factory=dict)  # every team's on this app, by team id


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


@dataclass(frozen=True)
class Served:
    """A team one chat app serves: its key (what `--team` takes), its file's team and its database rows."""

    key: str
    team: Team
    store: Store


def _slack(settings: Settings, served: Sequence[Served], clock: Clock, metrics: PrometheusMetrics, o: Overrides,
           journal: InboundJournal | None = None) -> tuple[list[Bot], SlackParts, Connector | None, dict[str, Callback]]:
    """The Slack app for `served` (one team, or a department's teams on Slack): one client, pacer, outbox,
    Bolt app, intake and connection; a gateway and a bot per team; inbound routed by the core's rule."""
    from slack_sdk.signature import SignatureVerifier

    from bot.adapters.slack import canvas
    from bot.adapters.slack import transports as slack
    from bot.adapters.slack.app import build_app
    from bot.adapters.slack.gateway import SlackGateway, make_client
    from bot.adapters.slack.intake import ModalLane, SlackIntake
    from bot.adapters.slack.limits import Pacer
    from bot.services.routing import RoutedTeam, TeamRouting

    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ValueError("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    outbox = Outbox()  # answers leave per channel, paced, apart from the journal's worker
    pacer = o.pacer or Pacer()  # one app, one rate limit, whichever team a call is for
    model, config = digest_parts(settings)
    bots: list[Bot] = []
    gateways: dict[int, SlackGateway] = {}
    for t in served:
        live = LiveTeam(t.team, t.store.roster)  # the gateway matches users against the team a reload swaps in
        gateway = SlackGateway(client, live, ids=PlatformIds(t.store.db, t.store.roster), pacer=pacer,
                               metrics=metrics, outbox=outbox)
        bot = build_services(t.team, t.store, gateway, clock, templates=o.templates, spool_dir=settings.spool_dir,
                             metrics=metrics, digest_model=model, digest_config=config,
                             report_edit_every=settings.report_edit_seconds,
                             destinations=canvas.destinations(client, t.team), journal=journal, live=live)
        journal = bot.journal
        bots.append(bot)
        gateways[bot.ctx.team_id] = gateway
    assert journal is not None
    # Every request is journaled before Slack is answered and the journal's worker runs the listeners;
    # one that opens a modal runs at once on the modal lane instead.
    modals = ModalLane()
    teams = TeamRouting([RoutedTeam(t.key, b) for t, b in zip(served, bots, strict=True)], "slack")
    app = build_app(teams, gateways, defer=modals.defer)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    intake = SlackIntake(journal, app, SignatureVerifier(secret) if secret else None, modals)
    parts = SlackParts(gateways[bots[0].ctx.team_id], app, modals, intake, gateways)
    if settings.slack_app_token is not None:
        token = settings.slack_app_token.get_secret_value()
        connect = o.socket_mode or (lambda i, t: slack.socket_mode(i, t, client))
        return bots, parts, connect(intake, token), {}
    return bots, parts, None, {slack.EVENTS_PATH: intake.http}


def _feishu(settings: Settings, served: Sequence[Served], clock: Clock, metrics: PrometheusMetrics, o: Overrides,
            journal: InboundJournal | None = None) -> tuple[list[Bot], FeishuParts, Connector | None, dict[str, Callback]]:
    """The Feishu app for `served` (one team, or a department's teams on Feishu): one Open API client,
    outbox, intake and connection; a gateway, bot and event translation per team; inbound routed by the
    core's rule."""
    from bot.adapters.feishu import documents
    from bot.adapters.feishu import transports as feishu
    from bot.adapters.feishu.events import FeishuEvents
    from bot.adapters.feishu.gateway import FeishuGateway
    from bot.adapters.feishu.intake import FeishuIntake
    from bot.adapters.feishu.people import People
    from bot.adapters.feishu.routing import TeamEvents
    from bot.services.routing import RoutedTeam, TeamRouting

    keys = feishu.keys_of(settings)
    http_mode = settings.feishu_event_mode == "http"
    if http_mode and not (keys.verification_token and keys.encrypt_key):
        raise ValueError("FEISHU_EVENT_MODE=http needs FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY")
    api = o.feishu_api or feishu.open_api(settings, metrics)
    outbox = Outbox()
    model, config = digest_parts(settings)
    bot_open_id = o.feishu_bot_open_id or feishu.bot_open_id(api)
    bots: list[Bot] = []
    gateways: dict[int, FeishuGateway] = {}
    events: dict[int, FeishuEvents] = {}
    for t in served:
        live = LiveTeam(t.team, t.store.roster)  # People matches open_ids against the team a reload swaps in
        people = People(api, live)
        gateway = FeishuGateway(api, people, outbox=outbox, dashboard=settings.dashboard_url)
        bot = build_services(t.team, t.store, gateway, clock, templates=o.templates, spool_dir=settings.spool_dir,
                             metrics=metrics, digest_model=model, digest_config=config,
                             report_edit_every=settings.report_edit_seconds,
                             destinations=documents.destinations(api, people, t.team), journal=journal, live=live)
        journal = bot.journal
        bots.append(bot)
        gateways[bot.ctx.team_id] = gateway
        events[bot.ctx.team_id] = FeishuEvents(bot, gateway, bot_open_id=bot_open_id)
    assert journal is not None
    first = bots[0].ctx.team_id
    # The journal's worker runs the events, one at a time in arrival order, each in the team it is for.
    routed = TeamEvents(TeamRouting([RoutedTeam(t.key, b) for t, b in zip(served, bots, strict=True)], "feishu"),
                        events)
    intake = FeishuIntake(journal, routed, gateways[first]) if o.feishu_card_wait is None else \
        FeishuIntake(journal, routed, gateways[first], card_wait=o.feishu_card_wait)
    parts = FeishuParts(api, gateways[first], events[first], intake, gateways)
    if http_mode:
        return bots, parts, None, {feishu.EVENTS_PATH: feishu.callback(intake, keys, lambda: clock().timestamp())}
    connect = o.long_connection or (lambda s, i: feishu.LongConnection(feishu.ws_client(s, i)))
    return bots, parts, connect(settings, intake), {}


# ----- the whole process ----------------------------------------------------------------------------


def settle_heap() -> None:
    """Collect, then freeze what is alive: the objects built at start (the SDKs' modules and classes:
    about 440,000 when all of lark-oapi's 10,000 modules were loaded; bot/adapters/feishu/sdk.py now loads
    the few dozen the adapter uses) live as long as the process, and a full collection
    walking them stalled every request in flight for about 0.23 s (bench/slack_ack.py). Frozen objects
    are never examined again (gc.freeze, https://docs.python.org/3/library/gc.html#gc.freeze);
    `Runtime.stop` unfreezes them. Automatic collection, off while `zhoubao` started (heap.py), is on
    from here."""
    started(collect=True)


@dataclass(frozen=True)
class Runtime:
    """One `zhoubao run` process: its bots (one per team it serves), their chat adapters, one scheduler and
    one HTTP app. `bot`, `platform`, `connector` and `team_file` are the first (for one team, the only) ones;
    a process serving a department in one holds the other teams' in `others`, `more_platforms`, … ."""

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
    rollup: RollupSchedule | None = None  # the department's roll-up (held by the scheduler; not on the console)
    others: tuple[Bot, ...] = ()  # the other teams this process serves
    more_platforms: tuple[SlackParts | FeishuParts | ConsoleParts, ...] = ()
    more_connectors: tuple[Connector, ...] = ()
    more_team_files: tuple[TeamReload, ...] = ()
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def bots(self) -> tuple[Bot, ...]:
        """Every team's bot this process serves (the department file's order)."""
        return (self.bot, *self.others)

    @property
    def platforms(self) -> tuple[SlackParts | FeishuParts | ConsoleParts, ...]:
        return (self.platform, *self.more_platforms)

    @property
    def connectors(self) -> tuple[Connector, ...]:
        return (*((self.connector,) if self.connector is not None else ()), *self.more_connectors)

    def part(self, kind: type[P]) -> P | None:
        """This process's adapter of that kind (SlackParts, FeishuParts, ConsoleParts), if it has one."""
        return next((p for p in self.platforms if isinstance(p, kind)), None)

    def start(self) -> None:
        """Settle the heap, start the scheduler and the journal's worker, then connect to the platforms that push."""
        settle_heap()
        if self.scheduler is not None:
            self.scheduler.start()
        for team_file in (self.team_file, *self.more_team_files):
            team_file.watch(self.settings.team_file_check_seconds)
        if self.bot.journal is not None and any(not isinstance(p, ConsoleParts) for p in self.platforms):
            self.bot.journal.start()  # first replays what a previous run acknowledged but did not process
        for connector in self.connectors:
            connector.connect()

    def stop(self) -> None:
        """Take no new events, finish the work already acknowledged and the job already running, then
        close the database. Safe to call twice."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        for connector in self.connectors:
            connector.close()
        for team_file in (self.team_file, *self.more_team_files):
            team_file.stop()
        if self.bot.journal is not None:
            self.bot.journal.stop()  # the entry in hand is finished; the rest waits in the journal (one per process)
        for bot in self.bots:
            bot.cycle.edits.stop()  # the post shows the answers already stored
            if bot.cycle.documents is not None:
                bot.cycle.documents.stop()  # the documents already queued are written
        for parts in self.platforms:
            if isinstance(parts, SlackParts | FeishuParts) and parts.gateway.outbox is not None:
                parts.gateway.outbox.stop()  # the answers already queued go out (one outbox per app)
            if isinstance(parts, SlackParts):
                parts.modals.shutdown(wait=True)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
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


P = TypeVar("P", SlackParts, FeishuParts, ConsoleParts)


def _already_handled(signum: int, frame: FrameType | None) -> None:
    log.info("signal %s: shutting down", signum)


def _server(app: Starlette) -> uvicorn.Server:
    import uvicorn

    # log_config=None: keep the process's own (JSON) logging; access lines would drown the useful ones.
    # ws="none": the app serves no WebSocket (Socket Mode and Feishu's long connection are the bot's own
    # outgoing clients), so uvicorn loads no WebSocket protocol (websockets: ~20 ms at start).
    return uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", ws="none",
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


def _scheduler(settings: Settings, bot: Bot, metrics: PrometheusMetrics, o: Overrides,
               rollup: RollupSchedule | None) -> Scheduler:
    """The jobs on the wall clock (APScheduler, imported here: the console's jobs follow its virtual clock)."""
    from bot.runtime.scheduler import Scheduler, options_from_settings

    return Scheduler(bot, o.scheduler or options_from_settings(settings), metrics, rollup=rollup)


def compose(settings: Settings, team: Team, *, clock: Clock | None = None, overrides: Overrides | None = None,
            extra_routes: Sequence[BaseRoute] = (), department: Department | None = None) -> Runtime:
    """Build the process for `team`'s platform (`team.platform` in its file, else `settings.platform`: slack,
    feishu or console), serving `team`.

    `clock` defaults to the wall clock (the console passes its `VirtualClock`); `extra_routes` are
    mounted on the HTTP app after its own (the dashboard). With a `department` (a department file), a
    Slack or Feishu process also runs the department's roll-up on its schedule, over bots for its other
    teams that only read (posted once across every process). Raises ValueError for missing credentials,
    DatabaseError or TeamMismatchError for the database."""
    from starlette.routing import Mount

    from bot.adapters.web import DepartmentWeb, build_dashboard, build_department_dashboard
    from bot.runtime.http import build_http_app
    from bot.runtime.metrics import PrometheusMetrics

    o = overrides or Overrides()
    platform = team.team.platform or settings.platform  # the team file's `team.platform`, else the environment's
    if clock is None:
        clock = VirtualClock(datetime.now(team.zone)) if platform == "console" else (lambda: datetime.now(team.zone))
    # A team alone refuses a database holding another team's data; a department's teams share one.
    shared = platform == "console" or (department is not None and len(department.teams) > 1)
    store = open_store(team, clock, database_url=settings.database_url, allow_other_teams=shared)
    metrics = PrometheusMetrics()
    connector: Connector | None = None
    events: dict[str, Callback] = {}
    parts: SlackParts | FeishuParts | ConsoleParts
    served = [Served(team.team.name, team, store)]
    if platform == "slack":
        (bot,), parts, connector, events = _slack(settings, served, clock, metrics, o)
    elif platform == "feishu":
        (bot,), parts, connector, events = _feishu(settings, served, clock, metrics, o)
    else:
        if not isinstance(clock, VirtualClock):
            raise ValueError("the console runs on a VirtualClock")
        chat = ConsoleChat(o.console_out or sys.stdout)
        model, config = digest_parts(settings)
        bot = build_services(team, store, chat, clock, templates=o.templates, metrics=metrics, digest_model=model,
                             digest_config=config)
        parts = ConsoleParts(chat, clock)
    rollup = None
    chat_port: ChatPort = parts.chat if isinstance(parts, ConsoleParts) else parts.gateway
    several = department is not None and len(department.teams) > 1
    team_bots = _department_bots(department, bot, store, chat_port, clock, o.templates) \
        if department is not None and (several or department.info is not None) else None
    department_rollup = None if department is None or department.info is None or team_bots is None else \
        DepartmentRollup(department, team_bots, chat_port, Renderer(o.templates), f"{socket.gethostname()}-{os.getpid()}")
    # Only a process on the app the roll-up is posted through runs its schedule (`department.platform`).
    if department_rollup is not None and platform != "console" and department is not None \
            and department.rollup_platform(settings.platform) == platform:
        from bot.runtime.rollup_schedule import RollupSchedule
        from bot.runtime.scheduler import options_from_settings

        rollup = RollupSchedule(department_rollup, clock, options_from_settings(settings).misfire_grace)
    scheduler = None if platform == "console" else _scheduler(settings, bot, metrics, o, rollup)
    health = Health(team.team.name, store.db, scheduler, None if platform == "console" else bot.journal,
                    connection=connector.connected if connector is not None else None)
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


def compose_department(settings: Settings, department: Department, *, clock: Clock | None = None,
                       overrides: Overrides | None = None, extra_routes: Sequence[BaseRoute] = ()) -> Runtime:
    """Build one process serving every team of `department`, each on its platform (`team.platform` in its
    file, else `settings.platform`): one Slack app if a team is on Slack, one Feishu app if one is on
    Feishu, the console's chat if one is on the console; one database, inbound journal and scheduler (every
    team's jobs and the roll-up's, posted through `department.platform`'s app); one HTTP app (each app's
    callbacks, health, metrics, the department's dashboard).

    `clock` defaults to the wall clock; a test passes the `VirtualClock` the console team's session moves.
    Raises ValueError for missing credentials, DatabaseError for the database."""
    from starlette.routing import Mount

    from bot.adapters.web import DepartmentWeb, build_department_dashboard
    from bot.runtime.http import build_http_app
    from bot.runtime.metrics import PrometheusMetrics
    from bot.runtime.rollup_schedule import RollupSchedule
    from bot.runtime.scheduler import Scheduler, options_from_settings

    o = overrides or Overrides()
    default = settings.platform
    zone = department.zone
    if clock is None:
        clock = lambda: datetime.now(zone)  # noqa: E731
    engine = make_engine(settings.database_url)
    served: dict[str, list[Served]] = {"slack": [], "feishu": [], "console": []}
    migrate = True
    for entry in department.teams:
        store = open_store(entry.team, clock, database_url=settings.database_url, engine=engine, migrate=migrate)
        migrate = False  # once is enough
        served[department.platform_of(entry, default)].append(Served(entry.key, entry.team, store))
    metrics = PrometheusMetrics()
    bots: dict[str, Bot] = {}
    platforms: list[SlackParts | FeishuParts | ConsoleParts] = []
    connectors: list[Connector] = []
    events: dict[str, Callback] = {}
    journal: InboundJournal | None = None
    chats: dict[str, ChatPort] = {}
    for platform, build in (("slack", _slack), ("feishu", _feishu)):
        if not served[platform]:
            continue
        try:
            built, parts, connector, callbacks = build(settings, served[platform], clock, metrics, o, journal)
        except ValueError as exc:  # missing credentials: say which teams need them
            raise ValueError(f"{', '.join(t.key for t in served[platform])} on {platform}: {exc}") from None
        journal = built[0].journal
        bots.update((b.ctx.team.team.name, b) for b in built)
        assert isinstance(parts, SlackParts | FeishuParts)
        platforms.append(parts)
        chats[platform] = parts.gateway
        connectors.extend([connector] if connector is not None else [])
        events.update(callbacks)
    if served["console"]:
        # The console team's chat prints; its people type through a `ConsoleSession` on the same clock.
        chat = ConsoleChat(o.console_out or sys.stdout)
        model, config = digest_parts(settings)
        for t in served["console"]:
            bot = build_services(t.team, t.store, chat, clock, templates=o.templates, metrics=metrics,
                                 digest_model=model, digest_config=config, journal=journal)
            journal = bot.journal
            bots[t.team.team.name] = bot
        # On a test's virtual clock the console moves it; beside Slack or Feishu it is the wall clock.
        platforms.append(ConsoleParts(chat, clock if isinstance(clock, VirtualClock) else WallClock(zone)))
        chats["console"] = chat
    ordered = [bots[name] for name in department.team_names]
    rollup = None
    department_rollup = None
    if department.info is not None:
        where = department.rollup_platform(default)
        if where not in chats:
            raise ValueError(f"department.platform: the roll-up is posted through {where}, but no team of the "
                             f"department is on {where} ({', '.join(sorted(chats))} are)")
        department_rollup = DepartmentRollup(department, ordered, chats[where], Renderer(o.templates),
                                             f"{socket.gethostname()}-{os.getpid()}")
        rollup = RollupSchedule(department_rollup, clock, options_from_settings(settings).misfire_grace)
    options = o.scheduler or options_from_settings(settings)
    scheduler = Scheduler(ordered[0], options, metrics, others=ordered[1:], rollup=rollup)
    health = Health(department.name, ordered[0].ctx.db, scheduler, journal,
                    connection=(lambda: all(c.connected() for c in connectors)) if connectors else None)
    dashboard = dashboard_config(settings)
    team_files = [TeamReload(entry.file or settings.team_file, bots[entry.name], scheduler)
                  for entry in department.teams]
    web = DepartmentWeb(department, ordered, department_rollup, dashboard.secret, dashboard.session_hours)
    site = Mount("/", app=build_department_dashboard(web, ordered[0], dashboard, team_settings=team_files[0]))
    http = build_http_app(health, metrics, events=events, extra=[*extra_routes, site],
                          in_flight=journal.acking if journal is not None else None)
    first, *more = platforms
    return Runtime(settings, ordered[0], first, scheduler, connectors[0] if connectors else None, metrics, health,
                   http, dashboard, team_files[0], rollup, others=tuple(ordered[1:]), more_platforms=tuple(more),
                   more_connectors=tuple(connectors[1:]), more_team_files=tuple(team_files[1:]))


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
