"""A loopback HTTP server that answers like Slack's Web API: records every call, checks required
arguments and Block Kit limits, keeps channel histories, and can be told to fail or rate-limit.

Also serves `response_url`s (/respond/…) and file uploads (/upload/…), so nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

REQUIRED: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("channel",), "chat.update": ("channel", "ts"), "chat.delete": ("channel", "ts"),
    "conversations.open": ("users",), "users.lookupByEmail": ("email",), "users.info": ("user",),
    "views.open": ("trigger_id", "view"), "views.push": ("trigger_id", "view"), "views.update": ("view_id", "view"), "reactions.add": ("channel", "timestamp", "name"),
    "files.getUploadURLExternal": ("filename", "length"), "files.completeUploadExternal": ("files",),
    "conversations.history": ("channel",), "conversations.info": ("channel",),
    "conversations.replies": ("channel", "ts"),
    "canvases.create": (), "canvases.edit": ("canvas_id", "changes"),
    "canvases.access.set": ("canvas_id", "access_level"),
}
# The scope each canvas method needs (each method's page, "Required scopes": canvases:write); without it Slack
# answers missing_scope with `needed` (https://docs.slack.dev/reference/methods/canvases.create, "Errors").
CANVAS_SCOPE = "canvases:write"
# canvases.edit: the operations its page lists (https://docs.slack.dev/reference/methods/canvases.edit).
CANVAS_OPERATIONS = frozenset({"insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace",
                               "delete", "rename"})


# Every `text` string in a message's block tree, summed, above which Slack answers `msg_blocks_too_long`
# (docs/platform-limits.md; slackapi/bolt-js #2509). The code aims lower (blocks.MESSAGE_TEXT).
BLOCK_TEXT_LIMIT = 12_000
# chat.postMessage: "Slack will truncate messages containing more than 40,000 characters"
# (https://api.slack.com/methods/chat.postMessage#truncating): not refused, so a problem is recorded instead.
TEXT_LIMIT = 40_000
TRIGGER_TTL = 3.0  # seconds a trigger_id can open a view (views.open reference)
# Calls per minute per method as Slack documents them (https://docs.slack.dev/apis/web-api/rate-limits: Tier 2
# 20+, Tier 3 50+, Tier 4 100+; each method's page names its tier, e.g. users.lookupByEmail and
# conversations.open: Tier 3, users.info: Tier 4); chat.postMessage is "1 per second" per channel ("Special",
# https://docs.slack.dev/reference/methods/chat.postMessage). `tiers(scale)` gives them sped up for a test.
TIERS: dict[str, float] = {
    "users.lookupByEmail": 50, "conversations.open": 50, "conversations.info": 50, "conversations.history": 50,
    "conversations.replies": 50, "chat.update": 50, "users.info": 100, "views.open": 100, "chat.postMessage": 60,
    "canvases.create": 20, "canvases.edit": 50, "canvases.access.set": 20,  # Tier 2, 3, 2 (each method's page)
}


def tiers(scale: float) -> dict[str, float]:
    """Slack's documented limits, `scale` times faster (so a test of 20 people does not wait a minute)."""
    return {m: n * scale for m, n in TIERS.items()}


def dm_of(user_id: str) -> str:
    """The DM channel Slack keeps between the app and a user (conversations.open's answer, and where a
    chat.postMessage to the user id lands)."""
    return "D" + user_id[1:]


def _tree_text(tree: Any) -> int:
    if isinstance(tree, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _tree_text(v) for k, v in tree.items())
    if isinstance(tree, list):
        return sum(_tree_text(v) for v in tree)
    return 0


def _sdk_problem(kind: str, payload: Any) -> str | None:
    """What slack_sdk.models' validators (written from the Block Kit and views references: option text
    ≤ 75, button text ≤ 75, section text ≤ 3,000, modal title ≤ 24 …) say about a block or view, or None."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block, Option
    from slack_sdk.models.views import View

    def options(tree: Any) -> list[Any]:  # a select keeps its options as dicts: checked one by one
        if isinstance(tree, dict):
            found = [o for k in ("options", "initial_options") for o in tree.get(k) or []]
            return found + [o for v in tree.values() for o in options(v)]
        return [o for v in tree for o in options(v)] if isinstance(tree, list) else []

    try:
        for option in options(payload):
            Option(**option).to_dict()
        if kind == "view":
            View(**payload).to_dict()
        else:
            parsed = Block.parse(payload)
            if parsed is not None:
                parsed.to_dict()
    except (SlackObjectFormationError, TypeError, KeyError) as exc:
        return str(exc)
    return None


def _documented_metadata(meta: Any) -> bool:
    """Whether message metadata is within the documented shape: an event_type string and an event_payload
    whose values are strings, numbers or booleans, or objects (or lists of objects) of those (@slack/types
    MessageMetadata / MessageMetadataEventPayloadObject,
    https://docs.slack.dev/tools/node-slack-sdk/reference/types/interfaces/MessageMetadata). A list of
    strings is outside it (issue 21 item 7): the stand-in then drops the metadata, as Slack may."""
    def scalar(v: Any) -> bool:
        return isinstance(v, (str, int, float, bool))

    def flat(v: Any) -> bool:
        return isinstance(v, dict) and all(scalar(x) for x in v.values())

    payload = meta.get("event_payload") if isinstance(meta, dict) else None
    return isinstance(meta, dict) and isinstance(meta.get("event_type"), str) and isinstance(payload, dict) and all(
        scalar(v) or flat(v) or (isinstance(v, list) and all(flat(x) for x in v)) for v in payload.values())


def _closed_port() -> int:
    """A loopback port that was free a moment ago and that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _json(value: Any) -> Any:
    """A JSON argument as sent in a JSON body (an object) or a form body (a string)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    ratelimited: bool = False  # answered 429: the caller is to try again after Retry-After


@dataclass
class Fault:
    times: int
    status: int = 200
    error: str | None = None
    retry_after: str | None = None
    after: bool = False  # carry the call out, then answer `status` (Slack posted, then answered 500)
    lose: bool = False  # carry the call out, then drop the connection without an answer


@dataclass
class SlackStandIn:
    users: dict[str, str] = field(default_factory=dict)  # email -> user id
    names: dict[str, str] = field(default_factory=dict)  # user id -> real name (workspace members not in the team)
    channels: dict[str, str] = field(default_factory=lambda: {"weekly-report": "C0REPORT"})  # name -> id
    limits: dict[str, float] = field(default_factory=dict)  # method -> calls per minute (already scaled)
    per_channel: frozenset[str] = frozenset({"chat.postMessage"})
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # every request Slack would have rejected as malformed
    history: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # channel -> ts -> message
    rate_limited: int = 0
    triggers: dict[str, float] = field(default_factory=dict)  # trigger_id -> when Slack sent it (monotonic)
    # Seconds a trigger works; the bench sets TRIGGER_TTL. Off by default so a slow test machine cannot fail
    # a test that is not about timing (tests assert behaviour, the bench measures time).
    trigger_ttl: float | None = None
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # view id -> the view as shown now
    opened: list[str] = field(default_factory=list)  # view ids in the order they were opened
    delay: float = 0.0  # seconds every Web API call takes (a slow Slack)
    hold: threading.Event | None = None  # when given, the `held` methods wait for it (a Slack that holds back)
    held: frozenset[str] = frozenset({"chat.postMessage"})
    scopes: str = ("canvases:write,channels:history,channels:read,chat:write,commands,files:write,groups:history,"
                   "groups:read,im:history,im:write,users:read,users:read.email")
    canvases: dict[str, dict[str, Any]] = field(default_factory=dict)  # canvas id -> {title, markdown, access}
    # Where apps.connections.open sends Socket Mode (None: a loopback port nobody listens on, so the WebSocket
    # never opens: a Slack the bot cannot reach).
    socket_url: str | None = None
    not_member: set[str] = field(default_factory=set)  # channel ids the bot was never invited to
    gone: set[str] = field(default_factory=set)  # user ids deleted or deactivated (Slack refuses a DM to them)
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> the bytes uploaded to its upload_url
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # ----- control ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SlackStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                stand_in._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                stand_in._handle(self)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def fail(self, method: str, *, times: int = 1, status: int = 200, error: str | None = None,
             retry_after: str | None = None, after: bool = False, lose: bool = False) -> None:
        """The next `times` calls of `method` answer HTTP `status` (429 with Retry-After, 500) or ok:false;
        with `after` they are carried out first, with `lose` carried out and left without an answer."""
        self._faults.setdefault(method, []).append(Fault(times, status, error, retry_after, after, lose))

    def delete(self, channel: str, ts: str) -> None:
        """A person deletes a message in the channel."""
        with self._lock:
            self.history.get(self.channel_id(channel), {}).pop(ts, None)

    def shown_view(self) -> dict[str, Any]:
        """The most recently opened modal as the person sees it now (after any views.update)."""
        return self.views[self.opened[-1]]

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """What a person sees in a channel now (edits applied), oldest first."""
        return sorted(self.history.get(channel, {}).values(), key=lambda m: float(m["ts"]))

    def channel_id(self, name_or_id: str) -> str:
        """A channel's id from its name; a user id stands for the DM with that user (chat.postMessage:
        "an encoded ID … that represents a channel, private group, or IM channel"; a user id posts in the
        app's DM with them, https://docs.slack.dev/reference/methods/chat.postMessage)."""
        if name_or_id[:1] in ("U", "W"):
            return dm_of(name_or_id)
        return self.channels.get(name_or_id.lstrip("#"), name_or_id)

    # ----- serving -------------------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(req.path)
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if parsed.path == "/_stats":  # for a stand-in in another process
            with self._lock:
                counts: dict[str, int] = {}
                per_channel: dict[str, int] = {}
                for c in self.calls:
                    counts[c.method] = counts.get(c.method, 0) + 1
                    if c.method == "chat.postMessage":
                        per_channel[str(c.args.get("channel"))] = per_channel.get(str(c.args.get("channel")), 0) + 1
                stats = {"calls": counts, "posts_per_channel": per_channel, "rate_limited": self.rate_limited,
                         "problems": self.problems}
            return self._send(req, 200, stats)
        if parsed.path.startswith("/upload/"):  # slack_sdk expects "OK - <length>" (files_upload_v2)
            with self._lock:
                self.uploads[parsed.path.rsplit("/", 1)[-1]] = raw
            return self._send(req, 200, {"ok": True}, text=f"OK - {len(raw)}")
        args: dict[str, Any] = dict(parse_qsl(parsed.query))
        ctype = req.headers.get("Content-Type", "")
        if raw and "json" in ctype:
            args.update(json.loads(raw))
        elif raw:
            args.update(dict(parse_qsl(raw.decode("utf-8"))))
        if parsed.path.startswith("/respond/"):
            with self._lock:
                self.calls.append(Call("response_url", args, time.monotonic()))
                error = self._blocks_error("response_url", args)
            if error:  # a response_url answers errors as text with HTTP 400 (slack_sdk WebhookResponse.body)
                return self._send(req, 400, {}, text=error)
            return self._send(req, 200, {}, text="ok")
        method = parsed.path.rsplit("/", 1)[-1]
        if self.delay:
            time.sleep(self.delay)
        if self.hold is not None and method in self.held:
            self.hold.wait(30)
        with self._lock:
            call = Call(method, args, time.monotonic())
            self.calls.append(call)
            fault = self._fault(method)
            wait = self._rate_wait(method, args)
            call.ratelimited = bool(wait)
        # apps.connections.open takes the app-level token, every other method the bot token
        # (https://docs.slack.dev/reference/methods/apps.connections.open: "Token types: app").
        token_kind = "Bearer xapp-" if method == "apps.connections.open" else "Bearer xoxb-"
        auth = req.headers.get("Authorization", "")
        # a token of the wrong type, or one a test names as revoked (ending "-revoked"), is refused
        if not auth.startswith(token_kind) or auth.endswith("-revoked"):
            return self._send(req, 200, {"ok": False, "error": "not_authed"})
        if wait:
            self.rate_limited += 1
            return self._send(req, 429, {"ok": False, "error": "ratelimited"}, retry_after=f"{wait:.3f}")
        if fault and (fault.after or fault.lose):
            with self._lock:
                self._answer(method, args)  # carried out; what the caller hears is the fault
            if fault.lose:
                req.close_connection = True
                return
            return self._send(req, fault.status, {"ok": False, "error": fault.error or "internal_error"})
        if fault:
            if fault.status != 200:
                return self._send(req, fault.status, {"ok": False, "error": fault.error or "ratelimited"},
                                  retry_after=fault.retry_after)
            return self._send(req, 200, {"ok": False, "error": fault.error})
        missing = [a for a in REQUIRED.get(method, ()) if a not in args]
        if missing:
            self.problems.append(f"{method}: missing {missing}")
            return self._send(req, 200, {"ok": False, "error": "invalid_arguments"})
        with self._lock:
            answer = self._answer(method, args)
        self._send(req, 200, answer)

    def _fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _rate_wait(self, method: str, args: dict[str, Any]) -> float:
        """0 if the call is within the method's limit, else the seconds to wait (a token bucket that, like
        Slack, tolerates a burst of two)."""
        per_minute = self.limits.get(method)
        if not per_minute:
            return 0.0
        key = f"{method}:{args.get('channel')}" if method in self.per_channel else method
        now, gap = time.monotonic(), 60.0 / per_minute
        tokens, last = self._buckets.get(key, (2.0, now))
        tokens = min(2.0, tokens + (now - last) / gap)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) * gap
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    def _send(self, req: BaseHTTPRequestHandler, status: int, body: dict[str, Any], *, text: str | None = None,
              retry_after: str | None = None) -> None:
        data = (text if text is not None else json.dumps(body)).encode("utf-8")
        req.send_response(status)
        req.send_header("Content-Type", "text/plain" if text is not None else "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        if retry_after:
            req.send_header("Retry-After", retry_after)
        req.send_header("X-OAuth-Scopes", self.scopes)
        req.end_headers()
        req.wfile.write(data)

    # ----- what Slack answers ------------------------------------------------------------------------------

    def _blocks_error(self, method: str, args: dict[str, Any]) -> str | None:
        """The error Slack answers a message's blocks with, or None. Limits and codes per
        docs/platform-limits.md: a section over 3,000 characters or more than 50 blocks is `invalid_blocks`
        (section block and Block Kit references); more than 12,000 characters of text summed over the whole
        block tree is `msg_blocks_too_long` (slackapi/bolt-js #2509, #2867: undocumented, our best reading)."""
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not blocks and not args.get("text"):
            self.problems.append(f"{method}: no text and no blocks")
            return "no_text"
        if len(str(args.get("text") or "")) > TEXT_LIMIT:
            self.problems.append(f"{method}: text of {len(str(args['text']))} characters (Slack truncates it)")
        for b in blocks or []:
            # Sections, the bulk of every message, are measured just below; slack_sdk checks the rest
            # (buttons, inputs, options), which keeps the stand-in cheap beside the bot it serves.
            if b.get("type") != "section" and (problem := _sdk_problem("block", b)):
                self.problems.append(f"{method}: {problem}")
                return "invalid_blocks"
            text = (b.get("text") or {}).get("text", "")
            if b.get("type") == "section" and not 0 < len(text) <= 3000:
                self.problems.append(f"{method}: section text of {len(text)} characters")
                return "invalid_blocks"
        if len(blocks or []) > 50:
            self.problems.append(f"{method}: {len(blocks)} blocks")
            return "invalid_blocks"
        total = _tree_text(blocks or [])
        if total > BLOCK_TEXT_LIMIT:
            self.problems.append(f"{method}: {total} characters of block text")
            return "msg_blocks_too_long"
        if args.get("parse") == "full" or args.get("link_names"):
            self.problems.append(f"{method}: parse=full/link_names would turn typed names into mentions")
        return None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1_700_000_000 + next(self._seq)}.000100"
        if method == "auth.test":  # https://docs.slack.dev/reference/methods/auth.test (url: the workspace's)
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "zhoubao",
                    "url": "https://example.slack.com/"}
        if method.startswith("canvases."):
            return self._canvas(method, args)
        if method == "users.lookupByEmail":
            uid = self.users.get(args["email"])
            return {"ok": True, "user": {"id": uid}} if uid else {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            # The user object as users.info returns it (https://docs.slack.dev/reference/objects/user-object):
            # display_name may be empty, real_name is then what Slack shows.
            email = next((e for e, u in self.users.items() if u == args["user"]), None)
            name = self.names.get(args["user"], "")
            return {"ok": True, "user": {"id": args["user"], "name": name.lower(), "real_name": name,
                                         "profile": {"email": email, "display_name": "", "real_name": name}}}
        if method == "conversations.info":  # https://docs.slack.dev/reference/methods/conversations.info
            name = next((n for n, cid in self.channels.items() if cid == args["channel"]), None)
            # is_member: whether the calling bot is in the channel (the conversation object,
            # https://docs.slack.dev/reference/objects/conversation-object).
            return {"ok": True, "channel": {"id": args["channel"], "name": name,
                                            "is_member": args["channel"] not in self.not_member}} if name else \
                {"ok": False, "error": "channel_not_found"}
        if method == "conversations.list":
            # One page, no next_cursor (https://docs.slack.dev/reference/methods/conversations.list).
            return {"ok": True, "channels": [{"id": cid, "name": n, "is_member": cid not in self.not_member}
                                             for n, cid in self.channels.items()],
                    "response_metadata": {"next_cursor": ""}}
        if method == "conversations.open":
            if args["users"] in self.gone:  # conversations.open reference, "Errors"
                return {"ok": False, "error": "user_disabled"}
            return {"ok": True, "channel": {"id": dm_of(str(args["users"]))}}
        if method == "apps.connections.open":
            # {"ok": true, "url": "wss://…"} (https://docs.slack.dev/reference/methods/apps.connections.open);
            # slack_sdk reads only "url" (slack_sdk/socket_mode/client.py `issue_new_wss_url`).
            return {"ok": True, "url": self.socket_url or f"ws://127.0.0.1:{_closed_port()}/link"}
        if method == "chat.postMessage":
            if error := self._blocks_error(method, args):
                return {"ok": False, "error": error}
            if args["channel"] in self.gone:  # a user id that reaches nobody: "Value passed for channel was invalid"
                return {"ok": False, "error": "channel_not_found"}
            channel = self.channel_id(str(args["channel"]))
            msg = {"ts": ts, "channel": channel, "text": args.get("text", ""), "blocks": args.get("blocks") or [],
                   "thread_ts": args.get("thread_ts"), "bot_id": "BBOT"}
            if args.get("metadata"):
                if _documented_metadata(_json(args["metadata"])):
                    msg["metadata"] = _json(args["metadata"])
                else:
                    self.problems.append(f"{method}: metadata outside the documented types (dropped)")
            self.history.setdefault(channel, {})[ts] = msg
            return {"ok": True, "channel": channel, "ts": ts, "message": msg}
        if method == "chat.update":
            if error := self._blocks_error(method, args):
                return {"ok": False, "error": error}
            msg = self.history.get(args["channel"], {}).get(args["ts"])
            if msg is None:
                return {"ok": False, "error": "message_not_found"}
            msg.update(text=args.get("text", ""), blocks=args.get("blocks") or [], edited=True)
            if args.get("metadata"):
                if _documented_metadata(_json(args["metadata"])):
                    msg["metadata"] = _json(args["metadata"])
                else:
                    self.problems.append(f"{method}: metadata outside the documented types (dropped)")
            return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
        if method == "conversations.history":
            # Newest first, top-level messages only; metadata only with include_all_metadata
            # (https://api.slack.com/methods/conversations.history). One page: the stand-in's channels are short.
            channel = self.channel_id(str(args["channel"]))
            if channel not in self.channels.values() and channel not in self.history:
                return {"ok": False, "error": "channel_not_found"}
            with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
            top = [m for m in self.history.get(channel, {}).values() if m.get("thread_ts") in (None, m["ts"])]
            page = [{k: v for k, v in m.items() if with_meta or k != "metadata"}
                    for m in sorted(top, key=lambda m: float(m["ts"]), reverse=True)]
            return {"ok": True, "channel": channel, "messages": page[:int(args.get("limit") or 100)],
                    "has_more": False}
        if method == "conversations.replies":
            # The parent, then its replies, oldest first (https://docs.slack.dev/reference/methods/conversations.replies).
            channel = self.channel_id(str(args["channel"]))
            parent = self.history.get(channel, {}).get(str(args["ts"]))
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            thread = [m for m in self.history[channel].values() if m.get("thread_ts") == parent["ts"]]
            return {"ok": True, "messages": [parent, *sorted(thread, key=lambda m: float(m["ts"]))], "has_more": False}
        if method in ("views.open", "views.push", "views.update"):
            view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
            # Modal views reference: 100 blocks, a 24-character title, 3,000 characters of private_metadata
            # (docs/platform-limits.md; the error code is our best reading, not confirmed).
            if len(view.get("blocks", [])) > 100 or len(view.get("title", {}).get("text", "")) > 24 \
                    or len(view.get("private_metadata", "")) > 3000 or not view.get("blocks"):
                self.problems.append(f"{method}: view over Slack's limits")
                return {"ok": False, "error": "invalid_arguments"}
            if problem := _sdk_problem("view", view):
                self.problems.append(f"{method}: {problem}")
                return {"ok": False, "error": "invalid_arguments"}
            if method == "views.update":
                if args["view_id"] not in self.views:
                    return {"ok": False, "error": "not_found"}
                self.views[args["view_id"]] = {**view, "id": args["view_id"]}
                return {"ok": True, "view": self.views[args["view_id"]]}
            # A trigger_id works for 3 seconds after Slack sent the interaction (views.open reference;
            # docs/platform-limits.md): `expired_trigger_id` after that.
            issued = self.triggers.get(str(args["trigger_id"]))
            if issued is not None and self.trigger_ttl is not None and time.monotonic() - issued > self.trigger_ttl:
                self.problems.append(f"views.open: trigger {args['trigger_id']} used after {self.trigger_ttl} s")
                return {"ok": False, "error": "expired_trigger_id"}
            view_id = f"V{next(self._seq)}"
            self.views[view_id] = {**view, "id": view_id}
            self.opened.append(view_id)
            return {"ok": True, "view": self.views[view_id]}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._seq)}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{fid}", "file_id": fid}
        if method == "files.completeUploadExternal":
            files = args["files"] if isinstance(args["files"], list) else json.loads(args["files"])
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": True}

    def _canvas(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """canvases.create / edit / access.set (each method's page on docs.slack.dev; slack_sdk sends them as
        JSON: `WebClient.canvases_create`, `canvases_edit`, `canvases_access_set`)."""
        if CANVAS_SCOPE not in self.scopes.split(","):
            return {"ok": False, "error": "missing_scope", "needed": CANVAS_SCOPE, "provided": self.scopes}
        if method == "canvases.create":
            content = _json(args.get("document_content") or {})
            if content and content.get("type") != "markdown":
                return {"ok": False, "error": "invalid_arguments"}
            canvas_id = f"F{next(self._seq)}CANVAS"
            self.canvases[canvas_id] = {"title": args.get("title"), "markdown": content.get("markdown", ""),
                                        "access": {}, "edits": 0}
            return {"ok": True, "canvas_id": canvas_id}
        canvas = self.canvases.get(str(args["canvas_id"]))
        if canvas is None:
            return {"ok": False, "error": "canvas_not_found"}
        if method == "canvases.edit":
            changes = _json(args["changes"])
            if not changes or any(c.get("operation") not in CANVAS_OPERATIONS for c in changes):
                return {"ok": False, "error": "invalid_arguments"}
            for change in changes:
                if change["operation"] == "replace" and "section_id" not in change:
                    canvas["markdown"] = _json(change["document_content"])["markdown"]
                    canvas["edits"] += 1
            return {"ok": True}
        if method == "canvases.access.set":
            if args["access_level"] not in ("read", "write", "owner"):
                return {"ok": False, "error": "invalid_arguments"}
            # slack_sdk sends a list as a comma-separated string (`canvases_access_set`: ",".join(channel_ids))
            ids = args.get("channel_ids") or []
            if isinstance(ids, str):
                ids = json.loads(ids) if ids.startswith("[") else ids.split(",")
            for channel in ids:
                canvas["access"][self.channel_id(str(channel))] = args["access_level"]
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


if __name__ == "__main__":  # a stand-in in its own process, for benches: prints its URL, serves until killed
    import sys

    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    users = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}  # email -> user id
    server = SlackStandIn(limits=limits, users=users).start()
    print(server.url, flush=True)
    threading.Event().wait()
