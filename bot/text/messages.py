"""What the bot says to people: sentences composed from the catalogue (`bot/text/catalogue/`).

Pure functions of domain values and a locale; no word is written here, only how sentences are put
together (a prompt's lines, a list of who is missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.domain.compile import missing_by_person
from bot.domain.incident_question import LoggedIncident, Question
from bot.domain.incidents import format_headline
from bot.domain.prompts import PromptAction, PromptItem
from bot.domain.report import ActionLine, Missing
from bot.domain.weeks import WeekLabelError, WeekOutsideWindow
from bot.text import i18n
from bot.text.catalogue import listing, say, words


def when(at: datetime, locale: str) -> str:
    """`6月28日（周五）17:00` / `Fri Jun 28 17:00`."""
    w = words(locale)
    return w["date.when"].format(month=w["date.months"].split()[at.month - 1], day=at.day,
                                 weekday=w["date.weekdays"].split()[at.weekday()], time=f"{at:%H:%M}")


def _quote(text: str, limit: int = 300) -> str:
    short = text if len(text) <= limit else text[:limit] + " …"
    return "\n".join("    > " + line for line in short.split("\n"))


def prompt_text(kind: str, week: str, items: Sequence[PromptItem], deadline: datetime, locale: str,
                incidents: Question | None = None, actions: Sequence[PromptAction] = (), *,
                published: bool = False) -> str:
    """A prompt (or, with kind "remind", a reminder): the items with last week's and this week's answers,
    then the incident question when there is one. A reminder of a `published` week says the report is out
    and that late answers still update it, instead of a deadline that has passed."""
    head = ("prompt.remind_published" if kind == "remind" and published
            else "prompt.remind_head" if kind == "remind" else "prompt.head")
    lines = [say(locale, head, week=week, deadline=when(deadline, locale)), ""]
    for it in items:
        lines.append(f"[{it.number}] {it.title}")
        if it.last_week:
            lines.append(say(locale, "prompt.last_week"))
            lines.append(_quote(it.last_week))
        if it.this_week:
            lines.append(say(locale, "prompt.this_week"))
            lines.append(_quote(it.this_week))
    if incidents is not None:
        lines.extend(question_lines(incidents, locale))
    if actions:
        lines.extend(action_lines(actions, locale))
    if items:  # a reminder of the incident question alone says how to answer it in the question
        lines.append("")
        lines.append(say(locale, "prompt.one_item") if len(items) == 1 else
                     say(locale, "prompt.many_items", name=items[-1].name))
    return "\n".join(lines)


def question_lines(q: Question, locale: str) -> list[str]:
    """The incident question as a prompt shows it: `[n] 生产事件`, the week's logged incidents, the ask."""
    lines = [f"[{q.number}] {say(locale, 'question.title')}"]
    if q.logged:
        lines.append(say(locale, "question.logged_head"))
        lines += [logged_line(i, locale) for i in q.logged]
    else:
        lines.append(say(locale, "question.logged_none"))
    if q.answer is not None:
        lines.append(say(locale, f"question.answered_{q.answer}"))
    lines.append(say(locale, "question.ask", number=q.number))
    return lines


def action_lines(actions: Sequence[PromptAction], locale: str) -> list[str]:
    """A person's open action items as a prompt lists them, each `[n] 行动项 A7：…`, then how to answer."""
    lines = [say(locale, "prompt.action_line", n=a.number, number=a.action.number, text=a.action.text,
                 incident=a.action.incident, due=f"{a.action.due:%m/%d}",
                 overdue=say(locale, "prompt.action_overdue") if a.action.overdue else "") for a in actions]
    return [*lines, say(locale, "followup.answer_usage")]


def logged_line(i: LoggedIncident, locale: str) -> str:
    """`    #1 06/27 20:05 gateway-api节点CPU打满`: time, system, headline and id of a logged incident."""
    return say(locale, "question.logged_line", number=i.number, day=f"{i.started_at:%m/%d}",
               time=f"{i.started_at:%H:%M}", headline=format_headline(i.system, i.what))


def stored(titles: Sequence[str], locale: str, progress: Sequence[str] = ()) -> str:
    if progress:
        return say(locale, "answer.stored_progress", items=listing(locale, titles),
                   progress=words(locale)["answer.progress_sep"].join(progress))
    return say(locale, "answer.stored", items=listing(locale, titles))


def unknown_banks(names: Sequence[str], locale: str) -> str:
    """Banks an owner named that the team file does not list: kept as text, and how to add one."""
    return say(locale, "answer.unknown_banks", names=listing(locale, names), example=names[0] if names else "…")


def not_owned(names: Sequence[str], owners: Sequence[str], locale: str) -> str:
    pairs = [say(locale, "answer.not_owned_pair", name=n, owner=o) for n, o in zip(names, owners, strict=True)]
    return say(locale, "answer.not_owned", pairs=listing(locale, pairs))


def ask_which(items: Sequence[PromptItem], locale: str) -> str:
    return say(locale, "answer.ask_which", listing="\n".join(f"[{it.number}] {it.title}" for it in items))


def nothing_to_answer(locale: str) -> str:
    return say(locale, "answer.nothing_to_answer")


def empty(locale: str) -> str:
    return say(locale, "answer.empty")


def too_long(length: int, limit: int, locale: str) -> str:
    return say(locale, "answer.too_long", length=length, limit=limit)


def bad_metric(name: str, unit: str, locale: str) -> str:
    return say(locale, "answer.bad_metric", name=name, unit=unit)


def not_member(locale: str) -> str:
    return say(locale, "answer.not_member")


def after_publish(locale: str) -> str:
    return say(locale, "answer.after_publish")


def deleted(titles: Sequence[str], locale: str) -> str:
    return say(locale, "answer.deleted", items=listing(locale, titles))


# A person's line names their open items when they are few (at most NAMED_UP_TO) and the list is short (at
# most NAMED_PEOPLE_UP_TO people); otherwise it counts them. At department scale the list is a roll call that
# fits a few chat messages (1,000 owners: about 25,000 characters); the dashboard and each person's own
# reminder name the items.
NAMED_UP_TO = 3
NAMED_PEOPLE_UP_TO = 50


def missing_list(week: str, missing: Sequence[Missing], locale: str, unanswered: Sequence[str] = (),
                 overdue: Sequence[ActionLine] = ()) -> str:
    """Who has not answered, one line per person with their open items counted (named when few: see
    NAMED_UP_TO), then (apart, since it is no item of the report) who has not answered the incident question,
    and the overdue action items with their owners (issue 23)."""
    tail = [] if not unanswered else \
        [say(locale, "question.missing", count=len(unanswered), people=listing(locale, unanswered))] \
        if len(unanswered) <= NAMED_PEOPLE_UP_TO else [say(locale, "missing.question_counted", count=len(unanswered))]
    if overdue:
        tail += [say(locale, "notice.overdue_head")] + [
            say(locale, "notice.overdue_line", number=a.number, text=a.text, owner=a.owner, due=f"{a.due:%m/%d}")
            for a in overdue]
    if not missing:
        return "\n".join([say(locale, "command.missing_items_none" if tail else "command.missing_none", week=week),
                          *tail])
    people = missing_by_person(missing)
    lines = [say(locale, "missing.head", week=week, count=len(missing), people=len(people))]
    for p in people:
        if p.count <= NAMED_UP_TO and len(people) <= NAMED_PEOPLE_UP_TO:
            lines.append(say(locale, "missing.person_named", person=p.person, count=p.count,
                             items=listing(locale, p.item_titles)))
        else:
            lines.append(say(locale, "missing.person_counted", person=p.person, count=p.count))
    return "\n".join(lines + tail)


def refused(locale: str) -> str:
    return say(locale, "command.refused")


def published(week: str, updated: bool, locale: str) -> str:
    return say(locale, "command.updated" if updated else "command.published", week=week)


def publish_plan(week: str, channel: str, posted_at: datetime | None, locale: str) -> str:
    """What a publish will do: a first post of `week` (named with its dates) to `channel`, or an edit of
    the post of `posted_at`."""
    if posted_at is None:
        return say(locale, "publish.first", week=week, channel=channel)
    return say(locale, "publish.edit", week=week, channel=channel, at=i18n.format_datetime(posted_at, locale))


def publish_not_started(week: str, start: date, current: str, locale: str) -> str:
    return say(locale, "publish.not_started", week=week, start=i18n.format_date(start, locale), current=current)


def help_text(locale: str) -> str:
    return say(locale, "command.help")


# ----- first week: what the bot understood, a week it did not run ------------------------------


def understood(name: str, progress: str | None, main_problem: str | None, unread: Sequence[str],
               locale: str) -> str | None:
    """What the bot read out of one item's answer, for the confirmation, so the owner can correct it:
    progress, main problem, and percentages it did not take as progress. None when there is nothing."""
    said: list[str] = []
    if progress is not None:
        said.append(say(locale, "answer.understood_progress", value=progress))
    if main_problem:
        short = main_problem if len(main_problem) <= 40 else main_problem[:40] + "…"
        said.append(say(locale, "answer.understood_problem", text=short))
    if progress is None and unread:
        said.append(say(locale, "answer.understood_not_progress", figures=listing(locale, unread), last=unread[-1]))
    if not said:
        return None
    return f"{name} " + words(locale)["answer.understood_sep"].join(said)


def not_published_unprompted(week: str, locale: str) -> str:
    """To the editors when the scheduled publish skips a week in which no prompt went out."""
    return say(locale, "cycle.not_published_unprompted", week=week)


def bad_week(label: str, problem: WeekLabelError, locale: str) -> str:
    """Why `label` cannot be used: not a week, or a week outside the team's window (naming the window)."""
    if isinstance(problem, WeekOutsideWindow):
        return say(locale, "command.week_outside", value=problem.week.label, first=problem.window.first.label,
                   last=problem.window.last.label)
    return say(locale, "command.bad_week", value=label.strip())
