"""`/zhoubao away 7/1-7/5`: a person marks time away; no prompts for them, 休假 in the report."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from bot.services.chat import Reply
from bot.services.context import Context
from bot.text.catalogue import listing, say
from storage.away import Away
from storage.db import transaction

_DAY = r"(?:(\d{4})[-/.])?(\d{1,2})[-/.月](\d{1,2})日?"
_RANGE = re.compile(rf"^\s*{_DAY}\s*(?:(?:-|–|~|～|到|至|\.\.)\s*{_DAY})?\s*$")
MAX_DAYS = 366


class AwayError(ValueError):
    """The text is not a date range; `key` and `values` name the catalogue sentence that says why."""

    def __init__(self, key: str, **values: str) -> None:
        self.key, self.values = key, values
        super().__init__(f"{key} {values}")


def parse_away(text: str, today: date) -> tuple[date, date]:
    """`7/1-7/5`, `7/1`, `2024-07-01~2024-07-05`, `7月1日到7月5日` → inclusive (start, end).

    Without a year a date is this year's, or next year's when that is closer ahead (in December,
    `1/2-1/5` means January coming); an end before its start rolls into the next year (`12/30-1/3`).
    """
    m = _RANGE.match(text)
    if not m:
        raise AwayError("away.bad_range", value=text.strip())
    y1, m1, d1, y2, m2, d2 = m.groups()
    start = _day(y1, m1, d1, today.year)
    if y1 is None and start < today - timedelta(days=31):
        start = _day(None, m1, d1, today.year + 1)
    end = _day(y2, m2, d2, start.year) if m2 else start
    if y2 is None and end < start:
        end = _day(None, m2, d2, start.year + 1)
    if end < start:
        raise AwayError("away.reversed", start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}")
    if (end - start).days >= MAX_DAYS:
        raise AwayError("away.too_long")
    return start, end


def _day(year: str | None, month: str, day: str, default_year: int) -> date:
    try:
        return date(int(year) if year else default_year, int(month), int(day))
    except ValueError:
        raise AwayError("away.bad_day", value=f"{month}/{day}") from None


def handle_away(ctx: Context, person_id: str, args: str, at: datetime) -> Reply:
    """The `/zhoubao away …` subcommand: `<range>` adds, `cancel` ends, nothing lists."""
    loc = ctx.locale
    today = at.astimezone(ctx.team.zone).date()
    pid = ctx.person_ids[person_id]
    arg = args.strip()
    with transaction(ctx.db) as s:
        away = Away(s)
        if arg.lower() in ("cancel", "取消", "clear"):
            n = away.cancel(ctx.team_id, pid, today)
            return Reply(say(loc, "away.cancelled" if n else "away.nothing_to_cancel"))
        if not arg or arg.lower() in ("list", "列表"):
            rows = away.of_person(ctx.team_id, pid, today)
            if not rows:
                return Reply(say(loc, "away.none"))
            return Reply(say(loc, "away.list", spans=listing(loc, (_span(r.start, r.end) for r in rows))))
        try:
            start, end = parse_away(arg, today)
        except AwayError as exc:
            return Reply(say(loc, exc.key, **exc.values), ok=False)
        away.add(ctx.team_id, pid, start, end, at)
    return Reply(say(loc, "away.added", span=_span(start, end)))


def _span(start: date, end: date) -> str:
    return f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"
