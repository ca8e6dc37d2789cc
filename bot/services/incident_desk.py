"""`/incident` on every platform: file, list, edit, resolve and delete the week's production incidents."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.domain.incidents import (
    IncidentCommand,
    IncidentDraft,
    IncidentSyntaxError,
    check_recovery,
    format_headline,
    parse_command,
)
from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError, Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.follow_ups import FollowUps
from bot.text import messages
from bot.text.catalogue import say
from storage.db import transaction
from storage.directory import Directory
from storage.incidents import FIELDS, Incidents, NewIncident
from storage.models import IncidentRow

log = logging.getLogger("zhoubao.incidents")


@dataclass(frozen=True)
class Reporter:
    """Who runs an `/incident` command: a team member (person_id) or anyone else in the workspace."""

    person_id: str | None
    user: str  # platform:user id, the identity that may change its own incidents
    name: str  # the member's name, or the platform profile's


@dataclass(frozen=True)
class IncidentOutcome:
    reply: Reply
    number: int | None = None
    announce: str | None = None  # what to post to the report channel, if anything


class IncidentDesk:
    def __init__(self, ctx: Context, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.cycle = cycle
        self.follow_ups = FollowUps(ctx, cycle)

    def handle(self, platform: str, user: str, text: str, at: datetime, source_ref: str | None = None,
               *, announce: bool = True) -> IncidentOutcome:
        """Run one `/incident …` command for `user`; never stores half an incident.

        Anyone in the workspace may file, list and change their own incidents, unless the team file says
        `incidents: {reporters: team}`; changing someone else's takes an editor."""
        loc = self.ctx.locale
        if not self.may_report(user):
            return IncidentOutcome(Reply(messages.not_member(loc), ok=False))
        who = self.who(platform, user)
        now = at.astimezone(self.ctx.team.zone)
        try:
            follow_up = self.follow_ups.parse(text, now)
            if follow_up is not None:
                return IncidentOutcome(self.follow_ups.run(follow_up, who.person_id, who.user, now))
            cmd = parse_command(text, now=now, severities=self.ctx.team.incidents.severities,
                                window=self.ctx.week_window(), causes=self.ctx.team.cause_book)
        except IncidentSyntaxError as exc:
            problem = say(loc, f"incident.syntax.{exc.key}", **exc.values)
            return IncidentOutcome(Reply(f"{problem}\n\n{say(loc, 'incident.usage')}", ok=False))
        if cmd.action == "help":
            return IncidentOutcome(Reply(say(loc, "incident.usage")))
        if cmd.action == "list":
            return IncidentOutcome(Reply(self.list_text(self.ctx.week_of(now))))
        if cmd.action == "add":
            assert cmd.draft is not None
            outcome = self.add(cmd.draft, who, platform, source_ref, now)
            if announce:
                self.announce(outcome)
            return outcome
        return self.change(cmd, who, now)

    def announce(self, outcome: IncidentOutcome) -> None:
        """Post a newly filed incident to the report channel, when the team asks for that."""
        if not outcome.announce or not self.ctx.team.incidents.post_to_channel:
            return
        try:
            self.ctx.chat.post_text(self.ctx.team.team.report_channel, outcome.announce)
        except ChatError as exc:
            log.error("incident not announced", extra={"reason": exc.reason})
            self.cycle.failures.tell_editors(exc)

    def may_report(self, user: str) -> bool:
        """Whether `user` may file, list and change their own incidents: a team member, or anyone in the
        workspace unless the team file says `incidents: {reporters: team}`."""
        return self.ctx.person(user) is not None or self.ctx.team.incidents.reporters == "anyone"

    def who(self, platform: str, user: str) -> Reporter:
        """`user` as a reporter: the team member, or a workspace member named by the platform's profile."""
        person = self.ctx.person(user)
        return Reporter(person.id if person else None, f"{platform}:{user}",
                        person.name if person else self._profile_name(user))

    def _reporter(self, who: Reporter | str, source: str) -> Reporter:
        if isinstance(who, Reporter):
            return who
        person = self.ctx.person(who)
        return Reporter(person.id if person else None, f"{source}:{who}", person.name if person else who)

    def _profile_name(self, user: str) -> str:
        """A non-member's name from the platform's profile (the adapter caches it), else their user id."""
        try:
            return self.ctx.chat.display_name(user) or user
        except ChatError:
            return user

    def add(self, draft: IncidentDraft, reporter: Reporter | str, source: str, source_ref: str | None,
            at: datetime) -> IncidentOutcome:
        """File an incident; `reporter` is who filed it (a team-file person id, for callers inside the bot)."""
        reporter = self._reporter(reporter, source)
        week = self.ctx.week_of(draft.started_at)
        with transaction(self.ctx.db) as s:
            repo = Incidents(s)
            if source_ref and (dup := repo.by_source(self.ctx.team_id, source, source_ref)) is not None:
                return IncidentOutcome(Reply(self._summary(dup, "filed")), dup.number)
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            row = repo.add(NewIncident(
                team_id=self.ctx.team_id, week_id=week_id, started_at=draft.started_at, what=draft.what,
                system=draft.system, cause=draft.cause, impact=draft.impact, recovered_at=draft.recovered_at,
                severity=draft.severity, weight=draft.weight,
                counts_toward_availability=draft.counts_toward_availability,
                cause_class=draft.cause_class, cause_bank=draft.cause_bank, detected_at=draft.detected_at,
                reporter_id=self.ctx.person_ids.get(reporter.person_id or ""), source=source, source_ref=source_ref,
                at=at, reporter_user=reporter.user, reporter_name=reporter.name))
            summary = self._summary(row, "filed")
            number = row.number
        self.cycle.refresh_if_published(week, at)
        return IncidentOutcome(Reply(summary), number, announce=summary)

    def change(self, cmd: IncidentCommand, who: Reporter | str, now: datetime) -> IncidentOutcome:
        """Edit, resolve or delete incident `cmd.number`, if `who` may (a team-file person id, for callers
        inside the bot)."""
        who = self._reporter(who, "")
        loc = self.ctx.locale
        if cmd.action in ("edit", "resolve", "delete") and not self._may_change(cmd.number or 0, who):
            return IncidentOutcome(Reply(messages.refused(loc), ok=False))
        with transaction(self.ctx.db) as s:
            repo, weeks = Incidents(s), Directory(s)
            row = repo.get(self.ctx.team_id, cmd.number or 0)
            if row is None:
                return IncidentOutcome(Reply(say(loc, "incident.no_such", number=cmd.number), ok=False))
            old_week = weeks.week_label(row.week_id)
            if cmd.action in ("edit", "resolve"):
                start = cmd.changes.get("started_at", row.started_at)
                recovered = (cmd.at or now) if cmd.action == "resolve" else \
                    cmd.changes.get("recovered_at", row.recovered_at)
                try:
                    check_recovery(start, recovered)  # type: ignore[arg-type]
                except IncidentSyntaxError as exc:
                    return IncidentOutcome(Reply(say(loc, f"incident.syntax.{exc.key}", **exc.values), ok=False),
                                           row.number)
            if cmd.action == "delete":
                repo.withdraw(row, now)
                verb = "deleted"
            elif cmd.action == "resolve":
                repo.resolve(row, cmd.at or now, now)
                verb = "resolved"
            else:
                changes = {k: v for k, v in cmd.changes.items() if k in FIELDS}
                started = changes.get("started_at")
                week_id = weeks.ensure_week(self.ctx.team_id, self.ctx.week_of(started).label).id \
                    if isinstance(started, datetime) else None  # a new start may move it to another week
                repo.update(row, changes, now, week_id=week_id)
                verb = "edited"
            text = self._summary(row, verb)
            number = row.number
            new_week = weeks.week_label(row.week_id)
        for label in {old_week, new_week}:
            self.cycle.refresh_if_published(IsoWeek.parse(label), now)
        return IncidentOutcome(Reply(text), number)

    def _may_change(self, number: int, who: Reporter) -> bool:
        """The reporter (member or not), editors and admins may change an incident."""
        if who.person_id is not None and self.ctx.team.is_editor(who.person_id):
            return True
        with transaction(self.ctx.db) as s:
            row = Incidents(s).get(self.ctx.team_id, number)
            if row is None:
                return True  # "no such incident" is said by the caller
            if who.person_id is not None and row.reporter_id == self.ctx.person_ids.get(who.person_id):
                return True
            return row.reporter_user is not None and row.reporter_user == who.user

    def list_text(self, week: IsoWeek) -> str:
        loc = self.ctx.locale
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            rows = Incidents(s).of_week(self.ctx.team_id, row.id) if row else []
            lines = [self._one_line(r) for r in rows]
        if not lines:
            return say(loc, "incident.none", week=week.label)
        head = say(loc, "incident.list_head", week=week.label, count=len(lines))
        return "\n".join([head, *lines])

    def _one_line(self, r: IncidentRow) -> str:
        zone = self.ctx.team.zone
        start = r.started_at.astimezone(zone)
        sev = f" [{r.severity}{'' if r.weight == 1 else ' ×' + format(r.weight.normalize(), 'f')}]" \
            if r.severity else ""
        end = r.recovered_at.astimezone(zone) if r.recovered_at else None
        # The recovery's date is shown whenever it is not the start's day, so a misread date is seen.
        rec = "" if end is None else end.strftime(" → %H:%M" if end.date() == start.date() else " → %m/%d %H:%M")
        # A date says its year when it is not this year's, so 12/02 of last year is not read as this one.
        day = f"{start:%m/%d}" if start.year == self.ctx.now().year else f"{start:%Y-%m-%d}"
        # Team members are known by name already; someone from outside the team is named.
        by = say(self.ctx.locale, "incident.filed_by", name=r.reporter_name) \
            if r.reporter_name and r.reporter_id is None else ""
        return f"#{r.number} {day} {start:%H:%M}{rec}{sev} {format_headline(r.system, r.what)}{by}"

    def _summary(self, r: IncidentRow, verb: str) -> str:
        loc = self.ctx.locale
        lines = [f"{say(loc, 'incident.' + verb)} {self._one_line(r)}"]
        if r.cause:
            lines.append(say(loc, "incident.cause", value=r.cause))
        if r.impact:
            lines.append(say(loc, "incident.impact", value=r.impact))
        if r.cause_class:
            named = self.ctx.team.cause_book.name(r.cause_class)
            lines.append(say(loc, "incident.attribution", value=f"{named} {r.cause_bank}".strip()))
        return "\n".join(lines)
