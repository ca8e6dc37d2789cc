"""Whether a digest line may be shown: the deterministic check that keeps a model from inventing a fact.

A line must cite at least one source, every cited id must exist in the week's fact sheet, and every number
(percentages and decimals included), date (digits, English month names, Chinese numerals with a measure
word) and name (team members, banks) in its text must appear in the facts of the sources it cites. A line
that fails is dropped with the reason; if fewer than `min_lines` pass, there is no digest this week.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.domain.digest import Dropped, FactSheet, KeyLine

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?![a-z])", re.IGNORECASE)
# A Chinese numeral counting something ("两次", "三家", "十二月"): its value must be in the facts too.
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万]+(?=[个次项家条笔天周月年日号起名人位级期批成倍%％])")
# An id the model wrote into the text despite being told not to ("（P1.2）"): not a number of the week.
_INLINE_ID = re.compile(r"[\[(（]?\b(?:[A-Z]\d+(?:\.\w+)*|S\.\w+)\b[\])）]?")


# A key point is one short sentence; past this it is a paragraph the report's top is not for (and a Feishu
# card or Slack block would spend its room on it).
MAX_LINE_CHARS = 300


@dataclass(frozen=True)
class Checked:
    """The lines that passed (at most `max_lines`, in the model's order) and those dropped, with why."""

    kept: tuple[KeyLine, ...]
    dropped: tuple[Dropped, ...]
    enough: bool  # False: too few passed, the week has no digest


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral ("十二" 12, "两千三百" 2300, "三" 3); None when it is not one."""
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)


def numbers_in(text: str) -> set[Decimal]:
    """Every number written in `text` (digits, `1,000`, decimals; Chinese numerals with a measure word)."""
    text = _THOUSANDS.sub("", text)
    out: set[Decimal] = set()
    for m in _NUMBER.finditer(text):
        try:
            out.add(Decimal(m.group(0)).normalize())
        except InvalidOperation:  # pragma: no cover - the pattern only matches digits
            continue
    for m in _CN_NUMERAL.finditer(text):
        value = chinese_number(m.group(0))
        if value is not None:
            out.add(Decimal(value).normalize())
    return out


def months_in(text: str) -> set[int]:
    """The months an English date in `text` names (Jun, June → 6)."""
    return {_MONTHS.index(m.group(1).lower()) + 1 for m in _MONTH.finditer(text)}


def names_in(text: str, names: Sequence[str]) -> list[str]:
    """The names from `names` written in `text`, longest first (张伟明 is not also 张伟)."""
    found = []
    for name in sorted(names, key=len, reverse=True):
        if not name:
            continue
        pattern = re.escape(name)
        if name.isascii():  # a Latin name is a whole word, not a piece of another
            pattern = rf"(?<![\w-]){pattern}(?![\w-])"
        if re.search(pattern, text):
            found.append(name)
            text = re.sub(pattern, " ", text)
    return found


def line_problem(line: KeyLine, sheet: FactSheet) -> tuple[str, str] | None:
    """Why `line` may not be shown, as (reason, detail) from `DROP_REASONS`, or None when every number, date
    and name in it is in the facts of the sources it cites."""
    if not line.text.strip():
        return "empty", ""
    if len(line.text) > MAX_LINE_CHARS:
        return "too_long", str(MAX_LINE_CHARS)
    if not line.cites:
        return "no_cite", ""
    sources = sheet.by_id()
    unknown = [c for c in line.cites if c not in sources]
    if unknown:
        return "unknown_id", ", ".join(unknown)
    facts = "\n".join(sources[c].fact_text() for c in line.cites)
    text = _INLINE_ID.sub(" ", line.text)
    have = numbers_in(facts)
    missing = sorted(n for n in numbers_in(text) if n not in have)
    if missing:
        return "number", ", ".join(format(n, "f") for n in missing)
    months = months_in(facts) | {int(n) for n in have if n == n.to_integral_value() and 1 <= n <= 12}
    bad_months = sorted(m for m in months_in(text) if m not in months)
    if bad_months:
        return "month", ", ".join(_MONTHS[m - 1].title() for m in bad_months)
    fact_names = set(names_in(facts, sheet.names))
    strangers = [n for n in names_in(text, sheet.names) if n not in fact_names]
    if strangers:
        return "name", ", ".join(strangers)
    return None


def check_lines(lines: Sequence[KeyLine], sheet: FactSheet, *, max_lines: int, min_lines: int) -> Checked:
    """Each proposed line checked against `sheet`; the first `max_lines` that pass are kept, the rest dropped."""
    kept: list[KeyLine] = []
    dropped: list[Dropped] = []
    for line in lines:
        problem = line_problem(line, sheet)
        if problem is None and len(kept) >= max_lines:
            problem = "over_limit", str(max_lines)
        if problem is None and line.text in {k.text for k in kept}:
            problem = "repeat", ""
        if problem is None:
            kept.append(line)
        else:
            dropped.append(Dropped(line.text, line.cites, *problem))
    return Checked(tuple(kept), tuple(dropped), len(kept) >= min_lines)
