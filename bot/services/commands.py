"""`/zhoubao <subcommand>`: one command for everything else, answered here for every platform."""

from __future__ import annotations

from datetime import datetime

from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.away import handle_away
from bot.services.chat import ChatError, Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.week_report import WeekReport
from bot.text import messages
from bot.text.catalogue import say

_WITH_WEEK = ("preview", "publish", "missing", "status", "answer")


class Commands:
    def __init__(self, ctx: Context, week_report: WeekReport, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.week_report, self.cycle = week_report, cycle

    def week(self, label: str | None, at: datetime) -> IsoWeek | Reply:
        """The week a command names (the week of `at` when it names none), or the Reply saying the label is
        bad or outside the team's window."""
        if not label:
            return self.ctx.week_of(at)
        try:
            return self.ctx.parse_week(label)
        except WeekLabelError as exc:
            return Reply(messages.bad_week(label, exc, self.ctx.locale), ok=False)

    def answer(self, user: str, week_label: str | None, at: datetime) -> Reply:
        """The answer form for `week_label` (default: this week): a Reply carrying the `Prompt` the platform
        shows as its form, or saying why there is none (not a member, a bad week, nothing to answer)."""
        loc = self.ctx.locale
        person = self.ctx.person(user)
        if person is None:
            return Reply(messages.not_member(loc), ok=False)
        week = self.week(week_label, at)
        if isinstance(week, Reply):
            return week
        prompt = self.week_report.prompt(person.id, week)
        if prompt is None:
            return Reply(messages.nothing_to_answer(loc))
        return Reply(prompt.text, prompt=prompt)

    def handle(self, platform: str, user: str, text: str, at: datetime) -> Reply:
        """Run `/zhoubao <text>` for `user`; the Reply is everything the platform shows them."""
        loc = self.ctx.locale
        person = self.ctx.person(user)
        if person is None:
            return Reply(messages.not_member(loc), ok=False)
        words = text.split()
        sub = words[0].lower() if words else "help"
        if sub == "answer":
            return self.answer(user, words[1] if len(words) > 1 else None, at)
        if sub == "away":
            return handle_away(self.ctx, person.id, text.strip()[len(words[0]):], at)
        if sub not in _WITH_WEEK:
            return Reply(messages.help_text(loc), ok=sub == "help")
        week = self.week(words[1] if len(words) > 1 else None, at)
        if isinstance(week, Reply):
            return week
        if sub == "status":
            items = self.week_report.prompt_items(person.id, week)
            if not items:
                return Reply(messages.nothing_to_answer(loc))
            lines = [say(loc, "command.status_head", week=week.label)]
            lines += [f"{'✅' if it.this_week else '⬜'} [{it.number}] {it.title}" for it in items]
            return Reply("\n".join(lines))
        if sub == "preview":
            # With the key points publishing would post now; an editor also reads where the digest stands and
            # the lines the fact check dropped, and why.
            digests = self.cycle.digests
            markdown = self.week_report.render(digests.with_points(self.week_report.compile(week, at), week)).markdown
            notes = digests.notes(week) if self.ctx.team.is_editor(person.id) else ""
            return Reply(markdown + (f"\n---\n{notes}\n" if notes else ""))
        if sub == "missing":
            report = self.week_report.compile(week, at)
            return Reply(messages.missing_list(week.label, report.missing, loc,
                                               [p.name for p in self.week_report.unanswered_incident_question(week)],
                                               [a for a in report.actions if a.state == "overdue"]))
        if not self.ctx.team.is_editor(person.id):  # publish
            return Reply(messages.refused(loc), ok=False)
        try:
            result = self.cycle.publish(week, at)
        except ChatError as exc:
            return self.cycle.failures.refused(exc)
        return Reply(messages.published(result.week, result.updated, loc))
