"""Understanding an owner's free-text reply: cleaning it, reading numbers out of it, routing it to items.

Pure: no storage, no platform. Owners' text is data, so nothing here interprets markup;
the one promise every function keeps is that no line the owner wrote is dropped.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

from bot.domain.team import Item, ItemKind

MAX_REPLY_CHARS = 20_000  # characters of one reply or form field the report takes; longer is kept, not used

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def normalize_text(raw: str) -> str:
    """The reply as stored: unified newlines, no control characters, tabs as 4 spaces,
    no trailing whitespace or outer blank lines; indentation kept (dedented only when shared)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    # Control characters break databases (PostgreSQL rejects NUL) and renderers, and carry no meaning.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [line.replace("\t", "    ").rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return textwrap.dedent("\n".join(lines))


def is_too_long(text: str) -> bool:
    """Whether the text exceeds what the service accepts in one reply (the parser never truncates)."""
    return len(text) > MAX_REPLY_CHARS


# ----- facts inside one entry ------------------------------------------------------------


@dataclass(frozen=True)
class ParsedEntry:
    text: str  # normalized content, nothing lost
    progress: Decimal | None
    main_problem: str | None


_NUMBER = r"[0-9０-９]+(?:\.[0-9０-９]+)?"
_PERCENT = re.compile(rf"(?<![0-9０-９.])({_NUMBER})[ \t]*[%％]")
# A percentage is progress only when a progress word goes with it, before it in the same clause
# (整体进度达到了90%, 完成 85%, progress: 60%) or right after it (60% done); a growth figure
# (交易量环比增长15%) or a share (覆盖 30% 商户) is not. Clause punctuation ends the reach.
_PROGRESS_WORDS = r"进度|完成度|完成率|完成|达到|达成|progress|done|complete(?:d)?"
_CLAUSE_GAP = r"[^0-9０-９\n，,。；;！!？?、]{0,8}?"
_LABELLED_PROGRESS = re.compile(
    rf"(?:(?:{_PROGRESS_WORDS}){_CLAUSE_GAP}(?<![0-9０-９.])({_NUMBER})[ \t]*[%％]"
    rf"|(?<![0-9０-９.])({_NUMBER})[ \t]*[%％][ \t]*(?:已)?(?:{_PROGRESS_WORDS}))", re.IGNORECASE)
_ONLY_PERCENT = re.compile(rf"[ \t]*({_NUMBER})[ \t]*[%％][ \t]*")
_MAIN_PROBLEM = re.compile(r"(?:主要问题|风险|\b(?i:main problem|risk))[ \t]*[：:](.*)")


def _decimal(number: str) -> Decimal:
    return Decimal(number.translate(_FULLWIDTH_DIGITS))


def _percent(value: Decimal) -> Decimal | None:
    return value if 0 <= value <= 100 else None


def percentages(text: str) -> tuple[str, ...]:
    """Every percentage written in `text`, as written without spaces (`15%`), in order."""
    return tuple(f"{n.translate(_FULLWIDTH_DIGITS)}%" for n in _PERCENT.findall(text))


def parse_entry(raw: str) -> ParsedEntry:
    """The normalized text plus the progress percentage and main problem it states, if any.

    Progress is a percentage a progress word goes with (the last such one), or the whole answer
    when it is nothing but a percentage; any other percentage stays text.
    """
    text = normalize_text(raw)
    progress: Decimal | None = None
    labelled = [a or b for a, b in _LABELLED_PROGRESS.findall(text)]
    if labelled:
        progress = _percent(_decimal(labelled[-1]))
    elif (only := _ONLY_PERCENT.fullmatch(text)) is not None:
        progress = _percent(_decimal(only.group(1)))
    main_problem = None
    for m in _MAIN_PROBLEM.finditer(text):
        if m.group(1).strip():
            main_problem = m.group(1).strip()
            break
    return ParsedEntry(text=text, progress=progress, main_problem=main_problem)


# A number not glued to a preceding letter or digit, so `P99延迟` contributes no 99.
_METRIC_NUMBER = re.compile(r"(?<![A-Za-z0-9０-９._])-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9０-９]+)(?:\.[0-9０-９]+)?")


def parse_metric_value(raw: str, unit: str) -> tuple[str, Decimal] | None:
    """(the number as written, its value) when the reply states exactly one number, else None.

    The unit is removed first so a unit like `TP99` cannot contribute a number.
    """
    text = normalize_text(raw)
    if unit.strip():
        text = text.replace(unit.strip(), " ")
    found: dict[Decimal, str] = {}
    for m in _METRIC_NUMBER.finditer(text):
        written = m.group(0).translate(_FULLWIDTH_DIGITS)
        try:
            value = Decimal(written.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
            continue
        found.setdefault(value, written)
    if len(found) != 1:
        return None
    value, written = next(iter(found.items()))
    return written, value


# Most advanced first: a note mentioning both 方案 and 开发 means design is done.
_STAGES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("上线", re.compile(r"上线|投产|\b(?:live|launched|in production)\b", re.IGNORECASE)),
    ("联调", re.compile(r"联调|测试|\b(?:integration|testing)\b", re.IGNORECASE)),
    ("开发", re.compile(r"开发|\bdevelop(?:ing|ment)?\b", re.IGNORECASE)),
    ("方案", re.compile(r"方案|评审|\b(?:design|review)\b", re.IGNORECASE)),
    ("意向", re.compile(r"意向|对接|洽谈|\b(?:intent|contact(?:ed)?|negotiat\w*)\b", re.IGNORECASE)),
)


def bank_stage(note: str) -> str | None:
    """The coarse integration stage a bank note states (上线/联调/开发/方案/意向), or None."""
    for stage, pattern in _STAGES:
        if pattern.search(note):
            return stage
    return None


# ----- routing a message to items -----------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    item_key: str
    text: str  # normalized; for a bank or metric the text after `名：`


@dataclass(frozen=True)
class Routing:
    pieces: tuple[Piece, ...]  # message order; pieces sharing an item_key are joined with "\n"
    unknown_banks: tuple[str, ...] = ()  # looked like banks but are not configured
    not_owned: tuple[str, ...] = ()  # item names that belong to someone else
    unassigned: str = ""  # text that could not be placed


# `名：rest` on a top-level line, after an optional bullet (`-`, `*`, `•`) or number (`1.`, `2、`).
_NAMED = re.compile(r"(?:[-*•][ \t]*|[0-9]{1,2}[.、)][ \t]*)?([^：:]{1,64}?)[ \t]*[：:][ \t]*(.*)")
_BANKISH_CAPS = re.compile(r"[A-Z]{2,6}")
# Words ending in 行 that are not banks, so 执行：… inside a bank part is not flagged.
_NOT_BANKS = frozenset({"执行", "运行", "进行", "试行", "发行", "并行", "可行", "现行", "例行", "先行", "流行", "银行"})


def _split_named(line: str) -> tuple[str, str] | None:
    if not line or line[0].isspace():
        return None
    m = _NAMED.fullmatch(line)
    return (m.group(1).strip(), m.group(2)) if m and m.group(1).strip() else None


def _names_item(name: str, item: Item) -> bool:
    wanted = name.casefold()
    return any(wanted == n.strip().casefold() for n in (item.name, *item.aliases))


# Short names Chinese banks go by that do not end in 行 (浦发：…, 中信：…), so an owner writing one
# under a bank part is told it is not in the team file. Names ending in 行 are caught by the rule below.
_BANK_SHORT_NAMES = frozenset({
    "工商", "浦发", "中信", "光大", "华夏", "民生", "广发", "兴业", "平安", "邮储", "浙商", "渤海", "恒丰",
    "网商", "微众", "北银", "上银", "宁银", "江苏", "南京", "杭州", "徽商", "农信", "农商", "城商", "花旗",
    "汇丰", "渣打", "东亚", "星展",
})


# An English bank name under a bank part (Barclays：…, Standard Chartered：…, HSBC：…): one to four capitalised
# words. These are what owners write before a colon in a status line instead, so they are never taken for banks.
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z0-9&.'-]*(?: (?:of|and|the|[A-Z][A-Za-z0-9&.'-]*)){0,3}")
_NOT_BANK_WORDS = frozenset(w.casefold() for w in (
    "Note", "Notes", "Status", "Progress", "Plan", "Plans", "Next", "Next week", "Next steps", "Issue", "Issues",
    "Risk", "Risks", "Blocker", "Blockers", "Blocked", "Update", "Updates", "Done", "Todo", "ETA", "Owner",
    "Problem", "Problems", "Main problem", "Summary", "Result", "Results", "Action", "Actions", "Cause", "Impact",
    "Goal", "Goals", "Timeline", "Deadline", "Link", "Links", "Doc", "Docs", "PR", "Ticket", "Reason", "Comment",
    "Comments", "Also", "Other", "Others", "FYI", "PS", "NB", "Stage", "Phase", "Testing", "Integration", "Live",
    "Launch", "Launched", "Go live", "Development", "UAT", "SIT", "QA", "API", "SDK", "Contact", "Contacts",
    "Meeting", "Today", "Tomorrow", "Yesterday", "This week", "Last week", "Bank", "Banks", "Others",
))


def _looks_like_bank(name: str) -> bool:
    if name.casefold() in _NOT_BANK_WORDS:
        return False
    if _BANKISH_CAPS.fullmatch(name) or _LATIN_NAME.fullmatch(name):
        return True
    if name in _BANK_SHORT_NAMES:
        return True
    return 1 <= len(name) <= 8 and name.endswith("行") and name not in _NOT_BANKS


@dataclass
class _Acc:
    """What a routing pass has gathered so far."""

    pieces: list[Piece] = field(default_factory=list)
    unknown_banks: list[str] = field(default_factory=list)
    not_owned: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)

    def add(self, key: str, lines: Sequence[str]) -> None:
        text = normalize_text("\n".join(lines))
        if text:
            self.pieces.append(Piece(key, text))

    def routing(self) -> Routing:
        return Routing(tuple(self.pieces), tuple(dict.fromkeys(self.unknown_banks)),
                       tuple(dict.fromkeys(self.not_owned)), normalize_text("\n".join(self.unassigned)))


class _Router:
    def __init__(self, mine: Sequence[Item], team_items: Sequence[Item]) -> None:
        self.mine = list(mine)
        self._team_items = team_items
        self.acc = _Acc()

    @cached_property
    def others(self) -> list[Item]:
        """The team's items that are not the sender's: only built when a name is looked up past the
        sender's own (a 3,000-item team built it for every message, issue 21)."""
        mine_keys = {it.key for it in self.mine}
        return [it for it in self._team_items if it.key not in mine_keys]

    def find(self, name: str) -> tuple[Item, bool] | None:
        """The item a name means, preferring the sender's own; (item, is_mine)."""
        for it in self.mine:
            if _names_item(name, it):
                return it, True
        for it in self.others:
            if _names_item(name, it):
                return it, False
        return None

    def banks_under(self, item: Item) -> list[Item]:
        if item.kind is not ItemKind.PART:
            return []
        return [it for it in self.mine if it.kind is ItemKind.BANK and it.parent == item.key]

    # -- one known item receives the text --

    def to_item(self, item: Item, lines: list[str]) -> None:
        head = _split_named(lines[0]) if lines else None
        if head and _names_item(head[0], item):
            # The owner repeated the item's own name (`建行：…` in 建行's thread).
            lines = ([head[1]] if head[1].strip() else []) + lines[1:]
        banks = self.banks_under(item)
        if banks:
            self.part_with_banks(item, banks, lines)
        else:
            self.acc.add(item.key, lines)

    def part_with_banks(self, part: Item, banks: list[Item], lines: list[str]) -> None:
        """Lines naming the part's banks go to those banks; every other line stays with the part."""
        segment: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            named = _split_named(line)
            bank = next((b for b in banks if named and _names_item(named[0], b)), None)
            if named is None or bank is None:
                if named and self.find(named[0]) is None and _looks_like_bank(named[0]):
                    self.acc.unknown_banks.append(named[0])
                segment.append(line)
                i += 1
                continue
            self.acc.add(part.key, segment)
            segment = []
            end = _bank_block_end(lines, i, named[1])
            self.acc.add(bank.key, ([named[1]] if named[1].strip() else []) + lines[i + 1:end])
            i = end
        self.acc.add(part.key, segment)

    # -- the text names its items --

    def blocks(self, lines: list[str]) -> None:
        """Split at top-level named lines; a part with banks keeps reading through its banks' lines."""
        i = 0
        while i < len(lines):
            named = _split_named(lines[i])
            found = self.find(named[0]) if named else None
            assert named is not None and found is not None
            item, is_mine = found
            body_start = i + 1
            parent = next((it for it in self.mine if it.key == item.parent), None) if is_mine else None
            if parent is not None:
                # A bank line outside its part's block still speaks inside that part: read it as the part.
                item, body_start = parent, i
            banks = self.banks_under(item) if is_mine else []
            end = i + 1
            while end < len(lines):
                nxt = _split_named(lines[end])
                hit = self.find(nxt[0]) if nxt else None
                if hit is not None and not (nxt and any(_names_item(nxt[0], b) for b in banks)):
                    break
                end += 1
            body = lines[i:end] if body_start == i else ([named[1]] if named[1].strip() else []) + lines[i + 1:end]
            if not is_mine:
                self.acc.not_owned.append(named[0])
                self.acc.unassigned.extend(lines[i:end])
            elif banks:
                self.part_with_banks(item, banks, body)
            else:
                self.acc.add(item.key, body)
            i = end


def _bank_block_end(lines: list[str], start: int, rest: str) -> int:
    """Where a bank line's text ends inside a part: its indented continuation lines, or when the
    bank line itself is empty (`建行：` then the note), up to the next blank or `名：` line."""
    end = start + 1
    if not rest.strip():
        while end < len(lines) and lines[end] and (lines[end][0].isspace() or _split_named(lines[end]) is None):
            end += 1
        return end
    last = end
    while end < len(lines) and (not lines[end] or lines[end][0].isspace()):
        end += 1
        if lines[end - 1]:
            last = end
    return last


def route_reply(raw: str, mine: Sequence[Item], *, target: Item | None = None,
                team_items: Sequence[Item] = ()) -> Routing:
    """Which of the sender's items each part of a reply is about.

    `mine` are the sender's items in report order, `team_items` every item of the team (to tell
    "someone else's item" from "not an item"), `target` the item the platform says the reply is for.
    Text that cannot be placed is returned in `unassigned`, never dropped.
    """
    text = normalize_text(raw)
    if not text:
        return Routing(())
    lines = text.split("\n")
    router = _Router(mine, team_items)
    if target is not None:
        router.to_item(target, lines)
        return router.acc.routing()

    named = [n for n in (_split_named(line) for line in lines) if n]
    head = _split_named(lines[0])
    first = router.find(head[0]) if head else None
    if first is not None and any(found[1] for n in named if (found := router.find(n[0]))):
        router.blocks(lines)
        return router.acc.routing()
    # A section note is optional: a plain reply goes to the one thing the sender must answer.
    required = [it for it in router.mine if it.kind is not ItemKind.NOTE]
    if len(required) == 1:
        router.to_item(required[0], lines)
        return router.acc.routing()
    parts = [it for it in required if it.kind is ItemKind.PART]
    if len(parts) == 1 and all(it is parts[0] or it in router.banks_under(parts[0]) for it in required):
        router.to_item(parts[0], lines)
        return router.acc.routing()
    not_owned = tuple(dict.fromkeys(n[0] for n in named if (found := router.find(n[0])) and not found[1]))
    return Routing((), not_owned=not_owned if first is not None else (), unassigned=text)


_ITEM_PREFIX = re.compile(r"^\s*[\[【](\d{1,3})[\]】]\s*")


def item_prefix(text: str) -> tuple[int | None, str]:
    """`[2] …` / `【2】…` → (2, "…"): the sender's explicit choice among their latest prompt's items.

    The core reads it (the inbox, for new messages and edits alike; `item_text` for forms); adapters pass
    what the person typed, prefix and all."""
    m = _ITEM_PREFIX.match(text)
    if not m:
        return None, text
    return int(m.group(1)), text[m.end():]


def item_text(raw: str, item: Item) -> str:
    """What a form field (already tied to `item`) stores: the text without a pasted `[n]` prefix and without
    the item's own name in front (`对公代付：…`), as a chat answer to that item would be stored."""
    _, body = item_prefix(raw)
    lines = normalize_text(body).split("\n")
    head = _split_named(lines[0])
    if head and _names_item(head[0], item):
        lines = ([head[1]] if head[1].strip() else []) + lines[1:]
    return normalize_text("\n".join(lines))
