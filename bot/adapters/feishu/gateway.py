"""`FeishuGateway`: the core's `ChatPort` on Feishu's im/v1 message API.

Every send carries a `uuid` derived from the core's idempotency key, so a send retried after a timeout
or a crash is delivered once. Reports go out as interactive cards (split under 30 KB, one message each)
and are patched in place when published again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from bot.adapters.feishu import cards
from bot.adapters.feishu.api import FeishuApiError, OpenApi
from bot.adapters.feishu.people import People
from bot.adapters.feishu.sdk import HttpMethod
from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person
from bot.services.chat import POST_GONE, ChatError, MessageRef, RenderedReport
from bot.services.outbox import Outbox

PLATFORM = "feishu"
MESSAGES = "/open-apis/im/v1/messages"
# PATCH on a card that was recalled (withdrawn by a person, or by a group admin): "230011 The message is
# recalled" (https://open.feishu.cn/document/server-docs/im-v1/message-card/patch, error codes). The
# report is then posted again.
GONE = frozenset({230011})


def message_uuid(key: str) -> str:
    """Feishu's `uuid` (at most 50 characters) for an idempotency key of any length."""
    return "zb-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def _part_key(key: str, part: int) -> str:
    """The idempotency key of one message of several that answer once: Feishu delivers at most one message
    per `uuid` within an hour ("持有相同 uuid 的请求，在 1 小时内至多成功回复一条消息", 回复消息
    https://open.feishu.cn/document/server-docs/im-v1/message/reply; the same for 发送消息
    https://open.feishu.cn/document/server-docs/im-v1/message/create), so each part has its own, and a
    retried part still has the one it had."""
    return key if part == 0 else f"{key}:{part}"


def _report_card_key(first: MessageRef, week: str, part: int) -> str:
    """The idempotency key of the report's card `part` (after the first): the post it belongs to (its first
    card, in its chat: the team's post of that week; a post made again after a recall has another first card)
    and its place in it, never its text. So the same card posted again, whatever it says by then, is the
    same `uuid`: a post retried after an unknown outcome (a lost answer, a 5xx after the send, a later card
    refused or the process stopped before the core recorded it) is deduplicated by Feishu ("持有相同 uuid 的
    请求，在 1 小时内至多成功发送一条消息", 发送消息, request body `uuid`:
    https://open.feishu.cn/document/server-docs/im-v1/message/create, also quoted in the open-lark crate's
    `CreateMessageRequestBody`, https://docs.rs/open-lark/latest/open_lark/service/im/v1/message/builders/struct.CreateMessageRequestBody.html)
    instead of posting a second card. Cards of a first post and cards a late edit adds share the scheme."""
    return f"report-card:{week}:{first.channel}:{first.message_id}:{part}"


class FeishuGateway:
    """Sends what the core asks for; knows nothing of weeks or items beyond the `Prompt` it is given."""

    platform = PLATFORM
    parallel_sends = 8  # prompts in flight at once; the API's pacing (api.py, locked) keeps the rate

    def __init__(self, api: OpenApi, people: People, *, outbox: Outbox | None = None,
                 dashboard: str | None = None) -> None:
        self.api, self.people = api, people
        self.dashboard = dashboard  # the dashboard's public address, linked where a card lists only part
        self.outbox = outbox  # answers to people leave from here, so processing never waits on pacing

    def _answer(self, key: str, send: Callable[[], object], what: str) -> None:
        """Send an answer now, or queue it on the outbox (one ordered line per chat)."""
        if self.outbox is None:
            send()
        else:
            self.outbox.send(key, send, what)

    # ----- the ChatPort -------------------------------------------------------

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        """The prompt in as many cards as Feishu's limits need; the first one stands for it."""
        refs = [self.send_card(person, card, key=_part_key(key, n))
                for n, card in enumerate(cards.prompt_cards(prompt, self.dashboard))]
        return refs[0]

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        return self._texts("open_id", self._open_id(person), text, key)

    def post_text(self, channel: str, text: str) -> MessageRef:
        return self._texts("chat_id", channel, text, None)

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        """The report's cards, one message each (`cards.report_cards` packs each within Feishu's limits, and
        the core records one message per card): the first under the core's `key`, the others under the
        first's (`_report_card_key`)."""
        new = self._report_cards(rendered)
        first = self._create("chat_id", channel, "interactive", cards.card_content(new[0]), f"{key}:0")
        return [first] + [self._create("chat_id", channel, "interactive", cards.card_content(card),
                                       _report_card_key(first, report.week, n))
                          for n, card in enumerate(new[1:], start=1)]

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        """Patch each posted card; post more if the report grew (each once: `_add_card`), blank the extras if
        it shrank (they stay recorded, so a report that grows again patches them). With `previous` (what the
        post shows now), a card that would not change is not patched."""
        new = self._report_cards(rendered)
        title = str(new[0]["header"]["title"]["content"])
        blank = cards.continued_card(title, report.locale)
        shown = None if previous is None else self._report_cards(previous)
        if shown is not None and str(shown[0]["header"]["title"]["content"]) != title:
            shown = None  # the extras' blank names the title: every card is patched
        refs: list[MessageRef] = []
        for n, card in enumerate(new):
            if n < len(posted) and shown is not None and n < len(shown) and shown[n] == card:
                refs.append(posted[n])
            elif n < len(posted):
                try:
                    self.patch_card(posted[n].message_id, card)
                except FeishuApiError as exc:
                    if n == 0 and exc.code in GONE:
                        raise ChatError(POST_GONE, posted[0].message_id) from None
                    raise
                refs.append(posted[n])
            else:
                refs.append(self._add_card(posted[0], report.week, n, card))
        for n, ref in enumerate(posted[len(new):], start=len(new)):
            if shown is None or n < len(shown):  # not blanked already
                self.patch_card(ref.message_id, blank)
            refs.append(ref)
        return refs

    # ----- more than the port ---------------------------------------------------

    def send_card(self, person: Person, card: cards.Card, *, key: str | None) -> MessageRef:
        return self._create("open_id", self._open_id(person), "interactive", cards.card_content(card), key)

    def send_card_to(self, open_id: str, card: cards.Card, *, key: str | None = None) -> MessageRef:
        return self._create("open_id", open_id, "interactive", cards.card_content(card), key)

    def send_text_to(self, open_id: str, text: str) -> MessageRef:
        """A text to someone who may not be a team member (the bot menu, used by anyone in the tenant)."""
        return self._texts("open_id", open_id, text, None)

    def reply_text(self, message_id: str, text: str, *, chat: str | None = None, once_per: str | None = None) -> None:
        """Answer a person's message in its thread (in several messages when Feishu's 150 KB needs it); the
        uuids make a redelivered event answer once (per `once_per`, when one message is answered more than
        once: an edit is answered once per edit)."""
        for n, part in enumerate(cards.texts(text, self.people.team.team.locale)):
            body = {"msg_type": "text", "content": cards.text_content(part),
                    "uuid": message_uuid(_part_key(f"reply:{once_per or message_id}", n))}
            self._answer(chat or message_id, partial(
                self._call, "im.message.reply", chat or message_id, HttpMethod.POST, MESSAGES + "/:message_id/reply",
                body, paths={"message_id": message_id}, chat=chat or message_id), "reply")

    def reply_card(self, message_id: str, card: cards.Card, *, chat: str | None = None, part: int = 0) -> None:
        """A card answering a person's message; `part` numbers the cards of one answer, each its own uuid."""
        body = {"msg_type": "interactive", "content": cards.card_content(card),
                "uuid": message_uuid(_part_key(f"reply-card:{message_id}", part))}
        self._answer(chat or message_id, lambda: self._call(
            "im.message.reply", chat or message_id, HttpMethod.POST, MESSAGES + "/:message_id/reply", body,
            paths={"message_id": message_id}, chat=chat or message_id), "reply card")

    def reply_prompt(self, message_id: str, prompt: Prompt, *, chat: str | None = None) -> None:
        """A prompt's form (`/zhoubao answer` typed as text) as replies, every card of it delivered."""
        for n, card in enumerate(cards.prompt_cards(prompt, self.dashboard)):
            self.reply_card(message_id, card, chat=chat, part=n)

    def patch_card(self, message_id: str, card: cards.Card) -> None:
        self._call("im.message.patch", message_id, HttpMethod.PATCH, MESSAGES + "/:message_id",
                   {"content": cards.card_content(card)}, paths={"message_id": message_id}, chat=message_id)

    # ----- internals ------------------------------------------------------------

    def _add_card(self, first: MessageRef, week: str, part: int, card: cards.Card) -> MessageRef:
        """Card `part` of the post whose first card is `first`, added by a report that grew: posted under a
        key without its text (`_report_card_key`), so if an earlier edit posted it and was not recorded (its
        answer lost, a later card refused, the process stopped), Feishu answers with that card and none is
        added. That card shows the earlier edit's text, so it is patched to this one (Feishu does not say
        whether it deduplicated; a report grows by a card seldom, and one PATCH is the price)."""
        ref = self._create("chat_id", first.channel, "interactive", cards.card_content(card),
                           _report_card_key(first, week, part))
        self.patch_card(ref.message_id, card)
        return ref

    def _report_cards(self, rendered: RenderedReport) -> list[cards.Card]:
        return cards.report_cards(json.loads(rendered.feishu))

    def display_name(self, user: str) -> str | None:
        """The name Feishu's contact directory gives an open_id (see `People.name`)."""
        person = self.people.team.person_by_id.get(user)
        return person.name if person is not None else self.people.name(user)

    def _open_id(self, person: Person) -> str:
        open_id = self.people.open_id(person)
        if open_id is None:
            raise ChatError("user_not_found", f"no Feishu open_id or known email for {person.id}")
        return open_id

    def _texts(self, id_type: str, receive_id: str, text: str, key: str | None) -> MessageRef:
        """`text` in as many text messages as Feishu's 150 KB needs; the first one stands for it."""
        refs = [self._create(id_type, receive_id, "text", cards.text_content(part),
                             None if key is None else _part_key(key, n))
                for n, part in enumerate(cards.texts(text, self.people.team.team.locale))]
        return refs[0]

    def _create(self, id_type: str, receive_id: str, msg_type: str, content: str, key: str | None) -> MessageRef:
        body: dict[str, Any] = {"receive_id": receive_id, "msg_type": msg_type, "content": content}
        if key is not None:
            body["uuid"] = message_uuid(key)
        data = self._call("im.message.create", receive_id, HttpMethod.POST, MESSAGES, body,
                          query={"receive_id_type": id_type}, chat=receive_id)
        # A DM's channel is the p2p chat id Feishu answers with; the open_id if it does not say.
        return MessageRef(PLATFORM, str(data.get("chat_id") or receive_id), str(data["message_id"]))

    def _call(self, method: str, where: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """One Open API call; a refusal is raised as ChatError naming the call (Feishu's method name,
        e.g. im.message.create) and its chat, so the core can tell the editors what failed where."""
        try:
            return self._data(self.api.call(*args, **kwargs))
        except ChatError as exc:
            raise exc.at(method, where) from None

    @staticmethod
    def _data(body: dict[str, Any]) -> dict[str, Any]:
        data = body.get("data")
        return data if isinstance(data, dict) else {}
