"""Forms, whatever platform shows them: answer forms go to the inbox, incident forms to the incident desk.

Adapters map their widgets to `AnswerForm` / `IncidentForm` and call this service; everything a form
means — which fields it has, how progress and a main problem are written into the answer, what a bad
start time is and what the person is told — is decided here, once, for every platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.forms import (
    AnswerForm,
    FormProblem,
    IncidentForm,
    QuestionForm,
    incident_changes,
    incident_draft,
    read_progress,
)
from bot.domain.incidents import IncidentCommand
from bot.domain.weeks import IsoWeek
from bot.services.chat import Reply
from bot.services.commands import Commands
from bot.services.context import Context
from bot.services.inbox import Inbox
from bot.services.incident_desk import IncidentDesk, IncidentOutcome
from bot.text import messages
from bot.text.catalogue import say


class Forms:
    def __init__(self, ctx: Context, inbox: Inbox, incidents: IncidentDesk, commands: Commands) -> None:
        self.ctx = ctx
        self.inbox = inbox
        self.incidents = incidents
        self.commands = commands

    # ----- the answer form -----------------------------------------------------------------

    def open_answers(self, user: str, week_label: str | None, at: datetime) -> Reply:
        """What to show for "open the answer form of `week_label`": a Reply carrying the Prompt, or why not."""
        return self.commands.answer(user, week_label, at)

    def submit_answers(self, platform: str, user: str, source_id: str, week_label: str | None,
                       answers: Sequence[AnswerForm], at: datetime, question: QuestionForm | None = None) -> Reply:
        """Store a submitted answer form: each item's text, with its progress and main problem written
        the way replies state them (`进度：60%`, `主要问题：…`), replaces what was said about that item.
        An item whose progress is not a percentage is kept in the stored message but not applied.
        The incident question's part, when filled in, is answered as a message to it would be."""
        loc = self.ctx.locale
        person = self.ctx.person(user)
        if person is None:
            return Reply(messages.not_member(loc), ok=False)
        week = self.commands.week(week_label, at)
        if isinstance(week, Reply):
            return week
        replies = [self._items(platform, user, source_id, week, answers, at)] if answers or question is None else []
        if question is not None and (question.nothing_to_add or question.text.strip()):
            q = self.inbox.question
            replies.append(q.nothing_to_add(person, week, platform, f"{source_id}:q", at) if question.nothing_to_add
                           else q.answer(person, week, question.text, platform, f"{source_id}:q", at))
        if not replies:
            return Reply("", ok=True)
        return Reply("\n".join(r.text for r in replies if r.text), ok=all(r.ok for r in replies),
                     stored_items=tuple(k for r in replies for k in r.stored_items))

    def nothing_to_add(self, platform: str, user: str, source_id: str, week_label: str | None,
                       at: datetime) -> Reply:
        """The one-click "nothing to add" to the incident question of `week_label` (default: this week)."""
        person = self.ctx.person(user)
        if person is None:
            return Reply(messages.not_member(self.ctx.locale), ok=False)
        week = self.commands.week(week_label, at)
        if isinstance(week, Reply):
            return week
        return self.inbox.question.nothing_to_add(person, week, platform, source_id, at)

    def _items(self, platform: str, user: str, source_id: str, week: IsoWeek, answers: Sequence[AnswerForm],
               at: datetime) -> Reply:
        loc = self.ctx.locale
        texts: dict[str, str] = {}
        held: dict[str, str] = {}
        for form in answers:
            lines = [form.text.strip()]
            try:
                progress = read_progress(form.progress)
                if progress is not None:
                    lines.append(say(loc, "answer.progress_line", value=format(progress.normalize(), "f")))
            except FormProblem as problem:
                item = self.ctx.team.item_by_key.get(form.item_key)
                lines.append(say(loc, "answer.progress_line", value=form.progress.strip()))
                held[form.item_key] = say(loc, problem.key, title=item.title if item else form.item_key,
                                          **problem.values)
            if form.main_problem.strip():
                lines.append(say(loc, "answer.problem_line", value=" ".join(form.main_problem.split())))
            texts[form.item_key] = "\n".join(line for line in lines if line)
        # A form shows every item of the person; one left blank that holds nothing this week was not
        # answered, so it is not part of what was said (an item that held text is cleared by a blank).
        stored = self.inbox.week_report.facts(week, answers_only=True)
        said = {key: text for key, text in texts.items()
                if text or key in stored.entries or key in stored.banks or key in stored.metrics}
        if not said and texts:
            said = texts  # nothing at all was filled in: still one stored, empty submission
        return self.inbox.submit_form(platform, user, source_id, said, at, week, held=held)

    # ----- the incident form ------------------------------------------------------------------

    def open_incident(self, user: str) -> Reply:
        """Whether `user` may open the incident form: an ok Reply, or the one saying why not."""
        if not self.incidents.may_report(user):
            return Reply(messages.not_member(self.ctx.locale), ok=False)
        return Reply("")

    def submit_incident(self, platform: str, user: str, source_ref: str, form: IncidentForm,
                        at: datetime, *, for_question: str | None = None) -> IncidentOutcome:
        """File the incident a form describes (or, with `form.number`, change the fields it fills in).
        A field that cannot be read files nothing and says which, in the same words on every platform.
        `for_question`: the week whose incident question the form was opened from; filing answers it."""
        loc = self.ctx.locale
        if not self.incidents.may_report(user):
            return IncidentOutcome(Reply(messages.not_member(loc), ok=False))
        who = self.incidents.who(platform, user)
        now = at.astimezone(self.ctx.team.zone)
        severities = self.ctx.team.incidents.severities
        try:
            if form.number is not None:
                changes = incident_changes(form, now=now, severities=severities,
                                           causes=self.ctx.team.cause_book)
                return self.incidents.change(IncidentCommand("edit", number=form.number, changes=changes),
                                             who, now)
            draft = incident_draft(form, now=now, severities=severities, causes=self.ctx.team.cause_book)
        except FormProblem as problem:
            return IncidentOutcome(Reply(say(loc, problem.key, **problem.values), ok=False))
        outcome = self.incidents.add(draft, who, platform, source_ref, now)
        self.incidents.announce(outcome)
        week = self.commands.week(for_question, at) if for_question else None
        person = self.ctx.person(user)  # only an owner is asked the question; anyone may file
        if isinstance(week, IsoWeek) and person is not None:
            self.inbox.question.filed(person, week, outcome.number, platform, f"{source_ref}:q", at)
        return outcome
