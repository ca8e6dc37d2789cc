"""Slack's requests into the inbound journal before the ack, and out of it through the same Bolt app.

`SlackIntake.http(raw, headers)` is the whole ack path over HTTP: the signature and timestamp are
checked on the raw bytes before anything is parsed (https://api.slack.com/authentication/verifying-requests-from-slack),
the body is parsed and classified, and the request is journaled; only then is Slack answered.
`socket_listener` does the same for Socket Mode envelopes. The journal's worker hands each entry to
`SlackIntake.replay`, which dispatches it through the Bolt app (as a Socket Mode request: no signature
to check again), so the same listeners translate a request on first processing and after a restart.

Every request ends in a 2xx or 4xx: unsigned, stale or garbled requests get 401/400 before parsing;
a signed request of a shape Slack does not send is acknowledged (200, so Slack stops retrying) and
logged once with the reason.

Keys:
- a new message: `message:<channel>:<ts>` — a message's `ts` is unique per channel only, so the same
  `ts` in two DM channels is two messages ("ts … unique per channel",
  https://api.slack.com/messaging/retrieving#individual_messages);
- an edit: `edit:<channel>:<ts>:<edited.ts>`; a deletion: `delete:<channel>:<deleted_ts>`;
- any other event: `event:<event_id>` (a retry carries the same `event_id` with X-Slack-Retry-Num,
  https://api.slack.com/apis/events-api#retries);
- a slash command, a button, a form: `<type>:[<user>:]<trigger_id>[:<action_ts>]` — Slack does not retry
  them, and each invocation has its own trigger_id (https://api.slack.com/interactivity/handling#modal_responses).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.adapters.slack.blocks import Action
from bot.services.journal import Entry, InboundJournal
from bot.services.outbox import Outbox
from storage.db import DatabaseUnavailable

log = logging.getLogger("zhoubao.slack.intake")
PLATFORM = "slack"
MAX_AGE = 300  # seconds: Slack's own recommendation for refusing replays

_NEW = (None, "file_share", "thread_broadcast")


class Malformed(ValueError):
    """A signed request whose shape cannot be used; str() is the reason, logged once, then acked."""


@dataclass(frozen=True)
class Kind:
    key: str  # the dedupe key
    kind: str  # message | message_changed | message_deleted | event | command | block_actions | view_submission


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Malformed(f"{what} is {type(value).__name__}, not an object")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise Malformed(f"{what} is missing or not a string")
    return value


def classify(body: Any) -> Kind:
    """The journal key and kind of one Slack request body (an Events API envelope, a slash command's
    form fields, or an interactivity payload); raises Malformed for a shape Slack does not send."""
    body = _mapping(body, "the body")
    if "command" in body:  # a slash command (form fields)
        return Kind(f"command:{_text(body.get('trigger_id'), 'trigger_id')}", "command")
    kind = body.get("type")
    if kind == "event_callback":
        event = _mapping(body.get("event"), "event")
        event_id = _text(body.get("event_id"), "event_id")
        if event.get("type") != "message":
            return Kind(f"event:{event_id}", "event")
        channel = str(event.get("channel") or "")
        subtype = event.get("subtype")
        if subtype in _NEW and channel and isinstance(event.get("ts"), str):
            return Kind(f"message:{channel}:{event['ts']}", "message")
        if subtype == "message_changed":
            new = _mapping(event.get("message"), "event.message")
            edited = _mapping(new.get("edited") or {}, "event.message.edited").get("ts") or event.get("event_ts")
            return Kind(f"edit:{channel}:{new.get('ts')}:{edited}", "message_changed")
        if subtype == "message_deleted":
            return Kind(f"delete:{channel}:{_text(event.get('deleted_ts'), 'deleted_ts')}", "message_deleted")
        return Kind(f"event:{event_id}", "event")
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, Mapping) for a in actions):
            raise Malformed("actions is not a list of objects")
        user = _mapping(body.get("user"), "user").get("id")
        action_ts = actions[0].get("action_ts") or ""
        return Kind(f"block_actions:{user}:{_text(body.get('trigger_id'), 'trigger_id')}:{action_ts}",
                    "block_actions")
    if kind == "view_submission":
        view = _mapping(body.get("view"), "view")
        _text(view.get("type"), "view.type")
        user = _mapping(body.get("user"), "user").get("id")
        ref = body.get("trigger_id") or view.get("id")
        return Kind(f"view_submission:{user}:{_text(ref, 'trigger_id')}", "view_submission")
    raise Malformed(f"unknown request type {str(kind)[:40]!r}")


# Buttons that only open a modal: they store nothing, and a trigger_id lives 3 seconds (views.open
# reference), so they are handled at once instead of waiting behind the journal's worker (issue 9). A
# replayed click could not open its modal anyway; what the modal submits is journaled like any request.
_OPENS_A_MODAL = frozenset({Action.ANSWER.value, Action.INCIDENT_EDIT.value, Action.QUESTION_FILE.value})


def opens_a_modal(body: Any, kind: Kind) -> bool:
    """Whether a classified request is a button click that only opens a modal."""
    if kind.kind != "block_actions":
        return False
    actions = body.get("actions") or []
    return all(str(a.get("action_id")) in _OPENS_A_MODAL for a in actions)


# ----- the ack path ----------------------------------------------------------------------------------

Answer = tuple[int, dict[str, Any] | None]  # status, JSON body (None: empty)


def _signature_ok(secret: str, raw: bytes, timestamp: str, given: str) -> bool:
    """`v0=` + HMAC-SHA256 of `v0:<timestamp>:<raw body>` (computed on bytes: a body that is not UTF-8
    is refused as unsigned, never decoded first)."""
    expected = "v0=" + hmac.new(secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + raw,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


def parse_body(raw: bytes, content_type: str) -> Any:
    """The request body as Slack meant it: JSON (events), form fields (slash commands), or a form's
    `payload` field holding JSON (interactivity). Raises Malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    try:
        if "application/json" in content_type.lower():
            return json.loads(text)
        form = dict(parse_qsl(text, keep_blank_values=True))
        return json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise Malformed("the body is not valid JSON") from None


class JournalWork:
    """The Bolt listeners' runner when the journal drives them: the work runs at once, on the journal's
    worker thread. Bolt answers 500 for a listener that raises, so an outage is caught here and handed
    to `SlackIntake.replay`, which raises it to the journal (it retries when the database is back)."""

    def __init__(self, journal: InboundJournal, outbox: Outbox | None = None, view_workers: int = 8) -> None:
        self.journal = journal
        self.outbox = outbox
        self._outage = threading.local()
        # Work that opens a modal runs beside the journal's worker, not on it: a trigger_id lives 3 s
        # (views.open reference), and the worker may have a burst of answers to store first (issue 9).
        self._views = ThreadPoolExecutor(max_workers=view_workers, thread_name_prefix="zhoubao-slack-views")
        self._opening: set[Future[Any]] = set()
        self._lock = threading.Lock()
        # A lookup a modal waits for (users.info, paced) runs here, so it never holds a modal's thread.
        self._lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhoubao-slack-lookups")

    def submit_deferred(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Work a modal defers (the lookup before `views.update`), in order, off the modal threads."""
        future = self._lookups.submit(fn, *args, **kwargs)
        with self._lock:
            self._opening.add(future)
        future.add_done_callback(self._opened)
        return future

    def submit_view(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run work that opens a modal now, on its own threads (it stores nothing it could lose: the
        request is already journaled, and what the modal submits comes back as a request of its own)."""
        future = self._views.submit(fn, *args, **kwargs)
        with self._lock:
            self._opening.add(future)
        future.add_done_callback(self._opened)
        return future

    def _opened(self, future: Future[Any]) -> None:
        with self._lock:
            self._opening.discard(future)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except DatabaseUnavailable as exc:
            self._outage.exc = exc
            future.set_exception(exc)
        return future

    def outage(self) -> DatabaseUnavailable | None:
        """The outage the last dispatch on this thread ran into, if any (and forget it)."""
        exc: DatabaseUnavailable | None = getattr(self._outage, "exc", None)
        self._outage.exc = None
        return exc

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every acknowledged request has been processed and its answers sent (tests, benches)."""
        if not self.journal.wait_idle(timeout):
            return False
        deadline = time.monotonic() + timeout
        while True:  # a modal's work may defer a lookup of its own: wait until none is left
            with self._lock:
                opening = list(self._opening)
            if not opening:
                break
            left = deadline - time.monotonic()
            if left <= 0 or futures_wait(opening, left).not_done:
                return False
        return self.outbox is None or self.outbox.wait_idle(timeout)

    def shutdown(self, wait: bool = True) -> None:
        """Finish the modals being opened; the journal's worker is stopped by the runtime."""
        self._views.shutdown(wait=wait)
        self._lookups.shutdown(wait=wait)


class SlackIntake:
    def __init__(self, journal: InboundJournal, app: App, signing_secret: str | None, *,
                 work: JournalWork | None = None, clock: Callable[[], float] = time.time) -> None:
        self.journal = journal
        self.app = app
        self.secret = signing_secret
        self.work = work
        self.clock = clock
        journal.register(PLATFORM, self.replay)

    def http(self, raw: bytes, headers: Mapping[str, str]) -> Answer:
        """The answer to one POST /slack/events (`headers` with lower-case names)."""
        timestamp = headers.get("x-slack-request-timestamp") or ""
        given = headers.get("x-slack-signature") or ""
        if not timestamp.isdigit() or not given.startswith("v0="):
            return 401, {"error": "missing or malformed signature headers"}
        if abs(self.clock() - int(timestamp)) > MAX_AGE:
            return 401, {"error": "stale request"}
        if self.secret is None or not _signature_ok(self.secret, raw, timestamp, given):
            return 401, {"error": "invalid signature"}
        try:
            body = parse_body(raw, headers.get("content-type") or "")
            if isinstance(body, Mapping) and body.get("type") == "url_verification":
                return 200, {"challenge": str(body.get("challenge") or "")}
            if isinstance(body, Mapping) and body.get("ssl_check"):
                return 200, None
            return self._take(body)
        except Malformed as exc:
            log.warning("slack request acknowledged but not used: %s", exc)
            return 200, None

    def _take(self, body: Any) -> Answer:
        kind = classify(body)
        if opens_a_modal(body, kind):
            self.open_now(body)
            return 200, None
        try:
            self.journal.record(PLATFORM, kind.key, kind.kind, body)
        except DatabaseUnavailable:  # no spool to keep it in: Slack retries events on a 5xx
            return 503, {"error": "temporarily unavailable"}
        return 200, None

    def socket(self, payload: Any) -> None:
        """One Socket Mode envelope's payload, journaled before the envelope is acknowledged; a malformed
        one is logged and acknowledged. Raises DatabaseUnavailable (no spool): then do not acknowledge."""
        try:
            kind = classify(payload)
        except Malformed as exc:
            log.warning("slack socket mode request acknowledged but not used: %s", exc)
            return
        if opens_a_modal(payload, kind):
            self.open_now(payload)
            return
        self.journal.record(PLATFORM, kind.key, kind.kind, payload)

    def open_now(self, body: Any) -> None:
        """A click that only opens a modal: through the same listeners, now (they open it beside the queue)."""
        try:
            self.app.dispatch(BoltRequest(body=dict(body), mode="socket_mode"))
        except Exception:  # the click is lost, never the request thread: the person clicks again
            log.exception("slack: opening a modal failed")

    def replay(self, entry: Entry) -> None:
        """Process one journaled request through the Bolt app's listeners."""
        response = self.app.dispatch(BoltRequest(body=dict(entry.payload), mode="socket_mode"))
        outage = self.work.outage() if self.work is not None else None
        if outage is not None:
            raise outage
        if response.status >= 500:
            raise RuntimeError(f"bolt answered {response.status}: {response.body[:200]}")


def socket_listener(intake: SlackIntake) -> Callable[[Any, Any], None]:
    """A `SocketModeClient.socket_mode_request_listeners` entry: journal, then acknowledge the envelope
    (slack_sdk/socket_mode/client.py `send_socket_mode_response`)."""
    from slack_sdk.socket_mode.response import SocketModeResponse

    def listener(client: Any, req: Any) -> None:
        if req.type not in ("events_api", "slash_commands", "interactive"):
            return
        try:
            intake.socket(req.payload)
        except DatabaseUnavailable:
            log.error("database unavailable and no spool: Socket Mode request left unacknowledged")
            return  # Slack redelivers an unacknowledged envelope
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    return listener
