"""`/zhoubao <subcommand>`: one command for everything else, answered here for every platform."""

from __future__ import annotations

from datetime import datetime

from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.away import handle_away
from bot.services.chat import ChatError, Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.publishing import Blocked, Confirmation, Publishing, PublishNotConfirmed, PublishPlan
from bot.services.week_report import WeekReport
from bot.text import i18n, messages
from bot.text.catalogue import say

_WITH_WEEK = ("preview", "publish", "missing", "status", "answer")
_CONFIRM = ("confirm", "确认")
_EMPTY = ("empty", "空")


class Commands:
    def __init__(self, ctx: Context, week_report: WeekReport, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.week_report, self.cycle = week_report, cycle
        self.publishing = Publishing(ctx, week_report, cycle)

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
        if sub == "publish":
            return self._publish(person.id, words[1:], at)
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
        # missing
        report = self.week_report.compile(week, at)
        return Reply(messages.missing_list(week.label, report.missing, loc,
                                           [p.name for p in self.week_report.unanswered_incident_question(week)],
                                           [a for a in report.actions if a.state == "overdue"]))

    def _publish(self, person_id: str, args: list[str], at: datetime) -> Reply:
        """`/zhoubao publish [week] [confirm [empty]]`: without `confirm`, what a publish would do and the
        command that confirms it (naming the week, so a confirmation never lands on another week)."""
        loc = self.ctx.locale
        if not self.ctx.team.is_editor(person_id):
            return Reply(messages.refused(loc), ok=False)
        lowered = [a.lower() for a in args]
        label = next((a for a in args if a.lower() not in (*_CONFIRM, *_EMPTY)), None)
        week = self.week(label, at)
        if isinstance(week, Reply):
            return week
        confirmation = (Confirmation.NONE if not any(a in _CONFIRM for a in lowered)
                        else Confirmation.EMPTY if any(a in _EMPTY for a in lowered) else Confirmation.WEEK)
        try:
            result = self.publishing.publish(week, confirmation, at)
        except PublishNotConfirmed as exc:
            return Reply(self.publish_question(exc.plan, exc.blocked), ok=False)
        except ChatError as exc:
            return self.cycle.failures.refused(exc)
        return Reply(messages.published(result.week, result.updated, loc))

    def publish_question(self, plan: PublishPlan, blocked: Blocked | None) -> str:
        """The chat's answer to a publish not (yet) confirmed: what it would do and how to confirm it."""
        loc = self.ctx.locale
        named = i18n.week_span(plan.week.label, plan.first_day, plan.last_day, loc)
        if blocked is Blocked.NOT_STARTED:
            return messages.publish_not_started(named, plan.first_day, self.ctx.week_of(self.ctx.now()).label, loc)
        lines = [messages.publish_plan(named, plan.channel, plan.posted_at, loc)]
        if blocked is Blocked.EMPTY:
            lines += [say(loc, "publish.empty", week=named), say(loc, "publish.confirm_empty_chat", label=plan.week.label)]
        else:
            lines.append(say(loc, "publish.confirm_chat", label=plan.week.label))
        return "\n".join(lines)
