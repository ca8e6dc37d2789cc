"""The Feishu side of `bench/week.py` (`--platform feishu`): what people send, as Feishu sends it, and the
Open API stand-in with Feishu's limits × scale.

Requests are v2 events as Feishu delivers them to an HTTP callback, sealed (AES-256-CBC with the encrypt
key) and signed (sha256 of timestamp + nonce + encrypt key + body) the way `tests/feishu/payloads.py`
builds them after lark-oapi's `AESCipher`; the timestamp is the bot's clock in the request's phase (the
bench sets that clock; the callback refuses a request more than 5 minutes off it). An answer is
im.message.receive_v1, an edit im.message.updated_v1, a deletion im.message.recalled_v1, an `/incident` a
text message; a platform retry is the same event delivered again (same event_id: Feishu redelivers an event
it got no 200 for, https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case).

The stand-in (`tests/feishu/openapi.py`, in its own process) refuses past 50 messages a second per app,
1,000 a minute per app (429 + x-ogw-ratelimit-reset, 99991400) and 5 a second to one chat (230020), each
× scale (发送消息 / 回复消息 "1000 次/分钟、50 次/秒", https://open.feishu.cn/document/server-docs/im-v1/message/create;
"对同一用户发送消息的限频为 5 QPS"), cards over 30 KB and texts over 150 KB (230025), and delivers one
message per `uuid` per hour.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.week import CLOCK, Msg, Shapes, Side
from bench.week_proc import FEISHU_APP, FEISHU_KEY, FEISHU_TOKEN, open_id
from tests.feishu import payloads

REPORT_CHAT = "weekly-report"  # the team's report_channel, a group the bot is in
SENDS = ("im.message.create", "im.message.reply")  # what Feishu's send limits count


@dataclass
class FeishuShapes:
    """Feishu's v2 events for what people do, sealed and signed for the phase they are sent in."""

    sent_at: dict[str, datetime] = field(default_factory=dict)  # message_id -> when it was sent

    def message_id(self, person: int, at: datetime, seq: int) -> str:
        self.sent_at[f"om_u{seq:07d}"] = at
        return f"om_u{seq:07d}"

    def source(self, m: Msg) -> str:
        return m.ts

    def _request(self, payload: dict[str, Any], phase: str, event_id: str) -> dict[str, Any]:
        payload["header"].update(event_id=event_id, token=FEISHU_TOKEN, app_id=FEISHU_APP)
        body = payloads.seal(payload, FEISHU_KEY)
        headers = payloads.sign(body, str(int(CLOCK[phase].timestamp())), uuid.uuid4().hex, FEISHU_KEY)
        return {"body": body.decode("utf-8"), "ctype": "application/json", "headers": headers}

    def message(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        return self._request(payloads.message(open_id(m.person), m.text, at, message_id=m.ts), phase,
                             f"ev_m{seq:07d}")

    def edit(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        return self._request(payloads.updated(open_id(m.person), m.ts, m.text, self.sent_at[m.ts], at), phase,
                             f"ev_e{seq:07d}")

    def delete(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        return self._request(payloads.recalled(m.ts, f"oc_p2p_{open_id(m.person)}", at), phase, f"ev_r{seq:07d}")

    def incident(self, person: int, text: str, tag: str, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        return self._request(payloads.message(open_id(person), f"/incident {text}", at, message_id=f"om_{tag}"),
                             phase, f"ev_{tag}")


class FeishuSide(Side):
    """The Open API stand-in with Feishu's send limits × scale."""

    name, path = "feishu", "/feishu/events"

    def __init__(self, scale: float) -> None:
        from bot.adapters.feishu.api import Limits

        self.limits = Limits().scaled(scale)
        super().__init__("tests.feishu.openapi", {
            "per_app": self.limits.per_app, "per_chat": self.limits.per_chat, "per_minute": self.limits.per_minute,
            "chats": [REPORT_CHAT]})

    def shapes(self) -> Shapes:
        return FeishuShapes()

    def floor(self, before: dict[str, Any], after: dict[str, Any],
              needed: Any = lambda m, n: n) -> tuple[float, str]:
        """Sends (create and reply) delivered between the two `_stats`: per app, a second's window of
        `per_app` and a minute's of `per_minute`; per chat, a second's of `per_chat` (the stand-in counts
        sliding windows: n sends need at least ceil(n / limit) - 1 windows after the first). PATCH of a card
        is not counted: the stand-in, like Feishu's send limits, does not."""
        sent = sum(needed(m, after["calls"].get(m, 0) - before["calls"].get(m, 0)) for m in SENDS)
        delivered = sum(after["sent_in"].values()) - sum(before["sent_in"].values())
        n = min(sent, delivered)
        best, why = 0.0, ""
        for t, what in ((math.ceil(n / self.limits.per_app) - 1.0, f"{n} sends at {self.limits.per_app:g}/s"),
                        ((math.ceil(n / self.limits.per_minute) - 1.0) * 60.0,
                         f"{n} sends at {self.limits.per_minute:g}/min")):
            if t > best:
                best, why = t, what
        for chat, total in after["sent_in"].items():
            k = total - before["sent_in"].get(chat, 0)
            t = math.ceil(k / self.limits.per_chat) - 1.0
            if t > best:
                best, why = t, f"{k} sends in {chat} at {self.limits.per_chat:g}/s"
        return best, why

    def least_calls(self, method: str, made: int, arrival: float, parts: int) -> int:
        # Every send the bot makes on Feishu is one the product needs: a prompt card per owner (as many as
        # the limits need), a reply per answer, the report's cards (PATCH is not counted, see `floor`).
        return made

    def prompts_sent(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
        return {to: n - before["sent_to"].get(to, 0) for to, n in after["sent_to"].items()
                if n - before["sent_to"].get(to, 0)}

    def prompted(self, owner: str, sent: dict[str, int]) -> int:
        return sent.get(open_id(int(owner[1:])), 0)

    def receivers(self, owners: list[str]) -> set[str]:
        return {open_id(int(pid[1:])) for pid in owners}

    def report(self, compiled: str) -> tuple[int, bool]:
        from bot.adapters.feishu import cards

        want = [json.loads(cards.card_content(c)) for c in cards.report_cards(json.loads(compiled))]
        shown = [m["content"] for m in self.get(f"/_sent?to={REPORT_CHAT}&msg_type=interactive")
                 if m["reply_to"] is None]
        first = want[0]["header"]["title"]["content"]
        posts = sum(1 for c in shown if c["header"]["title"]["content"] == first)
        return posts, shown == want
