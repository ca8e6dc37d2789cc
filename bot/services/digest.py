"""The week's key points (本周要点): prepared by a model when the reminder runs (and again on request), checked
line by line against the week's facts, shown to the editors, and posted as they approved it.

The model is a port (`DigestModel`); whatever it does — time out, fail, answer nonsense — the report is
posted on time without a digest and the editors are told once. Publishing never calls the model.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.domain.digest import (
    AnswerError,
    Dropped,
    FactSheet,
    KeyLine,
    Pseudonyms,
    chunks,
    fact_sheet,
    key_points,
    parse_answer,
    request_messages,
)
from bot.domain.digest_check import check_lines
from bot.domain.report import KeyPoint, Report
from bot.domain.weeks import IsoWeek
from bot.services.context import Context
from bot.services.delivery import message_editors
from bot.services.digest_model import PARAMS, DigestModel, ModelError
from bot.services.week_report import WeekReport
from bot.text import digest_notes
from bot.text.catalogue import say
from storage.db import transaction
from storage.digests import DigestStore
from storage.directory import Directory
from storage.models import DigestRow

log = logging.getLogger("zhoubao.digest")

# Room left in the model's context for its answer: a line is rarely past 100 tokens.
ANSWER_TOKENS_PER_LINE = 120
ANSWER_TOKENS_BASE = 256


@dataclass(frozen=True)
class DigestConfig:
    """The team's digest settings (AI_* in the environment)."""

    max_lines: int = 5
    min_lines: int = 2
    pseudonyms: bool = False
    post_unapproved: Literal["latest", "none"] = "latest"
    context_tokens: int = 32768
    timeout_seconds: float = 60.0

    def budget(self) -> int:
        """The tokens one request may take, leaving room for the answer."""
        return self.context_tokens - ANSWER_TOKENS_BASE - ANSWER_TOKENS_PER_LINE * self.max_lines


@dataclass(frozen=True)
class DryRun:
    """Exactly what `prepare` would send, and where: one request per chunk of the week's facts."""

    base_url: str
    host: str
    requests: tuple[dict[str, Any], ...]  # the body of each POST {base_url}/chat/completions

    def text(self) -> str:
        head = f"POST {self.base_url.rstrip('/')}/chat/completions  (host {self.host}; nothing is sent)"
        return "\n".join([head, *(json.dumps(r, ensure_ascii=False, indent=2) for r in self.requests)]) + "\n"


@dataclass(frozen=True)
class DigestView:
    """The week's digest as the editors see it."""

    week: str
    state: str  # ready | too_few | failed | missing
    points: tuple[KeyPoint, ...]  # the latest lines that passed the check
    cites: tuple[tuple[str, ...], ...]  # the ids each point cites
    dropped: tuple[Dropped, ...]
    error: tuple[str, str] | None  # (reason kind, detail) when there is no digest
    approved: tuple[KeyPoint, ...] | None
    approved_by: str | None
    off: bool
    model: str
    host: str
    prepared_at: datetime | None
    facts_hash: str

    def posted(self, policy: str) -> tuple[KeyPoint, ...]:
        """What publishing would post now: the approved lines; else the latest, if the team lets it; else none."""
        if self.off:
            return ()
        if self.approved is not None:
            return self.approved
        return self.points if policy == "latest" and self.state == "ready" else ()


def _stored(lines: list[dict[str, object]] | None) -> tuple[KeyPoint, ...]:
    return tuple(KeyPoint(str(d.get("text", "")), tuple(str(x) for x in d.get("sources", []) or []))  # type: ignore[attr-defined]
                 for d in lines or [])


def _row_view(week: str, row: DigestRow) -> DigestView:
    error = None
    if row.state != "ready":
        kind, _, detail = (row.error or "not_prepared:").partition(":")
        error = (kind, detail)
    return DigestView(
        week=week, state=row.state, points=_stored(row.lines),
        cites=tuple(tuple(str(c) for c in d.get("cites", []) or []) for d in row.lines or []),  # type: ignore[attr-defined]
        dropped=tuple(Dropped(str(d.get("text", "")), tuple(str(c) for c in d.get("cites", []) or []),  # type: ignore[attr-defined]
                              str(d.get("reason", "")), str(d.get("detail", ""))) for d in row.dropped or []),
        error=error, approved=_stored(row.approved) if row.approved is not None else None,
        approved_by=row.approved_by, off=row.off, model=row.model, host=row.host,
        prepared_at=row.prepared_at if row.state != "missing" else None, facts_hash=row.facts_hash)


_TAG = re.compile(r"\s*\[(?P<ids>[A-Za-z0-9._,\s]+)\]\s*$")
_NUMBERED = re.compile(r"^\s*\d+\.\s+")


def _cite_tag(typed: str) -> tuple[str, tuple[str, ...] | None]:
    """An edited line's text (without a leading "1. ") and the ids of a trailing `[P1.3, S.next]`, if any."""
    text = _NUMBERED.sub("", typed).strip()
    m = _TAG.search(text)
    if m is None:
        return text, None
    return text[:m.start()].strip(), tuple(c.strip() for c in m.group("ids").split(",") if c.strip())


def _line(point: KeyPoint, cites: tuple[str, ...]) -> dict[str, object]:
    return {"text": point.text, "cites": list(cites), "sources": list(point.sources)}


class Digests:
    """Prepare, show, edit, approve, turn off and publish the week's key points."""

    def __init__(self, ctx: Context, week_report: WeekReport, model: DigestModel | None,
                 config: DigestConfig | None = None) -> None:
        self.ctx = ctx
        self.week_report = week_report
        self.model = model
        self.config = config or DigestConfig()

    @property
    def on(self) -> bool:
        """Whether a model is configured (AI_BASE_URL and AI_MODEL)."""
        return self.model is not None

    # ----- what is sent ----------------------------------------------------------------------------

    def sheet(self, week: IsoWeek, at: datetime | None = None) -> FactSheet:
        """The week's facts as sources the model may cite, with last week's plan."""
        report = self.week_report.compile(week, at)
        last = self.week_report.compile(week.previous(), at)
        return fact_sheet(self.ctx.team, report, last.next_week)

    def pseudonyms(self) -> Pseudonyms:
        """People as `person-<row id>`, stable across weeks, when the team asks for it; else names as they are."""
        if not self.config.pseudonyms:
            return Pseudonyms()
        return Pseudonyms({p.name: f"person-{self.ctx.person_ids[p.id]}" for p in self.ctx.team.people
                           if p.id in self.ctx.person_ids})

    def _requests(self, sheet: FactSheet, locale: str | None) -> list[dict[str, Any]]:
        assert self.model is not None
        sent = self.pseudonyms().sheet(sheet)
        return [{"model": self.model.model, "messages": request_messages(chunk, self.config.max_lines, locale),
                 **PARAMS} for chunk in chunks(sent, self.config.max_lines, self.config.budget())]

    def dry_run(self, week: IsoWeek, locale: str | None = None, at: datetime | None = None) -> DryRun:
        """What `prepare` would send for `week` and to which host; sends nothing."""
        if self.model is None:
            raise ValueError("the digest is off: set AI_BASE_URL and AI_MODEL")
        return DryRun(self.model.base_url, self.model.host, tuple(self._requests(self.sheet(week, at), locale)))

    # ----- preparing --------------------------------------------------------------------------------

    def prepare(self, week: IsoWeek, at: datetime | None = None, locale: str | None = None,
                *, store: bool = True) -> DigestView | None:
        """Ask the model for `week`'s key points, check each line, store the result (None when the digest is
        off). Never raises for the model's sake: a failure is stored, and the editors are told once. With
        `store=False` (a look in another language) nothing is stored and nobody is told."""
        if self.model is None:
            return None
        at = at or self.ctx.now()
        sheet = self.sheet(week, at)
        proposed: list[KeyLine] = []
        tokens_in = tokens_out = duration = 0
        error: tuple[str, str] | None = None
        names = self.pseudonyms()
        for request in self._requests(sheet, locale):
            params = {k: v for k, v in request.items() if k not in ("model", "messages")}
            try:
                answer = self.model.complete(request["messages"], params)
            except ModelError as exc:
                log.warning("digest model call failed", extra={"host": self.model.host, "model": self.model.model,
                                                               "week": week.label, "reason": exc.kind})
                error = (exc.kind, exc.detail)
                break
            except Exception as exc:  # a model adapter's own bug must not cost the week its report
                log.exception("digest model call failed", extra={"host": self.model.host, "week": week.label})
                error = ("error", type(exc).__name__)
                break
            tokens_in += answer.tokens_in or 0
            tokens_out += answer.tokens_out or 0
            duration += answer.duration_ms
            try:
                lines = parse_answer(answer.content)
            except AnswerError as exc:
                log.warning("digest answer refused", extra={"host": self.model.host, "model": self.model.model,
                                                            "week": week.label, "reason": str(exc)})
                error = ("not_json", "")
                break
            proposed += [KeyLine(names.reveal(line.text), line.cites) for line in lines]
        checked = check_lines(proposed if error is None else [], sheet, max_lines=self.config.max_lines,
                              min_lines=self.config.min_lines)
        for d in checked.dropped:  # which line and why; the line's words stay out of the log
            log.info("digest line dropped", extra={"week": week.label, "cites": list(d.cites), "reason": d.reason})
        if error is None and not checked.enough:
            error = ("too_few", str(len(checked.kept)))
        points = key_points(checked.kept, sheet)
        settings = {"max_lines": self.config.max_lines, "min_lines": self.config.min_lines,
                    "pseudonyms": self.config.pseudonyms, "temperature": PARAMS["temperature"],
                    "timeout_seconds": self.config.timeout_seconds, "context_tokens": self.config.context_tokens,
                    "locale": locale or self.ctx.locale}
        state = "ready" if error is None else ("too_few" if error[0] == "too_few" else "failed")
        if not store:
            return DigestView(week.label, state, points, tuple(k.cites for k in checked.kept), checked.dropped,
                              error, None, None, False, self.model.model, self.model.host, at, sheet.digest_hash())
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            row = DigestStore(s).save_prepared(
                self.ctx.team_id, week_id, at, state=state,
                lines=[_line(p, k.cites) for p, k in zip(points, checked.kept, strict=True)],
                dropped=[{"text": d.text, "cites": list(d.cites), "reason": d.reason, "detail": d.detail}
                         for d in checked.dropped],
                error=f"{error[0]}:{error[1]}" if error else None, host=self.model.host, model=self.model.model,
                settings=settings, facts_hash=sheet.digest_hash(), tokens_in=tokens_in or None,
                tokens_out=tokens_out or None, duration_ms=duration or None)
            view = _row_view(week.label, row)
        if error is not None and view.approved is None and not view.off:
            self._tell_once(week, error, at)
        return view

    def _tell_once(self, week: IsoWeek, error: tuple[str, str], at: datetime) -> None:
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            store = DigestStore(s)
            row = store.ensure(self.ctx.team_id, week_id, at)
            if row.told_at is not None:
                return
            store.mark_told(row, at)
        message_editors(self.ctx, digest_notes.failed(week.label, *error, self.ctx.locale), about="digest notice")

    # ----- the editor's decisions ------------------------------------------------------------------

    def view(self, week: IsoWeek) -> DigestView | None:
        """The week's stored digest, or None when none was prepared."""
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            stored = DigestStore(s).get(self.ctx.team_id, row.id) if row else None
            return _row_view(week.label, stored) if stored is not None else None

    def _change(self, week: IsoWeek, at: datetime, change: Any) -> DigestView:
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            store = DigestStore(s)
            row = store.ensure(self.ctx.team_id, week_id, at)
            change(store, row)
            return _row_view(week.label, row)

    def approve(self, week: IsoWeek, by: str, at: datetime | None = None,
                texts: list[str] | None = None) -> DigestView:
        """The editor approves the latest lines, or `texts`, their edit. A line ending in `[P1.3, S.next]`
        (as `editable_lines` writes them) keeps those sources; one without keeps the sources of the line in
        its place; a blank line drops its point. What is approved is what is posted."""
        at = at or self.ctx.now()
        current = self.view(week)
        points = current.points if current else ()
        cites = current.cites if current else ()
        if texts is None:
            lines = [_line(p, c) for p, c in zip(points, cites, strict=True)]
        else:
            origin = {c: src for p, cs in zip(points, cites, strict=True) if len(p.sources) == len(cs)
                      for c, src in zip(cs, p.sources, strict=True)}
            lines = []
            for n, typed in enumerate(texts):
                text, tagged = _cite_tag(typed)
                if not text:
                    continue
                if tagged is not None:
                    own = tuple(dict.fromkeys(origin[c] for c in tagged if c in origin))
                    lines.append(_line(KeyPoint(text, own), tuple(c for c in tagged if c in origin)))
                else:
                    lines.append(_line(KeyPoint(text, points[n].sources if n < len(points) else ()),
                                       cites[n] if n < len(cites) else ()))
        return self._change(week, at, lambda store, row: store.approve(row, lines, by, at))

    def editable_lines(self, week: IsoWeek) -> str:
        """The points an editor edits: the approved ones, else the latest, one a line, each ending in the ids
        it cites (`[P1.3]`) so an edited line keeps its sources."""
        current = self.view(week)
        if current is None:
            return ""
        if current.approved is not None:
            return "".join(f"{p.text}\n" for p in current.approved)
        return "".join(f"{p.text} [{', '.join(c)}]\n" if c else f"{p.text}\n"
                       for p, c in zip(current.points, current.cites, strict=True))

    def turn_off(self, week: IsoWeek, off: bool = True, at: datetime | None = None) -> DigestView:
        """No key points on `week`'s report (or, with off=False, back on)."""
        return self._change(week, at or self.ctx.now(), lambda store, row: store.turn_off(row, off))

    # ----- publishing --------------------------------------------------------------------------------

    def for_publish(self, week: IsoWeek, at: datetime, report: Report | None = None) -> tuple[KeyPoint, ...]:
        """The key points the report is posted with (stored as published); none when the week has none, and
        then, with a model configured, the editors are told once. Never calls the model.

        Lines nobody approved are checked again against `report` (the one being posted) when the facts
        changed since they were written: a late answer that corrects a number takes the line that used it
        out. Approved lines are the editor's and go out as approved."""
        current = self.view(week)
        if current is None and not self.on:
            return ()
        posted = current.posted(self.config.post_unapproved) if current else ()
        if posted and current is not None and current.approved is None and report is not None:
            posted = self._still_true(current, report, at)
            if not posted:
                self._tell_once(week, ("too_few", "0"), at)
                return ()
        if posted:
            lines = [_line(p, ()) for p in posted]
            self._change(week, at, lambda store, row: store.mark_published(row, lines, at))
        elif self.on and not (current and (current.off or current.state == "ready")):
            self._tell_once(week, current.error or ("not_prepared", "") if current else ("not_prepared", ""), at)
        return posted

    def _still_true(self, current: DigestView, report: Report, at: datetime) -> tuple[KeyPoint, ...]:
        """`current`'s lines that still pass against `report`'s facts (all of them when nothing changed); none
        when fewer than the minimum do."""
        last = self.week_report.compile(IsoWeek.parse(report.week).previous(), at)
        sheet = fact_sheet(self.ctx.team, report, last.next_week)
        if sheet.digest_hash() == current.facts_hash:
            return current.points
        lines = [KeyLine(p.text, c) for p, c in zip(current.points, current.cites, strict=True)]
        checked = check_lines(lines, sheet, max_lines=self.config.max_lines, min_lines=self.config.min_lines)
        for d in checked.dropped:
            log.info("digest line dropped at publish: the facts changed", extra={
                "week": report.week, "cites": list(d.cites), "reason": d.reason})
        return key_points(checked.kept, sheet) if checked.enough else ()

    def with_points(self, report: Report, week: IsoWeek) -> Report:
        """`report` with the key points publishing would post now (for `/zhoubao preview` and the dashboard)."""
        from dataclasses import replace

        current = self.view(week)
        return replace(report, key_points=current.posted(self.config.post_unapproved)) if current else report

    def notes(self, week: IsoWeek) -> str:
        """For the editors under a preview: where the digest stands, the model, and the lines dropped and why."""
        loc, current = self.ctx.locale, self.view(week)
        if current is None or current.state == "missing":
            return say(loc, "digest.state.absent") if self.on else ""
        if current.off:
            head = say(loc, "digest.state.off")
        elif current.approved is not None:
            person = self.ctx.team.person_by_id.get(current.approved_by or "")
            head = say(loc, "digest.state.approved", who=person.name if person else current.approved_by or "")
        elif current.error is not None:
            head = say(loc, "digest.state.failed", reason=digest_notes.reason_text(*current.error, loc))
        else:
            head = say(loc, f"digest.state.{self.config.post_unapproved}")
        lines = [head]
        if current.prepared_at is not None:
            lines.append(say(loc, "digest.model_line", model=current.model, host=current.host,
                             at=f"{current.prepared_at.astimezone(self.ctx.team.zone):%Y-%m-%d %H:%M}"))
        return "\n".join(lines + digest_notes.dropped_lines(current.dropped, loc))
