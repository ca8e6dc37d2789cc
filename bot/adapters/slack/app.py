"""The Bolt app: Slack payloads in, core calls, Slack calls out. Translation only; the core decides.

Every listener only queues its work on `Workers` and acks (inline: process_before_response=True, since
the listener itself does nothing slow), so Slack gets its answer within 3 seconds whatever the database
or the Web API does, and acks never wait behind work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from slack_bolt import App

from bot.adapters.slack import blocks
from bot.adapters.slack.blocks import Action, Callback
from bot.adapters.slack.composer import slack_message_text
from bot.adapters.slack.gateway import PLATFORM, SlackGateway
from bot.services.bot import Bot
from bot.services.chat import ChatError, Inbound
from bot.services.delivery import DeliveryFailures
from bot.services.events import EventLog
from bot.text.catalogue import say
from storage.db import DatabaseUnavailable

log = logging.getLogger("zhoubao.slack")
_NEW = (None, "file_share", "thread_broadcast")


class Workers(ThreadPoolExecutor):
    """Where acked work runs, in arrival order (one thread by default: a message is stored before its
    edit or deletion is applied, and the core sees one writer); says when all work is done."""

    def __init__(self, max_workers: int = 1, view_workers: int = 8) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="zhoubao-slack")
        # Opening a modal must happen within its trigger's 3 seconds: that work gets its own threads, so it
        # never waits behind a publish or another person's messages.
        self._views = ThreadPoolExecutor(max_workers=view_workers, thread_name_prefix="zhoubao-slack-views")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def submit_view(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run work that opens a modal now, beside the queue rather than behind it."""
        with self._idle:
            self._pending += 1
        future = self._views.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._views.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)

    def _done(self, _: Future[Any]) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


class Listeners:
    """What each Slack payload means to the core."""

    def __init__(self, bot: Bot, gateway: SlackGateway,
                 defer: Callable[[Callable[[], None]], None] | None = None) -> None:
        self.bot = bot
        self.gw = gateway
        # Where work that follows an opened modal goes (the ordinary queue), so the threads that open
        # modals are free for the next click at once; inline when not given.
        self.defer: Callable[[Callable[[], None]], None] = defer or (lambda work: work())
        self.events = EventLog(bot.ctx)
        self._seen = 0

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
        if event.get("channel_type") != "im":
            return
        event_id = str(body.get("event_id") or "")
        if event_id and self.events.seen(PLATFORM, event_id):
            return  # Slack redelivered it (x-slack-retry-num): already handled
        self._message(event)
        if event_id:
            self.events.done(PLATFORM, event_id)
        self._seen += 1
        if self._seen % 1000 == 0:  # Slack stops redelivering after minutes; keep the table small
            self.events.prune()

    def _message(self, event: Mapping[str, Any]) -> None:
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
            reply = self.bot.receive(Inbound(
                platform=PLATFORM, user=self._who(str(event["user"])), source_id=f"{channel}:{ts}", text=text,
                at=self._at(ts), thread_id=thread))
            if reply is not None and reply.text:
                self.gw.reply(channel, reply.text, thread_ts=thread)
        elif subtype == "message_changed":
            new = event.get("message") or {}
            if new.get("bot_id") or not new.get("user"):
                return
            edited = (new.get("edited") or {}).get("ts") or event.get("event_ts")
            reply = self.bot.inbox.edit(PLATFORM, f"{channel}:{new.get('ts')}", slack_message_text(new, self.gw),
                                        self._at(edited), user=self._who(str(new["user"])))
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

    def incident(self, command: Mapping[str, Any]) -> None:
        text = str(command.get("text") or "").strip()
        if not text:
            self.gw.open_view(str(command["trigger_id"]), blocks.incident_modal(
                self.bot.ctx.team.incidents.severities, self.locale))
            return
        outcome = self.bot.incidents.handle(PLATFORM, self._who(str(command["user_id"])), _unescape(text),
                                            self.bot.ctx.now(), source_ref=f"cmd:{command.get('trigger_id')}")
        self.gw.respond(str(command["response_url"]), outcome.reply.text,
                        blocks.incident_reply(outcome.reply.text, outcome.number, self.locale)
                        if outcome.announce else None)

    def zhoubao(self, command: Mapping[str, Any]) -> None:
        text = _unescape(str(command.get("text") or "").strip())
        words = text.split()
        if words[:1] == ["answer"]:  # the form: opened at once, on the view lane (see `open_answers`)
            self.open_answers(str(command["trigger_id"]), str(command["user_id"]), words[1] if len(words) > 1 else None,
                              response_url=str(command["response_url"]))
            return
        try:
            reply = self.bot.commands.handle(PLATFORM, self._who(str(command["user_id"])), text, self.bot.ctx.now())
            if reply.prompt is not None:  # `/zhoubao answer [week]`: the prompt's form
                self.gw.open_view(str(command["trigger_id"]), blocks.answer_modal(reply.prompt))
                return
        except ChatError as exc:
            reply = self.bot.failures.refused(exc)
        self.gw.respond(str(command["response_url"]), reply.text,
                        blocks.text_blocks(blocks.escape(reply.text)))

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
            form = blocks.answer_modal(reply.prompt)
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
                                     for_question=str(action.get("value") or "") or None)
        # Pressed inside the answer modal: stack the incident form on it, so the answers typed so far stay.
        (self.gw.push_view if body.get("view") else self.gw.open_view)(str(body["trigger_id"]), view)

    def incident_edit_button(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        self.gw.open_view(str(body["trigger_id"]), blocks.incident_modal(
            self.bot.ctx.team.incidents.severities, self.locale, number=int(str(action.get("value") or 0))))

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


class Runner(Protocol):
    """Where listener work runs: `Workers` (a thread pool), or the inbound journal's worker."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]: ...


def _later(workers: Runner, work: Callable[..., None], what: str,
           failures: DeliveryFailures, *, view: bool = False, deferred: bool = False) -> Callable[..., None]:
    """Queue `work` after the ack; a refused Web API call goes to the core (which tells the editors),
    anything else is one log line."""

    def run(**kwargs: Any) -> None:
        try:
            work(**kwargs)
        except ChatError as exc:
            failures.tell_editors(exc)
        except DatabaseUnavailable:
            raise  # the journal keeps the request and processes it again when the database is back
        except Exception:
            log.exception("slack %s failed", what)

    def queue(**kwargs: Any) -> None:
        # Workers, or the journal's runner: modal work beside the queue, a modal's deferred lookup off its thread
        beside = getattr(workers, "submit_view", None) if view else \
            getattr(workers, "submit_deferred", None) if deferred else None
        if beside is not None:
            beside(run, **kwargs)
        else:
            workers.submit(run, **kwargs)

    return queue


def build_app(bot: Bot, gateway: SlackGateway, *, signing_secret: str | None,
              workers: Runner | None = None, token_verification: bool = True) -> App:
    """The Bolt app for this bot; HTTP and Socket Mode both dispatch into it."""
    app = App(client=gateway.client, signing_secret=signing_secret or "unused-in-socket-mode",
              token_verification_enabled=token_verification, process_before_response=True,
              logger=logging.getLogger("zhoubao.slack.bolt"))
    pool = workers or Workers()
    on = Listeners(bot, gateway, defer=lambda work: _later(pool, work, "form lookup", bot.failures, deferred=True)())

    def _guarded(work: Callable[..., None], what: str, *, view: bool = False) -> Callable[..., None]:
        # queued before ack(), so "no work pending" means "all done"
        return _later(pool, work, what, bot.failures, view=view)

    @app.event("message")
    def message(ack: Callable[[], None], body: dict[str, Any], event: dict[str, Any]) -> None:
        _guarded(on.message, "message")(body=body, event=event)
        ack()

    @app.command("/incident")
    def incident(ack: Callable[[], None], command: dict[str, Any]) -> None:
        _guarded(on.incident, "/incident", view=not str(command.get("text") or "").strip())(command=command)
        ack()

    @app.command("/zhoubao")
    def zhoubao(ack: Callable[[], None], command: dict[str, Any]) -> None:
        opens = str(command.get("text") or "").split()[:1] == ["answer"]
        _guarded(on.zhoubao, "/zhoubao", view=opens)(command=command)
        ack()

    @app.action(Action.ANSWER.value)
    def answer_button(ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any]) -> None:
        _guarded(on.answer_button, "answer button", view=True)(body=body, action=action)
        ack()

    @app.action(Action.INCIDENT_EDIT.value)
    def incident_edit(ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any]) -> None:
        _guarded(on.incident_edit_button, "incident edit button", view=True)(body=body, action=action)
        ack()

    @app.action(Action.QUESTION_NONE.value)
    def question_none(ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any]) -> None:
        _guarded(on.question_none_button, "nothing-to-add button")(body=body, action=action)
        ack()

    @app.action(Action.QUESTION_FILE.value)
    def question_file(ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any]) -> None:
        _guarded(on.question_file_button, "file-an-incident button")(body=body, action=action)
        ack()

    @app.view(Callback.ANSWER_FORM.value)
    def answer_form(ack: Callable[[], None], body: dict[str, Any], view: dict[str, Any]) -> None:
        _guarded(on.answer_form, "answer form")(body=body, view=view)
        ack()

    @app.view(Callback.INCIDENT_FORM.value)
    def incident_form(ack: Callable[[], None], body: dict[str, Any], view: dict[str, Any]) -> None:
        _guarded(on.incident_form, "incident form")(body=body, view=view)
        ack()

    return app
