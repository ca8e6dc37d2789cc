"""`ChatPort` over Slack's Web API: DMs, channel posts, the report in blocks, people's ids.

Every call goes through `_call`, so a refusal (not_in_channel, invalid_auth, ratelimited …) becomes one
log line and a `ChatError` naming the call and its channel; the core's delivery-failures service decides
whom to tell. 429s and 5xx are retried by slack_sdk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.models.metadata import Metadata

from bot.adapters.slack import blocks
from bot.adapters.slack.limits import Pacer, RetryAfterHandler, lines_within, split
from bot.adapters.team_source import TeamSource, current_team
from bot.adapters.ttl_cache import TtlCache
from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person, Team
from bot.services.chat import POST_GONE, ChatError, MessageRef, RenderedReport
from bot.services.journal import NotNow
from bot.services.metrics import NO_METRICS, Metrics
from bot.services.outbox import Outbox
from bot.text.catalogue import say

log = logging.getLogger("zhoubao.slack")
PLATFORM = "slack"
NAME_TTL = 86_400.0  # seconds a profile name is trusted before users.info is asked again
_GET = frozenset({"users.lookupByEmail", "users.info", "conversations.history", "conversations.info",
                  "conversations.replies"})
UNKNOWN_OUTCOME = "unknown_outcome"  # a 5xx or a lost response: Slack may have carried the call out
# The report's first message carries message metadata naming the team and the week, so the bot can
# find its own post again before posting (https://api.slack.com/metadata/publishing; read back with
# conversations.history include_all_metadata=true, https://api.slack.com/methods/conversations.history;
# the bot token needs channels:history / groups:history for that). Only scalar fields: an event_payload
# value is a string, number or boolean (or objects of those), as the official types describe it
# (@slack/types MessageMetadataEventPayloadObject, https://docs.slack.dev/tools/node-slack-sdk/reference/types/interfaces/MessageMetadata);
# the thread parts (one message each) are recorded by the core (report_posts) and, after a crash, found in the
# post's thread (conversations.replies, https://docs.slack.dev/reference/methods/conversations.replies).
REPORT_EVENT = "zhoubao_report"
_HISTORY_PAGES = 5  # x 200 messages: how far back the report channel is searched for the post
# What users.info / users.lookupByEmail answer for someone who is not there
# (https://docs.slack.dev/reference/methods/users.info, .../users.lookupByEmail, "Errors"): only these
# say "no such person". Anything else (a timeout, a 5xx, ratelimited past the retries) is a failed
# lookup, never remembered: cached as "not a member", it answered every later message of that person
# "not on the team" and stored nothing (issue 20 item 17: 6 of 20 answers lost under a flood).
_NO_SUCH_USER = frozenset({"user_not_found", "users_not_found", "user_not_visible"})
# Past this many messages a command's answer is not read in chat: the person gets its first lines and the
# whole text as a file in their DM with the app (issue 21: "a short summary plus the full text as a file").
WORTH_READING = 3
SUMMARY = 2_000  # characters of the answer's first lines shown beside the file


# What chat.postMessage answers when the user id given as `channel` no longer reaches anyone: an invalid
# channel value, a deleted or deactivated user (https://docs.slack.dev/reference/methods/chat.postMessage,
# "Errors"; user_disabled as conversations.open names it). An id looked up by email is then looked up again.
_ID_GONE = frozenset({"channel_not_found", "user_not_found", "user_disabled", "account_inactive"})


class IdStore(Protocol):
    """Where the user ids looked up by email are kept across restarts (services.platform_ids)."""

    def load(self, platform: str) -> dict[str, str]: ...

    def set(self, person_id: str, platform: str, value: str | None) -> None: ...


def make_client(token: str, base_url: str = "https://slack.com/api/", *, retries: int = 3,
                timeout: int = 10) -> WebClient:
    """A WebClient that honours 429 Retry-After and retries 5xx and dropped connections with backoff."""
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=retries),
        RetryAfterHandler(max_retry_count=retries + 2),
        ServerErrorRetryHandler(max_retry_count=retries)])


class SlackGateway:
    platform = PLATFORM
    # Prompts in flight at once: each DM is its own channel for chat.postMessage's pace, so round trips
    # overlap; the Pacer (locked) keeps every method's and channel's rate.
    parallel_sends = 8

    def __init__(self, client: WebClient, team: TeamSource, *, ids: IdStore | None = None,
                 pacer: Pacer | None = None, metrics: Metrics = NO_METRICS, outbox: Outbox | None = None) -> None:
        self.client = client
        self.outbox = outbox  # answers to people leave from here, so processing never waits on pacing
        self._team = team
        self.ids = ids
        self.pacer = pacer or Pacer()
        self.metrics = metrics
        self._user_ids: dict[str, str | None] | None = None  # person id -> Slack user id (None: cannot resolve)
        self._people: dict[str, str | None] = {}  # Slack user id -> person id
        # The team file's Slack ids, looked up on every inbound message (a scan of the people cost more), for
        # the team they were read from: a reload is noticed by the team's identity (`_matching`).
        self._matched: Team | None = None
        self._by_slack: dict[str, str] = {}
        self._dms: dict[str, str] = {}  # Slack user id -> DM channel id
        self._names: TtlCache[str, str | None] = TtlCache(NAME_TTL)  # Slack user id -> profile name
        self._channel_names: TtlCache[str, str | None] = TtlCache(NAME_TTL)  # channel id -> name
        self._lock = threading.Lock()
        # The same client without the 5xx and connection-error retries, for posts that must not double.
        self._once_client = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                                      retry_handlers=[h for h in client.retry_handlers
                                                      if isinstance(h, RetryAfterHandler)])

    # ----- calls ---------------------------------------------------------------------------------

    def _call(self, method: str, *, once: bool = False, **kwargs: Any) -> Any:
        """One Web API call; a refusal is logged once and raised as ChatError. `views.open` is not paced: its
        `trigger_id` lives 3 seconds (https://docs.slack.dev/reference/methods/views.open), and Slack's
        per-minute tiers allow a burst (https://docs.slack.dev/apis/web-api/rate-limits), while spacing
        every open 0.63 s apart made the 6th of a burst miss its window (issue 9).

        `once`: no retry after a 5xx or a dropped connection (only after a 429, which Slack did not act on),
        for calls that must not happen twice; the caller finds out what happened (`UNKNOWN_OUTCOME`)."""
        if method != "views.open":
            self.pacer.wait(method, kwargs.get("channel"))
        client = self._once_client if once else self.client
        try:
            if method in _GET:
                return client.api_call(method, http_verb="GET", params=kwargs)
            return client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            reason = UNKNOWN_OUTCOME if once and status >= 500 else str(exc.response.get("error") or f"http_{status}")
        except SlackClientError as exc:
            reason = f"client_error: {exc}"
        except OSError as exc:  # a timeout or a dropped connection: the call may have been carried out
            reason = UNKNOWN_OUTCOME if once else f"connection_error: {type(exc).__name__}"
        where = kwargs.get("channel") or kwargs.get("users") or kwargs.get("email") or ""
        log.error("slack %s failed: %s%s", method, reason, f" (channel {where})" if where else "")
        self.metrics.platform_error(PLATFORM, method, reason.split(":")[0])
        raise ChatError(reason, f"{method} {where}".strip(), method=method, where=str(where))

    # ----- people ------------------------------------------------------------------------------------

    @property
    def team(self) -> Team:
        """The team now: a reload on the settings page or of the file reaches the next message."""
        return current_team(self._team)

    def _matching(self) -> dict[str, str]:
        """Slack user id -> person id from the team file, for the team now (call with the lock). After a
        reload, a user remembered as nobody may be somebody now (added by email): asked about again."""
        team = self.team
        if team is not self._matched:
            self._by_slack = {}
            for p in team.people:
                if p.slack:
                    self._by_slack.setdefault(p.slack, p.id)
            self._people = {uid: pid for uid, pid in self._people.items()
                            if pid is not None and pid in team.person_by_id}
            self._matched = team
        return self._by_slack

    def _known_ids(self) -> dict[str, str | None]:
        """Person id -> Slack user id as known so far: read from the store once per process (call with the lock)."""
        if self._user_ids is None:
            stored = self.ids.load(PLATFORM) if self.ids else {}
            self._user_ids = dict(stored)
            self._people.update({uid: pid for pid, uid in stored.items()})
        return self._user_ids

    def user_id(self, person: Person) -> str | None:
        """The person's Slack user id: from the team file, else looked up by email once and stored, so a
        restart asks Slack again for nobody (users.lookupByEmail is Tier 3: 1,000 people took 21 minutes)."""
        if person.slack:
            return person.slack
        with self._lock:
            known = self._known_ids()
            if person.id in known:
                return known[person.id]
        uid: str | None = None
        if person.email:
            try:
                uid = self._call("users.lookupByEmail", email=person.email)["user"]["id"]
            except ChatError as exc:
                if exc.reason not in _NO_SUCH_USER:
                    return None  # not remembered: the next send asks again
        with self._lock:
            self._known_ids()[person.id] = uid
            if uid:
                self._people[uid] = person.id
        if uid and self.ids:
            self.ids.set(person.id, PLATFORM, uid)
        return uid

    def _forget(self, person: Person, uid: str) -> None:
        """Slack says `uid` is gone: the next send looks the person up again."""
        with self._lock:
            self._known_ids().pop(person.id, None)
            self._people.pop(uid, None)
        if self.ids:
            self.ids.set(person.id, PLATFORM, None)

    def person_for(self, user_id: str) -> str | None:
        """The team member behind a Slack user id (by id, else by the email Slack has for them); None when
        Slack says there is none. Raises NotNow when the lookup failed (the journal keeps the payload)."""
        with self._lock:
            by_slack = self._matching()
            if user_id in by_slack:
                return by_slack[user_id]
            if user_id in self._people:
                return self._people[user_id]
            team = self._matched
        assert team is not None
        pid: str | None = None
        if any(p.email and not p.slack for p in team.people):
            try:
                email = self._call("users.info", user=user_id)["user"].get("profile", {}).get("email")
            except ChatError as exc:
                if exc.reason not in _NO_SUCH_USER:
                    raise NotNow(f"slack users.info for {user_id} failed: {exc.reason}") from exc
                email = None
            found = team.find_person(email) if email else None
            pid = found.id if found else None
        with self._lock:
            if self._matching() is by_slack:  # not when a reload came meanwhile: the next message asks again
                self._people[user_id] = pid
            if pid:
                self._known_ids()[pid] = user_id
        return pid

    def display_name(self, user: str) -> str | None:
        """The name Slack shows for a user id: the profile's display name, else the real name (users.info,
        https://docs.slack.dev/reference/methods/users.info; fields of the user object,
        https://docs.slack.dev/reference/objects/user-object). Cached for a day, then asked again."""
        team = self.team
        with self._lock:
            by_slack = self._matching()
        person = team.person_by_id.get(user) or team.person_by_id.get(by_slack.get(user, ""))
        if person is not None:
            return person.name
        known, name = self._names.fresh(user)
        if known:
            return name
        try:
            found = self._call("users.info", user=user)["user"]
        except ChatError:
            return self._names.stale(user)
        profile = found.get("profile") or {}
        name = next((str(n) for n in (profile.get("display_name"), profile.get("real_name"), found.get("real_name"),
                                      found.get("name")) if n), None)
        self._names.put(user, name)
        return name

    # ----- names for the composer (composer.NameLookup) ----------------------------------------------

    def user_name(self, user_id: str) -> str | None:
        """A mentioned user as people know them: the team file's name for a member, else Slack's profile."""
        person = self.team.person_by_id.get(self.person_for(user_id) or "")
        return person.name if person is not None else self.display_name(user_id)

    def channel_name(self, channel_id: str) -> str | None:
        """A mentioned channel's name from conversations.info (https://docs.slack.dev/reference/methods/conversations.info),
        asked once a day per channel; None when Slack does not say (the app lacks channels:read, or cannot
        see the channel): the composer then uses the name Slack put in the text, or the id."""
        known, cached = self._channel_names.fresh(channel_id)
        if known:
            return cached
        try:
            name = (self._call("conversations.info", channel=channel_id).get("channel") or {}).get("name")
        except ChatError:
            name = None
        self._channel_names.put(channel_id, str(name) if name else None)
        return str(name) if name else None

    def _to_person(self, person: Person, send: Callable[[str], MessageRef]) -> MessageRef:
        """`send` to the person's DM by their user id: chat.postMessage with a user id as `channel` posts in
        the app's DM with that user, opening it if needed (https://docs.slack.dev/reference/methods/chat.postMessage,
        the `channel` argument; conversations.open, Tier 3, is not needed). An id looked up by email that
        Slack says is gone is looked up again, once."""
        uid = self.user_id(person)
        if uid is None:
            raise ChatError("user_not_found", f"no Slack user for {person.id}")
        try:
            return send(uid)
        except ChatError as exc:
            if person.slack or exc.reason not in _ID_GONE:
                raise
            gone = exc
        log.warning("slack: the user id of %s is gone (%s); looking them up again", person.id, gone.reason)
        self._forget(person, uid)
        fresh = self.user_id(person)
        if fresh is None or fresh == uid:
            raise gone
        return send(fresh)

    # ----- ChatPort -------------------------------------------------------------------------------------

    def _post(self, channel: str, text: str, block_list: list[blocks.Block] | None = None,
              thread_ts: str | None = None) -> MessageRef:
        """Post what must be said (escaped `text`, and blocks) in as many messages as Slack's limits need
        (`limits.split`); the first one stands for it."""
        refs = []
        for message in split(text, block_list, self.team.team.locale):
            args: dict[str, Any] = {"channel": channel, "text": message.text, "unfurl_links": False,
                                    "unfurl_media": False}
            if message.blocks:
                args["blocks"] = list(message.blocks)
            if thread_ts:
                args["thread_ts"] = thread_ts
            data = self._call("chat.postMessage", **args)
            refs.append(MessageRef(PLATFORM, data["channel"], data["ts"]))
        return refs[0]

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        """The prompt in as many messages as Slack's limits need; the first one stands for it."""
        def send(channel: str) -> MessageRef:
            refs = [self._post(channel, blocks.fallback_text(part) or prompt.week, part)
                    for part in blocks.prompt_messages(prompt)]
            return refs[0]

        return self._to_person(person, send)

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        return self._to_person(person, lambda channel: self._post(channel, blocks.escape(text)))

    def post_text(self, channel: str, text: str) -> MessageRef:
        return self._post(channel, blocks.escape(text))

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        """The report as block messages (the rest in the first one's thread), then the Markdown file.

        Never twice: if the channel already holds this week's report (posted before a crash, or by a
        call that failed after Slack carried it out), that post is updated instead."""
        found = self.find_report(channel, report.week)
        if found:
            return self.update_report(found, report, rendered)
        parts = blocks.report_messages(rendered.slack)
        title = _title(rendered)
        first = self._post_report_once(channel, report.week, title, parts[0])
        refs = [first]
        for part in parts[1:]:
            refs.append(self._post_part(first, refs[-1], title, part))
        try:
            self.client.files_upload_v2(channel=first.channel, thread_ts=first.message_id,
                                        content=rendered.markdown, filename=f"{report.week}.md", title=title)
        except (SlackApiError, SlackClientError) as exc:  # the report itself is posted; say so, go on
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            log.error("slack files.upload failed: %s (channel %s)", reason, first.channel)
        return refs

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        """Edit each posted message in place; a longer report adds thread replies (first reusing any found in
        the thread after the recorded ones: posted before, never recorded), a shorter one blanks.
        With `previous` (what the post shows now), a message whose blocks and title would not change is not
        edited: a late answer edits the part it is in, not every part (chat.update is Tier 3, 50 a minute).

        A first message deleted in the channel raises ChatError(POST_GONE) for the core to post anew."""
        parts = blocks.report_messages(rendered.slack)
        title = _title(rendered)
        blank = blocks.text_blocks("…")
        shown = None if previous is None or _title(previous) != title else blocks.report_messages(previous.slack)
        refs: list[MessageRef] = []
        for n, ref in enumerate(posted):
            part = parts[n] if n < len(parts) else blank
            if shown is not None and (shown[n] if n < len(shown) else blank) == part:
                refs.append(ref)
                continue
            extra: dict[str, Any] = {"metadata": self._metadata(report.week)} if n == 0 else {}
            try:
                data = self._call("chat.update", channel=ref.channel, ts=ref.message_id, text=title, blocks=part,
                                  **extra)
            except ChatError as exc:
                if n == 0 and exc.reason == "message_not_found":  # https://api.slack.com/methods/chat.update
                    raise ChatError(POST_GONE, ref.message_id, method="chat.update", where=ref.channel) from None
                raise
            refs.append(MessageRef(PLATFORM, data.get("channel", ref.channel), data.get("ts", ref.message_id)))
        if len(parts) > len(posted):
            # A part posted before but not recorded (the process stopped, or a later part was refused, before
            # the core recorded them) is in the thread after the recorded ones: it is edited, not posted again.
            landed = self._parts_after(posted[0], posted[-1])
            for part in parts[len(posted):]:
                if landed:
                    ref = landed.pop(0)
                    self._call("chat.update", channel=ref.channel, ts=ref.message_id, text=title, blocks=part)
                    refs.append(ref)
                else:
                    refs.append(self._post_part(posted[0], refs[-1], title, part))
            for ref in landed:  # more of them than parts now: blanked, and recorded like any extra part
                self._call("chat.update", channel=ref.channel, ts=ref.message_id, text=title, blocks=blank)
                refs.append(ref)
        return refs

    # ----- finding the report again -----------------------------------------------------------------

    def _metadata(self, week: str) -> dict[str, Any]:
        return Metadata(event_type=REPORT_EVENT, event_payload={"team": self.team.team.name, "week": week}).to_dict()

    def find_report(self, channel: str, week: str) -> list[MessageRef]:
        """This team's report for `week` in `channel` (first message, then its thread parts), or []."""
        cursor: str | None = None
        for _ in range(_HISTORY_PAGES):
            args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 200}
            if cursor:
                args["cursor"] = cursor
            data = self._call("conversations.history", **args)
            for msg in data.get("messages") or []:
                meta = msg.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == REPORT_EVENT and payload.get("week") == week \
                        and payload.get("team") == self.team.team.name:
                    where = str(data.get("channel") or channel)
                    return [MessageRef(PLATFORM, where, str(msg["ts"]))] + self._thread_parts(where, str(msg["ts"]))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return []

    def _thread_parts(self, channel: str, ts: str) -> list[MessageRef]:
        """The report's thread parts: the bot's own block messages in the post's thread, oldest first (a
        person's reply, and the uploaded Markdown file, are not parts)."""
        refs: list[MessageRef] = []
        cursor: str | None = None
        for _ in range(_HISTORY_PAGES):
            args: dict[str, Any] = {"channel": channel, "ts": ts, "limit": 200}
            if cursor:
                args["cursor"] = cursor
            data = self._call("conversations.replies", **args)
            refs += [MessageRef(PLATFORM, channel, str(m["ts"])) for m in data.get("messages") or []
                     if str(m.get("ts")) != ts and m.get("bot_id") and m.get("blocks") and not m.get("files")]
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return refs

    def _post_report_once(self, channel: str, week: str, title: str, part: list[blocks.Block]) -> MessageRef:
        """Post the report's first message once: after an unknown outcome, look before posting again."""
        args: dict[str, Any] = {"channel": channel, "text": title, "blocks": part, "unfurl_links": False,
                                "unfurl_media": False, "metadata": self._metadata(week)}
        return self._post_once(args, lambda: next(iter(self.find_report(channel, week)), None), "the report")

    def _post_part(self, first: MessageRef, after: MessageRef, title: str, part: list[blocks.Block]) -> MessageRef:
        """One part of the report in the post's thread, after `after`, as exactly one message: a part is within
        Slack's limits already (`blocks.report_messages`), and the core records one message per part (`_post`
        packs at a lower limit, leaving room for a "(1/2)" marker: a full part went out as two messages, of
        which the second was never recorded nor edited again). Posted once: after an unknown outcome the
        thread is looked at before posting again."""
        args: dict[str, Any] = {"channel": first.channel, "thread_ts": first.message_id, "text": title,
                                "blocks": part, "unfurl_links": False, "unfurl_media": False}
        return self._post_once(args, lambda: next(iter(self._parts_after(first, after)), None), "a report part")

    def _post_once(self, args: dict[str, Any], landed: Callable[[], MessageRef | None], what: str) -> MessageRef:
        """`chat.postMessage` without the client's blind retry: after an unknown outcome (a 5xx or a lost
        answer), `landed` looks for the message in the channel or thread before it is posted again."""
        for attempt in range(3):
            try:
                data = self._call("chat.postMessage", once=True, **args)
                return MessageRef(PLATFORM, data["channel"], data["ts"])
            except ChatError as exc:
                if exc.reason != UNKNOWN_OUTCOME or attempt == 2:
                    raise
                found = landed()
                if found is not None:
                    log.warning("slack: posted although the call failed; using that message", extra={"what": what})
                    return found
        raise AssertionError("unreachable")

    def _parts_after(self, first: MessageRef, after: MessageRef) -> list[MessageRef]:
        """The report's thread parts posted after `after` (a part of it, or its first message), oldest first."""
        return [ref for ref in self._thread_parts(first.channel, first.message_id)
                if Decimal(ref.message_id) > Decimal(after.message_id)]

    # ----- what the listeners need -------------------------------------------------------------------------

    def _answer(self, key: str, send: Callable[[], object], what: str) -> None:
        """Send an answer now, or queue it on the outbox (one ordered line per channel)."""
        if self.outbox is None:
            send()
        else:
            self.outbox.send(key, send, what)

    def reply(self, channel: str, text: str, thread_ts: str | None = None) -> None:
        """A short private answer in a DM (in the thread the person wrote in, if any)."""
        self._answer(channel, lambda: self._post(channel, blocks.escape(text), thread_ts=thread_ts), "reply")

    def dm_user(self, user_id: str, text: str, block_list: list[blocks.Block] | None = None) -> None:
        """A private answer to someone who just wrote (their user id came with the request): posted to the
        user id, which reaches their DM with the app (see `_to_person`)."""
        self._answer(f"user:{user_id}", lambda: self._post(user_id, blocks.escape(text), block_list), "dm")

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Open a modal; returns its view id (for `update_view`)."""
        data = self._call("views.open", trigger_id=trigger_id, view=view)
        return str((data.get("view") or {}).get("id") or "")

    def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        """Replace an open modal (views.update needs no trigger: https://docs.slack.dev/reference/methods/views.update)."""
        self._call("views.update", view_id=view_id, view=view)

    def knows(self, user_id: str) -> bool:
        """Whether `person_for(user_id)` answers without a Web API call (team file or cache)."""
        with self._lock:
            self._known_ids()
            return user_id in self._matching() or user_id in self._people

    def push_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """A modal over the open one (a button pressed inside a modal): https://api.slack.com/methods/views.push"""
        self._call("views.push", trigger_id=trigger_id, view=view)

    def respond(self, response_url: str, text: str, block_list: list[blocks.Block] | None = None,
                post: Callable[..., Any] | None = None, *, user: str | None = None,
                filename: str = "zhoubao.txt") -> None:
        """An ephemeral answer to a slash command through its response_url, split like any message; past
        WORTH_READING messages, with the asking `user` known, its first lines and the whole text as a file
        `filename` in their DM (`_as_file`), so nothing is cut.
        A response_url takes at most five answers in 30 minutes (https://api.slack.com/interactivity/slash-commands,
        "up to 5 times within 30 minutes", as quoted in claudia-bot-builder docs/SLACK_DELAYED_REPLY_BUILDER.md)."""
        from slack_sdk.webhook import WebhookClient

        locale = self.team.team.locale
        whole = split(blocks.escape(text), block_list, locale)
        # At most five answers: past that, the fifth says how many were left out (limits.split).
        parts = split(blocks.escape(text), block_list, locale, max_messages=5)

        def send() -> None:
            client = WebhookClient(response_url, timeout=10, retry_handlers=self.client.retry_handlers)
            answers = parts
            if user and len(whole) > WORTH_READING:
                name = self._as_file(user, text, filename)
                if name:
                    head = lines_within(text.split("\n"), SUMMARY, lambda m: say(locale, "slack.more", count=m),
                                        measure=lambda line: len(blocks.escape(line)))
                    summary = blocks.escape("\n".join([*head, say(locale, "slack.as_file", name=name, size=len(text))]))
                    answers = split(summary, blocks.text_blocks(summary), locale)
            for part in answers:
                body: dict[str, Any] = {"response_type": "ephemeral", "text": part.text}
                if part.blocks:
                    body["blocks"] = list(part.blocks)
                result = client.send_dict(body)
                if result.status_code != 200:
                    log.error("slack response_url failed: http %s %s", result.status_code, result.body[:100])

        self._answer(response_url, send, "response_url")


    def _as_file(self, user: str, text: str, filename: str) -> str | None:
        """Upload `text` as a file shared in the DM with `user` (files_upload_v2: files.getUploadURLExternal,
        the upload, files.completeUploadExternal with `channel_id`, a conversation id, so the DM's is asked of
        conversations.open: https://docs.slack.dev/reference/methods/files.completeUploadExternal). Returns the
        file's name, or None when Slack refused (the answer is then split as usual)."""
        try:
            channel = self._call("conversations.open", users=user)["channel"]["id"]
            self.client.files_upload_v2(channel=channel, content=text, filename=filename, title=filename)
        except ChatError:
            return None
        except (SlackApiError, SlackClientError) as exc:
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            log.error("slack files.upload failed: %s (user %s)", reason, user)
            return None
        return filename

def _title(rendered: RenderedReport) -> str:
    """The report's first line, for notifications and screen readers."""
    first = rendered.slack.strip().split("\n", 1)[0]
    return first.strip("*") or "zhoubao"
