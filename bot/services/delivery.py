"""When a platform refuses a call: tell the person what did not happen, and the report's editors why.

Every platform goes through here, so a refused `/zhoubao publish` reads the same on Slack and Feishu.
The editors hear about one kind of failure (call and reason) at most once an hour, not once per person
prompted; failures that a DM would hit too (the bot's own credentials) are only logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.services.chat import ChatError, Reply
from bot.services.context import Context
from bot.text.catalogue import say

log = logging.getLogger("zhoubao.delivery")

TELL_EVERY = 3600.0  # seconds between two messages to the editors about the same kind of failure
_UNREACHABLE = frozenset({"invalid_auth", "account_inactive", "not_authed", "token_revoked"})


def message_editors(ctx: Context, text: str, *, about: str) -> None:
    """DM `text` to every editor of the team; one who cannot be reached is logged (`about` names the message)
    and the others are still told."""
    for eid in ctx.team.editors:
        try:
            ctx.chat.send_text(ctx.team.person_by_id[eid], text)
        except ChatError as exc:
            log.error("%s not delivered to an editor", about, extra={"person": eid, "reason": exc.reason})


class DeliveryFailures:
    def __init__(self, ctx: Context, *, every: float = TELL_EVERY,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.every = every
        self.monotonic = monotonic
        self._told: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._telling = threading.local()

    def refused(self, exc: ChatError) -> Reply:
        """Tell the editors (see `tell_editors`); returns what to tell the person whose request failed."""
        self.tell_editors(exc)
        return Reply(say(self.ctx.locale, "delivery.person", reason=exc.reason), ok=False)

    def tell_editors(self, exc: ChatError) -> bool:
        """DM each editor what the platform refused; True if they were told now (False: told recently,
        the bot cannot reach anyone, or this is a failure of telling them)."""
        if getattr(self._telling, "on", False) or exc.reason in _UNREACHABLE:
            return False
        now = self.monotonic()
        with self._lock:
            if now - self._told.get((exc.method, exc.reason), -self.every) < self.every:
                return False
            self._told[(exc.method, exc.reason)] = now
        loc = self.ctx.locale
        where = say(loc, "delivery.where", where=exc.where) if exc.where else ""
        text = say(loc, "delivery.editors", platform=self.ctx.chat.platform.capitalize(), method=exc.method or "?",
                   reason=exc.reason, where=where)
        if exc.reason == "not_in_channel":
            text += say(loc, "delivery.not_in_channel")
        self._telling.on = True
        try:
            message_editors(self.ctx, text, about="failure notice")
        finally:
            self._telling.on = False
        return True

    def report_reposted(self, week: str) -> None:
        """The posted report was deleted in the channel and has been posted again: every editor hears it."""
        message_editors(self.ctx, say(self.ctx.locale, "delivery.reposted", week=week), about="reposted-report notice")
