"""`/zhoubao <subcommand>`: one command for everything else, the same on every platform."""

from __future__ import annotations

from datetime import datetime

from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.away import handle_away
from bot.services.chat import Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.text import messages


class Commands:
    def __init__(self, ctx: Context, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.cycle = cycle

    def handle(self, platform: str, user: str, text: str, at: datetime) -> Reply:
        loc = self.ctx.locale
        person = self.ctx.person(user)
        if person is None:
            return Reply(messages.not_member(loc), ok=False)
        words = text.split()
        sub = words[0].lower() if words else "help"
        week = self.ctx.week_of(at)
        if len(words) > 1 and sub in ("preview", "publish", "missing", "status"):
            try:
                week = IsoWeek.parse(words[1])
            except WeekLabelError as exc:
                return Reply(str(exc), ok=False)
        if sub == "status":
            items = self.cycle.prompt_items(person.id, week)
            if not items:
                return Reply(messages.nothing_to_answer(loc))
            zh = loc != "en"
            lines = [f"{week.label} {'我的条目' if zh else 'your items'}:"]
            for it in items:
                mark = "✅" if it.this_week else "⬜"
                lines.append(f"{mark} [{it.number}] {it.title}")
            return Reply("\n".join(lines))
        if sub == "preview":
            return Reply(self.cycle.render(self.cycle.compile(week, at)).markdown)
        if sub == "missing":
            return Reply(messages.missing_list(week.label, self.cycle.compile(week, at).missing, loc))
        if sub == "publish":
            if not self.ctx.team.is_editor(person.id):
                return Reply(messages.refused(loc), ok=False)
            result = self.cycle.publish(week, at)
            return Reply(messages.published(result.week, result.updated, loc))
        if sub == "answer":
            items = self.cycle.prompt_items(person.id, week)
            if not items:
                return Reply(messages.nothing_to_answer(loc))
            return Reply(messages.prompt_text("prompt", week.label, items, self.cycle.deadline(week), loc))
        if sub == "away":
            return handle_away(self.ctx, person.id, text.strip()[len(words[0]):], at)
        return Reply(messages.help_text(loc), ok=sub == "help")
