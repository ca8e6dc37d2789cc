"""The `/incident` command grammar every platform shares, and how an incident's headline is written.

Pure: text in, typed command out. A command is either fully understood or rejected with an
IncidentSyntaxError naming what was wrong (the catalogue words it); never half-parsed.

Times are never guessed where a guess could be wrong by a day or more: a date outside the team's
window of weeks is refused; a recovery in the future is refused (an incident still going on is filed
without a recovery time, and resolved later); a bare recovery time earlier than the start is asked
about (write the date) rather than read as the next day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, cast

from bot.domain.reliability import CauseBook, UnknownCause
from bot.domain.replies import normalize_text
from bot.domain.weeks import IsoWeek, WeekWindow


@dataclass(frozen=True)
class IncidentDraft:
    started_at: datetime  # aware, team time zone
    what: str  # what happened, never empty
    system: str = ""
    cause: str = ""
    impact: str = ""
    recovered_at: datetime | None = None
    severity: str | None = None  # spelled as configured
    weight: Decimal = Decimal("1")
    counts_toward_availability: bool = True
    cause_class: str = ""  # whose cause (`归因：`): a cause class id such as own or bank; "" when not said
    cause_bank: str = ""  # for cause_class bank: the bank's team-file name, if one was named
    detected_at: datetime | None = None  # when it was noticed (`发现：`), if said; read like a recovery time


Action = Literal["add", "list", "edit", "resolve", "delete", "help"]


@dataclass(frozen=True)
class IncidentCommand:
    action: Action
    number: int | None = None
    draft: IncidentDraft | None = None  # for add
    # For edit: only the fields given, keyed by IncidentDraft field name, typed as in IncidentDraft.
    changes: dict[str, object] = field(default_factory=dict)
    at: datetime | None = None  # for resolve; None means "now", decided by the caller


MAX_WEIGHT = Decimal(10)


def weight_allowed(weight: Decimal) -> bool:
    """Whether an incident may carry `weight`: above 0, at most MAX_WEIGHT, at most two decimals."""
    return weight.is_finite() and 0 < weight <= MAX_WEIGHT and weight == round(weight, 2)


def check_recovery(started_at: datetime, recovered_at: datetime | None) -> None:
    """Raise IncidentSyntaxError when a recovery is before its start (an edit or resolve can cause one)."""
    if recovered_at is not None and recovered_at < started_at:
        raise IncidentSyntaxError("before_start", value=f"{recovered_at.astimezone(started_at.tzinfo):%Y-%m-%d %H:%M}",
                                  start=f"{started_at:%Y-%m-%d %H:%M}")


class IncidentSyntaxError(ValueError):
    """An `/incident` command that cannot be understood. `key` names the catalogue sentence that says
    what was wrong (`incident.syntax.<key>`), `values` fill it in; the service adds the usage."""

    def __init__(self, key: str, **values: str) -> None:
        self.key = key
        self.values = values
        super().__init__(f"{key} {values}")


# ----- labels -------------------------------------------------------------------------------

_LABELS: dict[str, tuple[str, ...]] = {
    "what": ("内容", "描述", "what", "description"),
    "started_at": ("开始时间", "开始", "started", "start"),
    "system": ("系统", "system"),
    "cause": ("原因", "root cause", "cause"),
    "impact": ("影响", "impact"),
    "recovered_at": ("恢复时间", "恢复", "recovered", "resolved", "recovery"),
    "severity": ("严重度", "级别", "severity", "level"),
    "weight": ("权重", "weight"),
    "counts_toward_availability": ("可用性", "availability"),
    # Issue 23: whose cause it was. English `cause:` was already the root cause's text, so the class
    # has its own word.
    "cause_class": ("归因", "attribution", "caused by"),
    "detected_at": ("发现时间", "发现", "detected"),
}
_FIELD_OF = {label: name for name, labels in _LABELS.items() for label in labels}
_CJK_PUNCT = "，。；！？、：）」』】》…"
# A label counts only where a new clause can start, so 对业务无实际影响。 keeps its 影响.
_LABEL = re.compile(
    rf"(?:^|(?<=\s)|(?<=[{_CJK_PUNCT}]))({'|'.join(sorted(map(re.escape, _FIELD_OF), key=len, reverse=True))})[ \t]*[：:]",
    re.IGNORECASE)
_WHEN = re.compile(
    r"(?:(?:(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"
    r"|(?P<m2>[0-9]{1,2})/(?P<d2>[0-9]{1,2})|(?P<m3>[0-9]{1,2})月(?P<d3>[0-9]{1,2})[日号]?)"
    r"(?:(?:[ \t]+|T)(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::[0-9]{2})?)?(?![0-9:/])"
    r"|(?P<H2>[0-9]{1,2}):(?P<M2>[0-9]{2})(?::[0-9]{2})?(?![0-9:]))")
_RECOVERED_IN_TEXT = re.compile(
    r"(?<![0-9:])([0-9]{1,2}):([0-9]{2})[ \t]*恢复|\brecovered (?:at )?([0-9]{1,2}):([0-9]{2})\b", re.IGNORECASE)
_SYSTEM = re.compile(r"([A-Za-z][A-Za-z0-9._/-]+)(\s*)(.+)", re.DOTALL)
_WEIGHT = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")
_AVAILABILITY = {"否": False, "不计": False, "no": False, "false": False, "0": False,
                 "是": True, "计": True, "yes": True, "true": True, "1": True}
_COMMAND = re.compile(r"(?P<word>edit|resolve|delete|修改|恢复|删除)(?:\s*(?P<hash>#)?(?P<n>[0-9]{1,9})(?![0-9])"
                      r"|(?P<bare>\s*#?$))\s*(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
# What `_COMMAND` did not take but is still an attempt at a numbered command, so it is refused with
# the usage rather than filed as an incident titled "edit abc": an English word and one token that is
# all there is (`edit abc`), or an English word followed by `#…`, a sign or a digit (`edit -1 级别：C`,
# `resolve 1234567890`), or a Chinese one followed by `#…` or a sign (`删除 -1`; 删除 2 个… is prose).
_BAD_NUMBER = re.compile(r"(?P<word>edit|resolve|delete|修改|恢复|删除)\s*(?P<id>[#+\-]\S*|[0-9]\S*)"
                         r"|(?P<en>edit|resolve|delete)\s+(?P<id2>\S+)(?=\s*$)", re.IGNORECASE | re.DOTALL)
_ACTIONS: dict[str, Action] = {"edit": "edit", "修改": "edit", "resolve": "resolve", "恢复": "resolve",
                               "delete": "delete", "删除": "delete"}
_CLOCK_SLACK = timedelta(minutes=10)  # a start "later today" within this is clock skew, not yesterday
# A date typed without a year further back than this is asked about, not filed: 12/02 typed on
# 2026-11-27 would otherwise land silently in 2025-W49.
RECENT_DAYS = 30
_NEW_YEAR_WRAP = timedelta(days=31)  # how far past New Year a yearless recovery date may reach


def _is_cjk(ch: str) -> bool:
    return ("\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"
            or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef")


@dataclass(frozen=True)
class _When:
    raw: str
    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None


def _when(m: re.Match[str]) -> _When:
    def num(*names: str) -> int | None:
        value = next((m.group(n) for n in names if m.group(n) is not None), None)
        return int(value) if value is not None else None

    return _When(m.group(0), num("y"), num("m", "m2", "m3"), num("d", "d2", "d3"), num("H", "H2"), num("M", "M2"))


class _Grammar:
    def __init__(self, now: datetime, severities: Sequence[str], window: WeekWindow | None = None,
                 causes: CauseBook | None = None) -> None:
        self.now = now.replace(second=0, microsecond=0)
        self.severities = list(severities)
        self.window = window
        self.causes = causes if causes is not None else CauseBook(())

    def fail(self, key: str, **values: object) -> IncidentSyntaxError:
        return IncidentSyntaxError(key, **{k: str(v) for k, v in values.items()})

    def at(self, w: _When, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
        if not 1970 <= year <= 9998:  # also keeps "+1 day" and "next year" clear of datetime's limits
            raise self.fail("bad_date", value=w.raw)
        try:
            dt = datetime(year, month, day, hour, minute, tzinfo=self.now.tzinfo)
        except ValueError:
            raise self.fail("bad_date", value=w.raw) from None
        if self.window is not None and IsoWeek.of(dt) not in self.window:
            raise self.fail("outside_window", value=w.raw, first=self.window.first, last=self.window.last)
        return dt

    def around_now(self, w: _When) -> datetime:
        """A start (or resolve) time: missing parts from now; a date without a year in the past year."""
        hour, minute = (w.hour, w.minute) if w.hour is not None else (self.now.hour, self.now.minute)
        assert minute is not None
        if w.month is None:
            dt = self.at(w, self.now.year, self.now.month, self.now.day, hour, minute)
            return dt - timedelta(days=1) if dt > self.now + _CLOCK_SLACK else dt
        assert w.day is not None
        dt = self.at(w, self.now.year if w.year is None else w.year, w.month, w.day, hour, minute)
        if dt > self.now + timedelta(days=1):
            if w.year is not None:
                raise self.fail("future", value=w.raw)
            dt = self.at(w, self.now.year - 1, w.month, w.day, hour, minute)
        if w.year is None and dt < self.now - timedelta(days=RECENT_DAYS):
            iso = dt.isocalendar()
            raise self.fail("confirm_date", value=w.raw, days=RECENT_DAYS, date=f"{dt:%Y-%m-%d}",
                            week=f"{iso.year}-W{iso.week:02d}")
        return dt

    def after(self, w: _When, start: datetime) -> datetime:
        """A recovery time, not in the future: a bare HH:MM on the start's day (one earlier than the start
        is asked about: the next day must be written); a date in the start's year or the next."""
        if w.hour is None or w.minute is None:
            raise self.fail("needs_time", value=w.raw)
        if w.month is None:
            dt = self.at(w, start.year, start.month, start.day, w.hour, w.minute)
            if dt < start:
                raise self.fail("confirm_overnight", value=w.raw.strip(), start=f"{start:%H:%M}",
                                next_day=f"{dt + timedelta(days=1):%m/%d %H:%M}")
            return self.not_future(dt)
        assert w.day is not None
        dt = self.at(w, start.year if w.year is None else w.year, w.month, w.day, w.hour, w.minute)
        if dt < start and w.year is None:
            # Only across New Year (12/31 → 01/01) does a yearless date mean the next year; 06/20 for
            # an incident that started 06/21 is a recovery before the start, not one a year later.
            later = self.at(w, start.year + 1, w.month, w.day, w.hour, w.minute)
            dt = later if later - start <= _NEW_YEAR_WRAP else dt
        if dt < start:
            raise self.fail("before_start", value=f"{dt:%Y-%m-%d %H:%M}", start=f"{start:%Y-%m-%d %H:%M}")
        return self.not_future(dt)

    def not_future(self, recovered: datetime) -> datetime:
        """A recovery time that has happened (clock skew allowed); a later one is refused."""
        if recovered > self.now + _CLOCK_SLACK:
            raise self.fail("recovery_future", value=f"{recovered:%Y-%m-%d %H:%M}")
        return recovered

    def when(self, value: str) -> _When:
        m = _WHEN.fullmatch(value.strip())
        if not m:
            raise self.fail("bad_date", value=value.strip())
        return _when(m)

    def labelled(self, body: str) -> tuple[str, dict[str, str]]:
        """The unlabelled head, and each label's value (running to the next label)."""
        matches = list(_LABEL.finditer(body))
        fields: dict[str, str] = {}
        for i, m in enumerate(matches):
            name = _FIELD_OF[m.group(1).lower()]
            value = body[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(body)].strip()
            if name in fields:
                raise self.fail("twice", value=m.group(1))
            if not value:
                raise self.fail("empty", value=m.group(1))
            fields[name] = value
        return body[:matches[0].start()] if matches else body, fields

    def values(self, fields: dict[str, str], start: datetime | None) -> dict[str, object]:
        """Typed values for the labelled fields. Without a known start (an edit), a recovery time is
        read like a resolve time: the latest such moment up to now."""
        out: dict[str, object] = {k: v for k, v in fields.items() if k in ("what", "system", "cause", "impact")}
        if "started_at" in fields:
            start = out["started_at"] = self.around_now(self.when(fields["started_at"]))
        if "recovered_at" in fields:
            w = self.when(fields["recovered_at"])
            if w.hour is None:
                raise self.fail("needs_time", value=w.raw)
            out["recovered_at"] = self.after(w, start) if start is not None else self.not_future(self.around_now(w))
        if "detected_at" in fields:
            w = self.when(fields["detected_at"])
            if w.hour is None:
                raise self.fail("needs_time", value=w.raw)
            try:
                out["detected_at"] = self.after(w, start) if start is not None else \
                    self.not_future(self.around_now(w))
            except IncidentSyntaxError as exc:  # the recovery's sentences would name the wrong time
                if exc.key in ("before_start", "confirm_overnight") and start is not None:
                    raise self.fail("detected_before_start", value=w.raw.strip(),
                                    start=f"{start:%Y-%m-%d %H:%M}") from None
                if exc.key == "recovery_future":
                    raise self.fail("detected_future", value=w.raw.strip()) from None
                raise
        if "severity" in fields:
            out["severity"] = self.severity(fields["severity"])
        if "weight" in fields:
            out["weight"] = self.weight(fields["weight"])
        if "counts_toward_availability" in fields:
            value = fields["counts_toward_availability"]
            if value.lower() not in _AVAILABILITY:
                raise self.fail("availability", value=value)
            out["counts_toward_availability"] = _AVAILABILITY[value.lower()]
        if "cause_class" in fields:
            out["cause_class"], out["cause_bank"] = self.attribution(fields["cause_class"])
        return out

    def attribution(self, value: str) -> tuple[str, str]:
        try:
            found = self.causes.read(value)
        except UnknownCause as exc:
            raise self.fail("cause_class", value=exc.value, known=exc.known or "—") from None
        return found.cause, found.bank

    def severity(self, value: str) -> str:
        wanted = value.removesuffix("级").strip().casefold()
        for known in self.severities:
            if known.casefold() == wanted:
                return known
        raise self.fail("severity", value=value, known=", ".join(self.severities) or "—")

    def weight(self, value: str) -> Decimal:
        if not _WEIGHT.fullmatch(value) or not weight_allowed(Decimal(value)):
            raise self.fail("weight", value=value)
        return Decimal(value)

    def incident(self, body: str) -> IncidentDraft:
        head, fields = self.labelled(body)
        head = head.strip()
        start = self.now
        m = _WHEN.match(head)
        if m:
            if "started_at" in fields:
                raise self.fail("start_twice")
            start = self.around_now(_when(m))
            head = head[m.end():].strip()
        if head and "what" in fields:
            raise self.fail("what_twice")
        values = self.values(fields, start)
        labelled_start = values.pop("started_at", None)
        if isinstance(labelled_start, datetime):
            start = labelled_start
        system = str(values.pop("system", ""))
        if not head:
            head = str(values.pop("what", ""))
        elif not system:
            system, head = _leading_system(head)
        if not head:
            raise self.fail("no_what")
        if "recovered_at" not in values:
            found = _RECOVERED_IN_TEXT.search(head)
            if found:
                hh, mm = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
                if int(hh) < 24 and int(mm) < 60:
                    values["recovered_at"] = self.after(_When(found.group(0), None, None, None, int(hh), int(mm)), start)
        return replace(IncidentDraft(started_at=start, what=head, system=system), **cast(dict[str, Any], values))


def _leading_system(head: str) -> tuple[str, str]:
    """`gateway-api 节点CPU打满` -> ("gateway-api", "节点CPU打满"). A plain English word before English
    text is not taken, so "Database failover slow" stays a description."""
    m = _SYSTEM.fullmatch(head)
    if not m or not m.group(3).strip():
        return "", head
    token, gap, rest = m.group(1), m.group(2), m.group(3).strip()
    if _is_cjk(rest[0]) or (gap and re.search(r"[0-9._/-]", token)):
        return token, rest
    return "", head


def _body(text: str) -> str:
    body = normalize_text(text).strip()
    return re.sub(r"^/incident\b\s*", "", body, flags=re.IGNORECASE)


def states_start(text: str) -> bool:
    """Whether an incident text says when it started: a leading date or time, or a `开始：` label."""
    body = _body(text)
    if _WHEN.match(body):
        return True
    return any(_FIELD_OF[m.group(1).lower()] == "started_at" for m in _LABEL.finditer(body))


def parse_incident(text: str, *, now: datetime, severities: Sequence[str],
                   window: WeekWindow | None = None, causes: CauseBook | None = None) -> IncidentDraft:
    """The incident an `/incident …` text describes; raises IncidentSyntaxError if it can't be read
    (or, given the team's `window`, names a date outside it; or names a cause `causes` does not know)."""
    return _Grammar(now, severities, window, causes).incident(_body(text))


def parse_command(text: str, *, now: datetime, severities: Sequence[str],
                  window: WeekWindow | None = None, causes: CauseBook | None = None) -> IncidentCommand:
    """What an `/incident …` text asks for: help, list, edit/resolve/delete N, or else a new incident.
    A command word with a number that is not one (`edit abc`, `delete -1`) is an IncidentSyntaxError
    (`bad_number`), never a new incident; dates outside `window` are refused."""
    body = _body(text)
    grammar = _Grammar(now, severities, window, causes)
    word = body.lower()
    if word in ("", "help", "帮助", "?", "？"):
        return IncidentCommand("help")
    if word in ("list", "列表"):
        return IncidentCommand("list")
    m = _COMMAND.fullmatch(body)
    if m:
        if m.group("bare") is not None:
            raise grammar.fail("number", value=m.group("word"))
        action, number, rest = _ACTIONS[m.group("word").lower()], int(m.group("n")), m.group("rest").strip()
        # Chinese words also start descriptions (删除 2 个索引导致…), so they are commands only when the
        # whole text fits; English words and `#N` are unambiguous and get a precise error instead.
        strict = m.group("word").isascii() or m.group("hash") is not None
        command = _numbered(grammar, action, number, rest, strict)
        if command is not None:
            return command
    else:
        _refuse_bad_number(grammar, body)
    return IncidentCommand("add", draft=grammar.incident(body))


def _refuse_bad_number(grammar: _Grammar, body: str) -> None:
    """IncidentSyntaxError when `body` starts like a numbered command whose number is not a number."""
    m = _BAD_NUMBER.match(body)
    if m is None:
        return
    word, token = (m.group("en"), m.group("id2")) if m.group("en") is not None else (m.group("word"), m.group("id"))
    if not word.isascii() and not token.startswith(("#", "-", "+")):
        return  # 删除 1234567890条数据… is a description, not a command
    raise grammar.fail("bad_number", value=token, word=word.lower())


def _numbered(grammar: _Grammar, action: Action, number: int, rest: str, strict: bool) -> IncidentCommand | None:
    if action == "delete" and not rest:
        return IncidentCommand("delete", number=number)
    if action == "resolve":
        if not rest:
            return IncidentCommand("resolve", number=number)
        m = _WHEN.fullmatch(rest)
        if m:
            w = _when(m)
            if w.hour is None:
                raise grammar.fail("needs_time", value=rest)
            return IncidentCommand("resolve", number=number, at=grammar.not_future(grammar.around_now(w)))
    if action == "edit":
        head, fields = grammar.labelled(rest)
        if not head.strip() and fields:
            return IncidentCommand("edit", number=number, changes=grammar.values(fields, None))
        if strict or not rest:
            raise grammar.fail("unlabelled", value=head.strip()) if head.strip() else grammar.fail("no_fields")
        return None
    if strict:
        raise grammar.fail("extra", value=rest)
    return None


# ----- the report line ------------------------------------------------------------------------


def format_headline(system: str, what: str) -> str:
    """System and description as the report shows them: `gateway-api节点CPU打满`, `order-api node OOM`."""
    if not system or not what:
        return what or system
    return system + ("" if what and _is_cjk(what[0]) else " ") + what


# ----- single fields, as a form gives them ------------------------------------------------------


def read_start(value: str, *, now: datetime) -> datetime:
    """A start time written as the grammar accepts it (06/21 10:04, 2024-06-21 10:04, 10:04); an empty
    value is `now`. Raises IncidentSyntaxError for anything else, such as 昨天上午."""
    grammar = _Grammar(now, ())
    return grammar.around_now(grammar.when(value)) if value.strip() else grammar.now


def read_recovered(value: str, *, start: datetime | None, now: datetime) -> datetime:
    """A recovery time after `start` (17:00 or 06/22 01:00); without a start (an edit), the latest such
    moment up to now. Raises IncidentSyntaxError."""
    grammar = _Grammar(now, ())
    w = grammar.when(value)
    if w.hour is None:
        raise grammar.fail("needs_time", value=w.raw)
    return grammar.after(w, start) if start is not None else grammar.not_future(grammar.around_now(w))


def read_severity(value: str, severities: Sequence[str]) -> str:
    """The configured spelling of a severity (`c`, `C级` -> `C`); IncidentSyntaxError if none matches."""
    return _Grammar(datetime(2000, 1, 1), severities).severity(value.strip())


def read_attribution(value: str, causes: CauseBook) -> tuple[str, str]:
    """A `归因` value as (cause class id, bank name or ""); IncidentSyntaxError if `causes` does not know it."""
    return _Grammar(datetime(2000, 1, 1), (), causes=causes).attribution(value.strip())


def read_weight(value: str) -> Decimal:
    """A weight above 0 and at most 10 with up to two decimals; IncidentSyntaxError otherwise."""
    return _Grammar(datetime(2000, 1, 1), ()).weight(value.strip())
