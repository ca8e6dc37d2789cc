"""The Bolt app: Slack payloads in, core calls, Slack calls out. Translation only; the core decides.

`ROUTES` is the one table of what the app listens to: each event, slash command, button and form maps
to its `Listeners` method, and says whether the request opens a modal now (its trigger_id lives 3
seconds, so the intake runs it on the modal lane instead of journaling it behind other work). Bolt's
listeners are registered from it; the intake reads it to choose the lane.

Every request reaches the app through `SlackApp.dispatch`, on the thread that handles it (the journal's
worker, or the modal lane): the listener runs there and then, and acks after; Slack itself was answered
by the intake before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.adapters.slack import blocks, payloads
from bot.adapters.slack.blocks import Action, Callback
from bot.adapters.slack.composer import slack_message_text
from bot.adapters.slack.gateway import PLATFORM, SlackGateway
from bot.services.bot import Bot
from bot.services.chat import ChatError, Inbound
from bot.services.journal import MalformedPayload, NotNow
from bot.services.routing import Routed, TeamRouting, team_word
from bot.text.catalogue import say
from storage.db import DatabaseUnavailable

log = logging.getLogger("zhoubao.slack")
_NEW = (None, "file_share", "thread_broadcast")


class Listeners:
    """What each Slack payload means to the core."""

    def __init__(self, bot: Bot, gateway: SlackGateway,
                 defer: Callable[[Callable[[], None]], None] | None = None, *, mark_forms: bool = False) -> None:
        self.bot = bot
        self.gw = gateway
        # An app serving several teams marks each form with its team, so the submission comes back to it.
        self.team: str | None = bot.ctx.team.team.name if mark_forms else None
        # Where the lookup that follows an opened "opening…" modal goes (the modal lane's own line), so the
        # threads that open modals are free for the next click at once; inline when not given.
        self.defer: Callable[[Callable[[], None]], None] = defer or (lambda work: work())

    @property
    def locale(self) -> str:
        return self.bot.ctx.locale

    def _who(self, user_id: str) -> str:
        """The person id the core knows, or the raw Slack id (the core then answers "not a member")."""
        return self.gw.person_for(user_id) or user_id

    def _at(self, ts: str | None) -> datetime:
        if not ts:
            return self.bot.ctx.now()
        return datetime.fromtimestamp(float(ts), self.bot.ctx.team.zone)

    # ----- direct messages ---------------------------------------------------------------

    def message(self, body: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        """A DM, an edit or a deletion (a redelivery never gets here: the journal keeps one per key)."""
        if event.get("channel_type") != "im":
            return
        subtype = event.get("subtype")
        channel = str(event.get("channel", ""))
        if subtype in _NEW:
            if event.get("bot_id") or not event.get("user"):
                return
            # What the composer sent (rich_text, else mrkdwn `text`) as the console's plain text.
            text = slack_message_text(event, self.gw)
            ts = str(event["ts"])
            thread = event.get("thread_ts")
            thread = str(thread) if thread and thread != ts else None
            # A ts is unique per channel only: the same ts in two DMs is two messages
            # (https://api.slack.com/messaging/retrieving#individual_messages).
            reply = self.bot.inbox.receive(Inbound(
                platform=PLATFORM, user=self._who(str(event["user"])), source_id=f"{channel}:{ts}", text=text,
                at=self._at(ts), thread_id=thread))
            if reply is not None and reply.text:
                self.gw.reply(channel, reply.text, thread_ts=thread)
        elif subtype == "message_changed":
            new = event.get("message") or {}
            if new.get("bot_id") or not new.get("user"):
                return
            edited = (new.get("edited") or {}).get("ts") or event.get("event_ts")
            thread = new.get("thread_ts")
            reply = self.bot.inbox.edit(PLATFORM, f"{channel}:{new.get('ts')}", slack_message_text(new, self.gw),
                                        self._at(edited), user=self._who(str(new["user"])), sent_at=self._at(new.get("ts")),
                                        thread_id=str(thread) if thread and thread != new.get("ts") else None)
            if reply is not None and reply.text:
                self.gw.reply(channel, reply.text, thread_ts=new.get("thread_ts"))
        elif subtype == "message_deleted":
            old = event.get("previous_message") or {}
            if old.get("bot_id"):
                return
            user = old.get("user")
            reply = self.bot.inbox.delete(PLATFORM, f"{channel}:{event.get('deleted_ts')}", self._at(event.get("event_ts")),
                                          user=self._who(str(user)) if user else None)
            if reply is not None and reply.text:
                self.gw.reply(channel, reply.text, thread_ts=old.get("thread_ts"))

    # ----- slash commands ----------------------------------------------------------------------

    def incident(self, body: Mapping[str, Any], command: Mapping[str, Any]) -> None:
        text = str(command.get("text") or "").strip()
        if not text:
            self.gw.open_view(str(command["trigger_id"]), blocks.incident_modal(
                self.bot.ctx.team.incidents.severities, self.locale, team=self.team))
            return
        outcome = self.bot.incidents.handle(PLATFORM, self._who(str(command["user_id"])), _unescape(text),
                                            self.bot.ctx.now(), source_ref=f"cmd:{command.get('trigger_id')}")
        self.gw.respond(str(command["response_url"]), outcome.reply.text,
                        blocks.incident_reply(outcome.reply.text, outcome.number, self.locale)
                        if outcome.announce else None)

    def zhoubao(self, body: Mapping[str, Any], command: Mapping[str, Any]) -> None:
        text = _unescape(str(command.get("text") or "").strip())
        words = text.split()
        if words[:1] == ["answer"]:  # the form: opened at once, on the modal lane (see `ROUTES`)
            self.open_answers(str(command["trigger_id"]), str(command["user_id"]), words[1] if len(words) > 1 else None,
                              response_url=str(command["response_url"]))
            return
        try:
            reply = self.bot.commands.handle(PLATFORM, self._who(str(command["user_id"])), text, self.bot.ctx.now())
            if reply.prompt is not None:  # `/zhoubao answer [week]`: the prompt's form
                self.gw.open_view(str(command["trigger_id"]), blocks.answer_modal(reply.prompt, team=self.team))
                return
        except ChatError as exc:
            reply = self.bot.failures.refused(exc)
        self.gw.respond(str(command["response_url"]), reply.text, blocks.text_blocks(blocks.escape(reply.text)),
                        user=str(command["user_id"]), filename=f"zhoubao-{words[0] if words else 'help'}.txt")

    # ----- buttons and forms ---------------------------------------------------------------------

    def answer_button(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        self.open_answers(str(body["trigger_id"]), str(body["user"]["id"]), str(action.get("value") or "") or None)

    def open_answers(self, trigger_id: str, user: str, week: str | None, *, response_url: str | None = None) -> None:
        """Open the answer form within the trigger's 3 seconds. When who `user` is needs a Web API lookup
        (users.info, paced), a modal saying it is opening goes first and is updated once the form is known;
        otherwise the form is opened directly. What is not a form (not a member, nothing to answer) is said
        in the modal, or privately."""
        now = self.bot.ctx.now()
        if self.gw.knows(user):
            self._show_answers(trigger_id, None, user, week, now, response_url)
            return
        label = week or self.bot.ctx.week_of(now).label
        view_id = self.gw.open_view(trigger_id, blocks.note_modal(
            say(self.locale, "form.answer_title", week=label), say(self.locale, "form.opening"), self.locale))
        self.defer(lambda: self._show_answers(trigger_id, view_id, user, week, now, response_url))

    def _show_answers(self, trigger_id: str, view_id: str | None, user: str, week: str | None, now: datetime,
                      response_url: str | None) -> None:
        reply = self.bot.forms.open_answers(self._who(user), week, now)
        if reply.prompt is not None:
            form = blocks.answer_modal(reply.prompt, team=self.team)
            if view_id:
                self.gw.update_view(view_id, form)
            else:
                self.gw.open_view(trigger_id, form)
            return
        if view_id:  # the opening modal says why there is no form
            self.gw.update_view(view_id, blocks.note_modal("zhoubao", reply.text, self.locale))
        if response_url:  # a slash command is answered privately as well
            self.gw.respond(response_url, reply.text, blocks.text_blocks(blocks.escape(reply.text)))
        elif reply.text and not view_id:
            self.gw.dm_user(user, reply.text)

    def answer_form(self, body: Mapping[str, Any], view: Mapping[str, Any]) -> None:
        user = str(body["user"]["id"])
        week = blocks.answer_week(view)
        # The form's items as the core numbers them: the view carries only the week, never every key.
        opened = self.bot.forms.open_answers(self._who(user), week or None, self.bot.ctx.now())
        answers = blocks.answer_forms(view, opened.prompt.items if opened.prompt else ())
        reply = self.bot.forms.submit_answers(PLATFORM, self._who(user), f"view:{view['id']}", week, answers,
                                              self.bot.ctx.now(), blocks.question_form(view))
        if reply.text:
            self.gw.dm_user(user, reply.text)

    def question_none_button(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        user = str(body["user"]["id"])
        source = f"action:{action.get('action_ts') or body.get('trigger_id')}"
        reply = self.bot.forms.nothing_to_add(PLATFORM, self._who(user), source, str(action.get("value") or ""),
                                              self.bot.ctx.now())
        if reply.text:
            self.gw.dm_user(user, reply.text)

    def question_file_button(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        user = str(body["user"]["id"])
        reply = self.bot.forms.open_incident(self._who(user))
        if not reply.ok:
            self.gw.dm_user(user, reply.text)
            return
        view = blocks.incident_modal(self.bot.ctx.team.incidents.severities, self.locale,
                                     for_question=str(action.get("value") or "") or None, team=self.team)
        # Pressed inside the answer modal: stack the incident form on it, so the answers typed so far stay.
        (self.gw.push_view if body.get("view") else self.gw.open_view)(str(body["trigger_id"]), view)

    def incident_edit_button(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        self.gw.open_view(str(body["trigger_id"]), blocks.incident_modal(
            self.bot.ctx.team.incidents.severities, self.locale, number=int(str(action.get("value") or 0)),
            team=self.team))

    def incident_form(self, body: Mapping[str, Any], view: Mapping[str, Any]) -> None:
        user = str(body["user"]["id"])
        outcome = self.bot.forms.submit_incident(PLATFORM, self._who(user), f"view:{view['id']}",
                                                 blocks.incident_form(view), self.bot.ctx.now(),
                                                 for_question=blocks.incident_question_week(view))
        self.gw.dm_user(user, outcome.reply.text,
                        blocks.incident_reply(outcome.reply.text, outcome.number, self.locale))


def _unescape(text: str) -> str:
    """Slack sends `& < >` escaped; the core stores what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ----- the one table ---------------------------------------------------------------------------------

Payload = Mapping[str, Any]
Method = Callable[[Listeners, Payload, Payload], None]  # (listeners, body, payload)


def _never(payload: Payload) -> bool:
    return False


def _always(payload: Payload) -> bool:
    return True


def _command_text(payload: Payload) -> str:
    return str(payload.get("text") or "").strip()


def _command_words(payload: Payload) -> str:
    """A command's text after a leading `--team X` (what the command does, whichever team it is for)."""
    return team_word(_command_text(payload))[1].strip()


@dataclass(frozen=True)
class Route:
    """One thing the app listens to. `kind` is Bolt's listener kind (`app.event`, `.command`, `.action`,
    `.view`), `name` the event type, command, action_id or callback_id; `opens_modal(payload)` says
    whether this request opens a modal now (payload: the command's fields, or the clicked action)."""

    kind: str
    name: str
    method: Method
    opens_modal: Callable[[Payload], bool] = _never


ROUTES: tuple[Route, ...] = (
    Route("event", "message", Listeners.message),
    # `/incident` alone opens the incident form; with text it files at once.
    Route("command", "/incident", Listeners.incident, opens_modal=lambda p: not _command_words(p)),
    # `/zhoubao answer [week]` opens the answer form; every other `/zhoubao …` answers in text.
    Route("command", "/zhoubao", Listeners.zhoubao, opens_modal=lambda p: _command_words(p).split()[:1] == ["answer"]),
    Route("action", Action.ANSWER.value, Listeners.answer_button, opens_modal=_always),
    Route("action", Action.INCIDENT_EDIT.value, Listeners.incident_edit_button, opens_modal=_always),
    Route("action", Action.QUESTION_NONE.value, Listeners.question_none_button),
    Route("action", Action.QUESTION_FILE.value, Listeners.question_file_button, opens_modal=_always),
    Route("view", Callback.ANSWER_FORM.value, Listeners.answer_form),
    Route("view", Callback.INCIDENT_FORM.value, Listeners.incident_form),
)
_BY_KEY = {(r.kind, r.name): r for r in ROUTES}


def opens_a_modal(body: Payload) -> bool:
    """Whether a request (a slash command's fields, or an interactivity payload) opens a modal now: a
    slash command by its route, a click when every action in it does. Events and form submissions never."""
    if "command" in body:
        route = _BY_KEY.get(("command", str(body.get("command"))))
        return route is not None and route.opens_modal(body)
    if body.get("type") == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return False
        routes = [(_BY_KEY.get(("action", str(a.get("action_id")))), a) for a in actions if isinstance(a, Mapping)]
        return len(routes) == len(actions) and all(r is not None and r.opens_modal(a) for r, a in routes)
    return False


# ----- the app -----------------------------------------------------------------------------------------


class OneWorkspace(Authorize):
    """Bolt's authorization for the one workspace this bot serves: always its bot token.

    Bolt's `App` switches to its OAuth installation flow whenever SLACK_CLIENT_ID and SLACK_CLIENT_SECRET
    are both in the environment, even empty (slack_bolt/app/app.py: `oauth_settings is None and
    os.environ.get("SLACK_CLIENT_ID") is not None and …` builds `OAuthSettings()`), and no constructor
    argument turns that check off. It then authorizes every request from an installation store, which
    holds nothing here, and drops every request (issue 19). An explicit `authorize` is what every path
    of `App.__init__` keeps: with it, Bolt authorizes through this object whether an OAuth flow was built
    or not (`MultiTeamsAuthorization(authorize=self._authorize)` in both branches of
    `_init_middleware_list`), so no variable can change who is authorized."""

    def __init__(self, bot_token: str) -> None:
        super().__init__()
        self.bot_token = bot_token

    def __call__(self, *, context: BoltContext, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self.bot_token)


@dataclass
class SlackApp:
    """The Bolt app with this bot's listeners. `dispatch(body)` runs one request's listener on the calling
    thread; a database outage inside it is raised to the caller (Bolt itself would answer it with a 500
    and swallow it), so the journal keeps the request and processes it again later. A payload of a shape
    Slack does not send raises MalformedPayload before any listener runs (`payloads.check`)."""

    bolt: App
    _raised: threading.local = field(default_factory=threading.local)

    def dispatch(self, body: Payload) -> None:
        payloads.check(body)
        self._raised.exc = None
        response = self.bolt.dispatch(BoltRequest(body=dict(body), mode="socket_mode"))
        raised: DatabaseUnavailable | NotNow | MalformedPayload | None = self._raised.exc
        self._raised.exc = None
        if raised is not None:
            raise raised
        if response.status >= 500:
            raise RuntimeError(f"bolt answered {response.status}: {response.body[:200]}")

    def listener(self, route: Route, teams: TeamRouting, listeners: Mapping[int, Listeners]) -> Callable[..., None]:
        """A Bolt listener for one route: find the team the request is for (the core's `TeamRouting`, from
        what `_addressed` reads off the payload), run that team's listener, then ack. A Web API refusal goes
        to the core (which tells the editors); an outage or a malformed payload is kept for `dispatch`;
        anything else is one log line."""
        what = f"{route.kind} {route.name}"

        def listener(ack: Callable[[], None], body: dict[str, Any], payload: dict[str, Any]) -> None:
            bot = teams.first
            try:
                routed = _routed(route, teams, listeners, body, payload)
                if routed.bot is None:
                    assert routed.reply is not None
                    _ask(route, listeners[teams.first.ctx.team_id].gw, body, payload, routed.reply.text)
                else:
                    bot = routed.bot
                    if route.kind == "command" and routed.text != _command_text(payload):
                        payload = {**payload, "text": routed.text}
                    route.method(listeners[bot.ctx.team_id], body, payload)
            except ChatError as exc:
                bot.failures.tell_editors(exc)
            # kept (the journal processes it again later), or dropped with one log line (malformed)
            except (DatabaseUnavailable, NotNow, MalformedPayload) as exc:
                self._raised.exc = exc
            except Exception:
                log.exception("slack %s failed", what)
            ack()

        return listener


# ----- which team a request is for (several teams on one Slack app) ----------------------------------


def _routed(route: Route, teams: TeamRouting, listeners: Mapping[int, Listeners], body: Payload,
            payload: Payload) -> Routed:
    """Where the core sends this request: the payload's sender, text (commands), thread and message read
    here as Slack shapes them, the rule in `TeamRouting.route`."""
    if len(teams.teams) == 1 or (route.kind == "event" and payload.get("channel_type") != "im"):
        # One team; or a message in a channel, which no team reads (the listener ignores it): no lookup, no question.
        return Routed(teams.first, _command_text(payload) if route.kind == "command" else "")
    user, text, thread, source = _addressed(route, body, payload)

    def person_in(bot: Bot) -> str | None:
        return listeners[bot.ctx.team_id].gw.person_for(user) if user else None

    # A form (or a button inside one) says which team it was opened for.
    view = payload if route.kind == "view" else body.get("view")
    team = blocks.form_team(view) if isinstance(view, Mapping) else None
    return teams.route(person_in, text=text, thread_id=thread, source_id=source, team=team)


def _addressed(route: Route, body: Payload, payload: Payload) -> tuple[str, str, str | None, str | None]:
    """(sender, command text, thread, message id) of a request, as the routing rule reads them."""
    if route.kind == "event":
        channel = str(payload.get("channel", ""))
        subtype = payload.get("subtype")
        if subtype == "message_changed":
            new = payload.get("message") or {}
            ts, thread = new.get("ts"), new.get("thread_ts")
            return str(new.get("user") or ""), "", str(thread) if thread and thread != ts else None, f"{channel}:{ts}"
        if subtype == "message_deleted":
            old = payload.get("previous_message") or {}
            return str(old.get("user") or ""), "", None, f"{channel}:{payload.get('deleted_ts')}"
        ts, thread = payload.get("ts"), payload.get("thread_ts")
        return (str(payload.get("user") or ""), "", str(thread) if thread and thread != ts else None,
                f"{channel}:{ts}")
    if route.kind == "command":
        return str(payload.get("user_id") or ""), _command_text(payload), None, None
    user = str((body.get("user") or {}).get("id") or "")
    # A button is answered for the message it is on (a prompt's button: that prompt's team).
    container = body.get("container") or {}
    message = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return user, "", str(message) if message else None, None


def _ask(route: Route, gw: SlackGateway, body: Payload, payload: Payload, text: str) -> None:
    """Ask which team, where the request would have been answered."""
    if route.kind == "event":
        if payload.get("subtype") in _NEW and payload.get("user") and not payload.get("bot_id"):
            thread = payload.get("thread_ts")
            gw.reply(str(payload.get("channel", "")), text, thread_ts=str(thread) if thread else None)
    elif route.kind == "command":
        gw.respond(str(payload["response_url"]), text, blocks.text_blocks(blocks.escape(text)))
    else:
        user = str((body.get("user") or {}).get("id") or "")
        if user:
            gw.dm_user(user, text)


def build_app(teams: TeamRouting, gateways: Mapping[int, SlackGateway], *,
              defer: Callable[[Callable[[], None]], None] | None = None) -> SlackApp:
    """The Bolt app for the teams this Slack app serves (one, or a department's), each team's listeners
    over its own gateway (`gateways`, by team id), their routes registered from `ROUTES`. The intake has
    checked each request's signature (and answered url_verification and ssl_check) before it reaches the
    app, so Bolt's own checks are off; `defer` is where a modal's follow-up lookup runs (see
    `Listeners.open_answers`)."""
    client = gateways[teams.first.ctx.team_id].client
    bolt = App(client=WebClient(base_url=client.base_url), authorize=OneWorkspace(str(client.token)),
               request_verification_enabled=False, ssl_check_enabled=False, url_verification_enabled=False,
               token_verification_enabled=False, process_before_response=True,
               logger=logging.getLogger("zhoubao.slack.bolt"))
    app = SlackApp(bolt)
    several = len(teams.teams) > 1
    listeners = {bot.ctx.team_id: Listeners(bot, gateways[bot.ctx.team_id], defer=defer, mark_forms=several)
                 for bot in teams.bots}
    register = {"event": bolt.event, "command": bolt.command, "action": bolt.action, "view": bolt.view}
    for route in ROUTES:
        register[route.kind](route.name)(app.listener(route, teams, listeners))
    return app
