"""Slack's requests into the inbound journal before the ack, and out of it through the same Bolt app.

`SlackIntake.http(raw, headers)` is the whole ack path over HTTP: the signature and timestamp are
checked (slack_sdk's `SignatureVerifier`) before anything is parsed
(https://api.slack.com/authentication/verifying-requests-from-slack), the body is parsed and classified,
and the request is journaled; only then is Slack answered. `socket_listener` does the same for Socket
Mode envelopes. The journal's worker hands each entry to `SlackIntake.replay`, which dispatches it
through the Bolt app, so the same listeners translate a request on first processing and after a
restart. A request that opens a modal (`app.ROUTES` says which) is not journaled: it runs at once on
the `ModalLane`, since its trigger_id lives 3 seconds.

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

from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack.app import SlackApp, opens_a_modal
from bot.services.journal import Entry, InboundJournal, MalformedPayload
from storage.db import DatabaseUnavailable

log = logging.getLogger("zhoubao.slack.intake")
PLATFORM = "slack"

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


# ----- the ack path ----------------------------------------------------------------------------------

Answer = tuple[int, dict[str, Any] | None]  # status, JSON body (None: empty)


def parse_body(text: str, content_type: str) -> Any:
    """The request body as Slack meant it: JSON (events), form fields (slash commands), or a form's
    `payload` field holding JSON (interactivity). Raises Malformed."""
    try:
        if "application/json" in content_type.lower():
            return json.loads(text)
        form = dict(parse_qsl(text, keep_blank_values=True))
        return json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise Malformed("the body is not valid JSON") from None


class ModalLane:
    """Where a request that opens a modal runs: beside the journal's worker, at once. A trigger_id lives
    3 seconds (https://docs.slack.dev/reference/methods/views.open) and the worker may have a burst of
    answers to store first (issue 9). Such a request stores nothing it could lose (what the modal submits
    comes back as a request of its own, journaled), so it is not journaled; a replayed click could not
    open its modal anyway. A lookup a modal waits for (users.info, paced) runs on a line of its own, so it
    never holds a thread that opens modals."""

    def __init__(self, threads: int = 8) -> None:
        self._opening = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zhoubao-slack-modals")
        self._lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhoubao-slack-lookups")
        self._running: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def open(self, work: Callable[[], None]) -> None:
        self._track(self._opening.submit(work))

    def defer(self, work: Callable[[], None]) -> None:
        """Work a modal leaves for later (the lookup before `views.update`), in order, off the modal threads."""
        self._track(self._lookups.submit(work))

    def _track(self, future: Future[Any]) -> None:
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._running.discard(future)
        exc = None if future.cancelled() else future.exception()
        if isinstance(exc, MalformedPayload):
            exc.log(PLATFORM, "modal")
        elif exc is not None:  # the click is lost: the person clicks again
            log.error("slack: opening a modal failed", exc_info=exc)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every modal being opened, and the work it deferred, is done (tests, benches)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                running = list(self._running)
            if not running:
                return True
            left = deadline - time.monotonic()
            if left <= 0 or futures_wait(running, left).not_done:
                return False

    def shutdown(self, wait: bool = True) -> None:
        """Finish the modals being opened."""
        self._opening.shutdown(wait=wait)
        self._lookups.shutdown(wait=wait)


class SlackIntake:
    def __init__(self, journal: InboundJournal, app: SlackApp, verifier: SignatureVerifier | None,
                 modals: ModalLane) -> None:
        """`verifier`: slack_sdk's, with the app's signing secret (None in Socket Mode, where requests come
        over the authenticated socket and the HTTP endpoint is not served)."""
        self.journal = journal
        self.app = app
        self.verifier = verifier
        self.modals = modals
        journal.register(PLATFORM, self.replay)

    def http(self, raw: bytes, headers: Mapping[str, str]) -> Answer:
        """The answer to one POST /slack/events (`headers` with lower-case names)."""
        timestamp = headers.get("x-slack-request-timestamp") or ""
        given = headers.get("x-slack-signature") or ""
        # ASCII digits only: str.isdigit() accepts '²', which int() then refuses (issue 20 item 5), and int()
        # accepts ' 1', '+1' and '1_0', which Slack never sends.
        if not (timestamp.isascii() and timestamp.isdigit()) or not given.startswith("v0="):
            return 401, {"error": "missing or malformed signature headers"}
        try:
            text = raw.decode("utf-8")  # Slack sends UTF-8; the verifier decodes bytes itself and would raise
        except UnicodeDecodeError:
            return 400, {"error": "the body is not UTF-8"}
        # slack_sdk's verifier: v0 HMAC-SHA256 of `v0:<timestamp>:<body>`, and a timestamp within 5 minutes
        # of its clock (https://docs.slack.dev/authentication/verifying-requests-from-slack/).
        if self.verifier is None or not self.verifier.is_valid(text, timestamp, given):
            return 401, {"error": "invalid or stale signature"}
        try:
            body = parse_body(text, headers.get("content-type") or "")
            if isinstance(body, Mapping) and body.get("type") == "url_verification":
                return 200, {"challenge": str(body.get("challenge") or "")}
            if isinstance(body, Mapping) and body.get("ssl_check"):
                return 200, None
            return self._take(body)
        except Malformed as exc:
            log.warning("slack request acknowledged but not used: %s", exc)
            return 200, None

    def _take(self, body: Any) -> Answer:
        try:
            self.take(body)
        except DatabaseUnavailable:  # no spool to keep it in: Slack retries events on a 5xx
            return 503, {"error": "temporarily unavailable"}
        return 200, None

    def take(self, body: Any) -> None:
        """One request, from either transport: a modal opened now, or journaled. Raises Malformed, and
        DatabaseUnavailable when it cannot be kept (no spool)."""
        kind = classify(body)
        if opens_a_modal(body):
            self.modals.open(lambda: self.app.dispatch(body))
            return
        self.journal.record(PLATFORM, kind.key, kind.kind, body)

    def socket(self, payload: Any) -> None:
        """One Socket Mode envelope's payload, taken before the envelope is acknowledged; a malformed one is
        logged and acknowledged. Raises DatabaseUnavailable (no spool): then do not acknowledge."""
        try:
            self.take(payload)
        except Malformed as exc:
            log.warning("slack socket mode request acknowledged but not used: %s", exc)

    def replay(self, entry: Entry) -> None:
        """Process one journaled request through the Bolt app's listeners."""
        self.app.dispatch(entry.payload)


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
