"""Slack's limits kept on our side: the Web API rate limits (so a big team is prompted at the allowed pace,
with a retry handler that honours `Retry-After` exactly, including the fractional values a test stand-in
sends), and the sizes a message may have (`split`: what must be said, as messages Slack takes whole)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from bot.text import splitting
from bot.text.catalogue import say

# Calls per minute (https://api.slack.com/apis/rate-limits); chat.postMessage is ~1 per second per
# channel, which `Pacer` keys by channel.
TIER_PER_MINUTE: dict[str, float] = {
    "conversations.open": 50,  # Tier 3
    "users.lookupByEmail": 50,  # Tier 3
    "users.info": 100,  # Tier 4
    "conversations.info": 50,  # Tier 3 (https://docs.slack.dev/reference/methods/conversations.info)
    "views.open": 100,  # Tier 4
    "chat.update": 50,  # Tier 3
    "conversations.replies": 50,  # Tier 3 (https://docs.slack.dev/reference/methods/conversations.replies)
    "chat.postMessage": 60,  # per channel
}
PER_CHANNEL = frozenset({"chat.postMessage"})


class Pacer:
    """Blocks each call until the method's (or the channel's) rate allows it; `scale` speeds limits up
    for tests and benches (scale=100: a 50/min tier allows 5,000/min)."""

    def __init__(self, per_minute: Mapping[str, float] | None = None, scale: float = 1.0) -> None:
        # 5% under the limit, so network jitter does not turn an allowed pace into 429s.
        self.interval = {m: 63.0 / (n * scale) for m, n in (per_minute or TIER_PER_MINUTE).items()}
        self._next: dict[str, float] = {}
        self._keys: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def wait(self, method: str, channel: str | None = None) -> None:
        """Return when a call of `method` (to `channel`) may go. Callers of one bucket are let through one
        at a time, each `interval` after the one before actually went: with prompts sent from several
        threads, a thread that woke late cannot bunch up with the next ones into a burst Slack refuses."""
        gap = self.interval.get(method)
        if gap is None:
            return
        key = f"{method}:{channel}" if method in PER_CHANNEL else method
        with self._lock:
            bucket = self._keys.setdefault(key, threading.Lock())
        with bucket:
            wait = self._next.get(key, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._next[key] = time.monotonic() + gap


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """Like slack_sdk's handler, but sleeps exactly `Retry-After` seconds (plus a little jitter)."""

    def prepare_for_next_attempt(self, *, state: Any, request: Any, response: Any = None,
                                 error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        value = header[0] if isinstance(header, list) else header
        try:
            duration = float(value) if value is not None else 1.0
        except ValueError:
            duration = 1.0
        time.sleep(duration + random.random() * min(0.1, duration / 10))
        state.increment_current_attempt()


# ----- sizes ---------------------------------------------------------------------------------------------
# Per docs/platform-limits.md (Slack section), where each is cited.
Block = dict[str, Any]  # one Block Kit block as sent (slack_sdk.models' to_dict())
MAX_BLOCKS = 50  # blocks in one message ("up to 50 blocks in each message", https://api.slack.com/reference/block-kit/blocks)
MAX_SECTION = 3000  # characters in one section's text (https://api.slack.com/reference/block-kit/blocks#section)
# Slack refuses a message whose blocks hold more than ~12,000 characters of text in all
# (`msg_blocks_too_long`, undocumented: slackapi/bolt-js #2509, #2867, where 11,341 by this very measure
# was still refused), so a message is closed well below that.
MESSAGE_TEXT = 10_000
# A message's `text`: "Slack will truncate messages containing more than 40,000 characters"
# (https://api.slack.com/methods/chat.postMessage#truncating), so a longer text is split, never sent.
MAX_TEXT = 40_000
_MARKER_ROOM = 40  # characters kept free in a message for its "(1/3)" marker


@dataclass(frozen=True)
class Message:
    """One Slack message as sent: its `text` (escaped mrkdwn; the notification and screen-reader text when
    there are blocks) and its blocks (may be empty)."""

    text: str
    blocks: tuple[Block, ...] = ()


def _cut(line: str, limit: int) -> list[str]:
    """A line longer than `limit` in pieces, never splitting an `&amp;`-style entity."""
    pieces = []
    while len(line) > limit:
        at = limit
        amp = line.rfind("&", limit - 5, limit)
        if amp != -1 and ";" not in line[amp:limit]:
            at = amp
        pieces.append(line[:at])
        line = line[at:]
    return [*pieces, line]


def sections(text: str, limit: int = MAX_SECTION) -> list[str]:
    """`text` (already escaped, so `&amp;` counts as Slack counts it) split into pieces of at most `limit`
    characters, at paragraph breaks where they fit, else at line breaks; only a single line longer than
    `limit` is cut inside itself."""
    return splitting.pieces(text, limit, cut=_cut)


def section(mrkdwn: str) -> Block:
    """A section block holding `mrkdwn` (at most MAX_SECTION characters)."""
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn)).to_dict()


def block_text(tree: Any) -> int:
    """Characters of text in a block tree, counted as Slack's `msg_blocks_too_long` appears to count them:
    every `text` string at any depth (section text, button labels, context elements …)."""
    if isinstance(tree, Mapping):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_text(v) for k, v in tree.items())
    if isinstance(tree, (list, tuple)):
        return sum(block_text(v) for v in tree)
    return 0


def messages(block_list: Sequence[Block], max_blocks: int = MAX_BLOCKS,
             max_text: int = MESSAGE_TEXT) -> list[list[Block]]:
    """Blocks packed in order into messages of at most `max_blocks` blocks and `max_text` characters of
    block text each (a block larger than `max_text` on its own still gets a message to itself)."""
    out: list[list[Block]] = [[]]
    used = 0
    for block in block_list:
        size = block_text(block)
        if out[-1] and (len(out[-1]) >= max_blocks or used + size > max_text):
            out.append([])
            used = 0
        out[-1].append(block)
        used += size
    return out


def fallback_text(block_list: Sequence[Block]) -> str:
    """A message's `text` (notifications, screen readers): its sections' text, already escaped."""
    return "\n\n".join(str((b.get("text") or {}).get("text", "")) for b in block_list
                        if b.get("type") == "section")


def split(text: str, block_list: Sequence[Block] | None, locale: str, *,
          max_messages: int | None = None) -> list[Message]:
    """What must be said as Slack messages, each within Slack's limits, nothing cut unsaid.

    `text` is escaped mrkdwn. Without blocks it is sent as text: one message up to MAX_TEXT characters,
    else pieces split on line boundaries. With blocks they are packed in order into messages of at most
    MAX_BLOCKS blocks and MESSAGE_TEXT characters of block text, each with its own sections as `text`.
    More than one message: each says "(n/total)". With `max_messages` (a response_url takes five answers),
    the last one sent also says how many more were left out."""
    if block_list:
        packed = messages(block_list, MAX_BLOCKS - 1, MESSAGE_TEXT - _MARKER_ROOM)
        if len(packed) == 1:
            whole = text if 0 < len(text) <= MAX_TEXT else fallback_text(packed[0])[:MAX_TEXT] or " "
            return [Message(whole, tuple(packed[0]))]
        parts = [Message(fallback_text(p)[:MAX_TEXT] or " ", tuple(p)) for p in packed]
    else:
        pieces = sections(text, MAX_TEXT - _MARKER_ROOM) or [text]
        if len(pieces) == 1:
            return [Message(pieces[0])]
        parts = [Message(p) for p in pieces]
    total = len(parts)
    kept = parts if max_messages is None else parts[:max_messages]
    out = []
    for n, part in enumerate(kept, 1):
        left = total - n if n == len(kept) and n < total else 0
        note = say(locale, "slack.part", n=n, total=total) + \
            (say(locale, "slack.left_out", count=left) if left else "")
        if part.blocks:
            mark = ContextBlock(elements=[PlainTextObject(text=note)]).to_dict()
            out.append(Message(part.text, (*part.blocks, mark)))
        else:
            out.append(Message(f"{part.text}\n{note}"))
    return out


def lines_within(lines: Sequence[str], limit: int, more: Callable[[int], str],
                 measure: Callable[[str], int] = len) -> list[str]:
    """The first of `lines` that fit in `limit` characters joined by newlines (as `measure` counts them:
    escaping counts), then `more(M)` naming the M lines left out; never a line cut in the middle."""
    total = sum(measure(line) + 1 for line in lines) - 1
    if total <= limit:
        return list(lines)
    kept: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        tail = measure(more(len(lines) - n)) + 1
        if used + measure(line) + 1 + tail > limit:
            break
        kept.append(line)
        used += measure(line) + 1
    return [*kept, more(len(lines) - len(kept))]
