"""Inbound answers: store every message as received, route it to items, keep the current values derived.

Nothing typed is lost: the message row is written before anything is interpreted, and an edit or a
deletion is a revision, not an overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.action_items import action_number
from bot.domain.incident_question import KEY as QUESTION_KEY
from bot.domain.incident_question import named_answer
from bot.domain.prompts import PromptItem
from bot.domain.replies import (
    MAX_REPLY_CHARS,
    bank_stage,
    item_prefix,
    item_text,
    normalize_text,
    parse_entry,
    parse_metric_value,
    percentages,
    route_reply,
)
from bot.domain.team import Item, ItemKind, Person
from bot.domain.weeks import IsoWeek
from bot.services.chat import Inbound, Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.follow_ups import FollowUps
from bot.services.incident_question import IncidentQuestion
from bot.text import messages
from bot.text.catalogue import say
from storage.answers import Answers, NewMessage
from storage.db import transaction
from storage.directory import Directory
from storage.models import AnswerMessageRow


class Inbox:
    def __init__(self, ctx: Context, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.cycle = cycle
        self.week_report = cycle.week_report
        self.question = IncidentQuestion(ctx, cycle)
        self.follow_ups = FollowUps(ctx, cycle)
        # Week label -> its row's id. A week's row is never deleted (a restore needs the bot stopped), so an
        # id found committed is kept: every answer looked its week up (bench/week.py, issue 21).
        self._week_ids: dict[str, int] = {}

    # ----- new messages ------------------------------------------------------

    def receive(self, msg: Inbound) -> Reply | None:
        """Store and apply one message; returns what to answer the sender (None for a redelivery)."""
        loc = self.ctx.locale
        person = self.ctx.person(msg.user)
        if person is None:
            return Reply(messages.not_member(loc), ok=False)
        number, body = item_prefix(msg.text)
        text = normalize_text(body)
        mine = self.ctx.team.items_of(person.id)
        with transaction(self.ctx.db) as s:
            answers, d = Answers(s), Directory(s)
            if answers.seen(self.ctx.team_id, msg.platform, msg.source_id):
                # the platform delivered it again (already stored), or it was deleted before it arrived
                # (see `delete`): nothing to store, nothing to say
                return None
            week, target, special = self._week_and_target(d, person, msg.at, msg.platform, msg.thread_id, number, mine)
            action = action_number(special or "")
            asked = special == QUESTION_KEY
            question = text if asked else None if action is not None else \
                self._named_question_answer(text, number, person, mine)
            week_id = self._week_id(d, week)
            row = answers.add_message(NewMessage(
                team_id=self.ctx.team_id, week_id=week_id, person_id=self.ctx.person_ids[person.id],
                platform=msg.platform, source_id=msg.source_id, text=body.replace("\x00", ""), at=msg.at,
                thread_id=msg.thread_id,
                target_item=QUESTION_KEY if question is not None else special if action is not None
                else target.key if target else None))
            if not text:
                return Reply(messages.empty(loc), ok=False)
            if len(text) > MAX_REPLY_CHARS:
                return Reply(messages.too_long(len(text), MAX_REPLY_CHARS, loc), ok=False)
            if question is None and action is None and not mine:
                return Reply(messages.nothing_to_answer(loc), ok=False)
            if question is None and action is None:
                reply = self._apply(answers, row, text, mine, target, msg.at)
        if action is not None:  # an answer about an action item (issue 23): its own transaction
            return self.follow_ups.answer(person.id, action, text, f"{msg.platform}:{msg.user}", msg.at)
        if question is not None:  # after the message is committed: filing an incident is its own transaction
            return self.question.answer(person, week, question, msg.platform, msg.source_id, msg.at)
        if reply.stored_items:
            self.ctx.metrics.answer_received(msg.platform)
        if reply.stored_items and self.cycle.refresh_if_published(week, msg.at):
            reply = Reply(reply.text + "\n" + messages.after_publish(loc), reply.ok, reply.stored_items)
        return reply

    def _week_id(self, d: Directory, week: IsoWeek) -> int:
        """The id of `week`'s row, which is added if there is none. Called before anything else is written in
        the unit of work, so a row found there is committed (one added here is not kept: its unit may roll
        back)."""
        known = self._week_ids.get(week.label)
        if known is not None:
            return known
        row = d.week(self.ctx.team_id, week.label)
        if row is None:
            return d.ensure_week(self.ctx.team_id, week.label).id
        self._week_ids[week.label] = row.id
        return row.id

    def unreadable(self) -> Reply:
        """What to answer a message the bot cannot read (an image, a sticker, a file)."""
        return Reply(say(self.ctx.locale, "answer.only_text"), ok=False)

    def _week_and_target(self, d: Directory, person: Person, at: datetime, platform: str, thread_id: str | None,
                         number: int | None, mine: list[Item]) -> tuple[IsoWeek, Item | None, str | None]:
        """A reply to a prompt belongs to the prompt's week; `[n]` (`number`) picks from the latest prompt's
        items, or its incident question or one of its action items (then the third value is that key)."""
        week = self.ctx.week_of(at)
        target: Item | None = None
        prompt = None
        if thread_id:
            prompt = d.prompt_by_message(self.ctx.team_id, platform, thread_id)
            if prompt is not None:
                row = d.week_by_id(prompt.week_id)
                if row is not None:
                    week = IsoWeek.parse(row.label)
                items = [k for k in prompt.item_keys if not k.startswith("@")]
                if len(items) == 1:
                    target = self.ctx.team.item_by_key.get(items[0])
        if number is not None:
            prompt = prompt or d.latest_prompt(self.ctx.team_id, self.ctx.person_ids[person.id], platform)
            if prompt is not None and prompt.kind == "prompt":
                keys = list(prompt.item_keys)
            else:  # a reminder (or no prompt) numbers the items as the week's prompt did, the question last
                keys = self.week_report.numbered_keys(person.id)
            if 1 <= number <= len(keys):
                if keys[number - 1].startswith("@"):  # the question or an action item
                    return week, None, keys[number - 1]
                target = self.ctx.team.item_by_key.get(keys[number - 1])
        return week, target, None

    def _named_question_answer(self, text: str, number: int | None, person: Person, mine: list[Item]) -> str | None:
        """The answer in a `生产事件：…` message (the incident question answered by its name), unless the
        person is not asked it, the message chose an item by number, or the name is one of their items."""
        if number is not None or not self.week_report.asks_incidents(person.id):
            return None
        names = [n for n in say(self.ctx.locale, "question.names").split("|")
                 if not any(n.casefold() in (it.name.casefold(), *map(str.casefold, it.aliases)) for it in mine)]
        return named_answer(text, names)

    def _apply(self, answers: Answers, row: AnswerMessageRow, text: str, mine: list[Item], target: Item | None,
               at: datetime) -> Reply:
        loc = self.ctx.locale
        routing = route_reply(text, mine, target=target, team_items=self.ctx.team.items)
        pieces = [(p.item_key, p.text) for p in routing.pieces]
        touched = answers.replace_contributions(row, pieces)
        problems = self._recompute(answers, row.week_id, touched, at)
        stored_keys = tuple(dict.fromkeys(k for k, _ in pieces if k not in problems))
        parts: list[str] = []
        if stored_keys:
            titles = [self.ctx.team.item_by_key[k].title for k in stored_keys]
            progress = self._progress_notes(answers, row.week_id, stored_keys)
            parts.append(messages.stored(titles, loc, progress))
        parts.extend(problems.values())
        if routing.unknown_banks:
            parts.append(messages.unknown_banks(routing.unknown_banks, loc))
        if routing.not_owned:
            owners = [self._owner_name(n) for n in routing.not_owned]
            parts.append(messages.not_owned(routing.not_owned, owners, loc))
        if routing.unassigned.strip() and not routing.not_owned:
            items = [PromptItem(n, it.key, it.title, it.kind, it.name, None, None)
                     for n, it in enumerate(mine, start=1)]
            parts.append(messages.ask_which(items, loc))
        return Reply("\n".join(parts), ok=bool(stored_keys), stored_items=stored_keys)

    def _owner_name(self, item_name: str) -> str:
        for it in self.ctx.team.items:
            if it.name == item_name or item_name in it.aliases:
                return self.ctx.team.person_by_id[it.owner].name
        return "?"

    def _progress_notes(self, answers: Answers, week_id: int, keys: tuple[str, ...]) -> list[str]:
        notes = []
        for k in keys:
            row = answers.entry(self.ctx.team_id, week_id, k)
            if row is None:
                continue
            progress = format(row.progress.normalize(), "f") if row.progress is not None else None
            note = messages.understood(self.ctx.team.item_by_key[k].name, progress, row.main_problem,
                                       percentages(row.text or ""), self.ctx.locale)
            if note:
                notes.append(note)
        return notes

    # ----- edits, deletions, forms ---------------------------------------------

    def _authored(self, row: AnswerMessageRow | None, user: str | None) -> bool:
        """Only the author's own edits and deletions count (platform events carry the author)."""
        if row is None:
            return False
        if user is None:
            return True
        person = self.ctx.person(user)
        return person is not None and self.ctx.person_ids.get(person.id) == row.person_id

    def edit(self, platform: str, source_id: str, new_text: str, at: datetime, user: str | None = None, *,
             sent_at: datetime | None = None, thread_id: str | None = None) -> Reply | None:
        """A message was edited on the platform: keep the old text as history, re-apply the new one.

        An edit can arrive before its message (Slack and Feishu deliver out of order under retries): it is
        then taken as the message itself, sent at `sent_at` in `thread_id`, with the edited text. The late
        original finds its id stored and changes nothing (`receive` keeps one message per id), so the newer
        text stands; if the original never comes, the edit is the message."""
        with transaction(self.ctx.db) as s:
            known = Answers(s).message(self.ctx.team_id, platform, source_id) is not None
        if not known and user is not None:
            return self.receive(Inbound(platform=platform, user=user, source_id=source_id, text=new_text,
                                        at=sent_at or at, thread_id=thread_id))
        number, body = item_prefix(new_text)
        body = body.replace("\x00", "")
        with transaction(self.ctx.db) as s:
            answers = Answers(s)
            row = answers.message(self.ctx.team_id, platform, source_id)
            if row is None or not self._authored(row, user) or row.deleted_at is not None:
                return None
            person = self._person_key(row.person_id)
            mine = self.ctx.team.items_of(person)
            target_key = row.target_item
            if number is not None:  # the edit's `[n]`, read as the message's own was
                _, chosen, special = self._week_and_target(Directory(s), self.ctx.team.person_by_id[person],
                                                           row.received_at, platform, row.thread_id, number, mine)
                target_key = special or (chosen.key if chosen else row.target_item)
            if row.text == body and target_key == row.target_item:
                return None  # the same answer again (a link preview unfurling on it): nothing changed
            answers.edit_message(row, body, at, target_item=target_key)
            if row.target_item == QUESTION_KEY:
                return Reply(say(self.ctx.locale, "question.edit_not_reread"), ok=False)
            if action_number(row.target_item or "") is not None:
                return Reply(say(self.ctx.locale, "followup.edit_not_reread"), ok=False)
            target = self.ctx.team.item_by_key.get(row.target_item or "")
            text = normalize_text(body)
            if not text or len(text) > MAX_REPLY_CHARS:
                touched = answers.replace_contributions(row, [])
                self._recompute(answers, row.week_id, touched, at)
                reply = Reply(messages.empty(self.ctx.locale) if not text else
                              messages.too_long(len(text), MAX_REPLY_CHARS, self.ctx.locale), ok=False)
            else:
                reply = self._apply(answers, row, text, mine, target, at)
            week = Directory(s).week_label(row.week_id)
        self.cycle.refresh_if_published(IsoWeek.parse(week), at)
        return reply

    def delete(self, platform: str, source_id: str, at: datetime, user: str | None = None) -> Reply | None:
        """A message was deleted or recalled: what it stored goes away; the message stays in history.

        A deletion can arrive before its message (Slack and Feishu deliver out of order under retries): it
        is then kept as a tombstone, and the message, when it comes, is not stored (`receive`)."""
        with transaction(self.ctx.db) as s:
            answers = Answers(s)
            row = answers.message(self.ctx.team_id, platform, source_id)
            if row is None:
                answers.add_tombstone(self.ctx.team_id, platform, source_id, at)
                return None
            if not self._authored(row, user) or row.deleted_at is not None:
                return None
            answers.delete_message(row, at)
            asked = row.target_item == QUESTION_KEY
            touched = {c.item_key for c in answers.contributions_of(row.id)}
            self._recompute(answers, row.week_id, touched, at)
            week = Directory(s).week_label(row.week_id)
        if asked:  # an answer to the incident question: it no longer counts
            return self.question.withdraw(platform, source_id, at)
        self.cycle.refresh_if_published(IsoWeek.parse(week), at)
        titles = [self.ctx.team.item_by_key[k].title for k in sorted(touched) if k in self.ctx.team.item_by_key]
        return Reply(messages.deleted(titles, self.ctx.locale)) if titles else None

    def submit_form(self, platform: str, user: str, source_id: str, answers_by_item: Mapping[str, str],
                    at: datetime, week: IsoWeek | None = None,
                    held: Mapping[str, str] | None = None, *, any_item: bool = False) -> Reply:
        """A form (Slack modal, Feishu card, dashboard) replaces what was said about each item it names
        (the forms service calls this).

        `held` maps an item key to why its answer is not applied: its text is kept in the stored
        message, so nothing typed is lost, but not added to the report. `any_item`: an editor correcting
        someone else's item (the caller checked the role); the editor is stored as the author, and the
        owner's earlier text stays in the history.
        """
        held = held or {}
        loc = self.ctx.locale
        person = self.ctx.person(user)
        if person is None:
            return Reply(messages.not_member(loc), ok=False)
        mine = {it.key: it for it in (self.ctx.team.items if any_item else self.ctx.team.items_of(person.id))}
        not_mine = [k for k in answers_by_item if k not in mine]
        week = week or self.ctx.week_of(at)
        said = [(k, item_text(v, mine[k])) for k, v in answers_by_item.items() if k in mine]
        raw = "\n\n".join(f"{mine[k].title}:\n{v}" for k, v in said)
        pieces = [(k, v) for k, v in said if k not in held]
        with transaction(self.ctx.db) as s:
            answers = Answers(s)
            if answers.message(self.ctx.team_id, platform, source_id) is not None:
                return Reply("", ok=True)
            week_id = self._week_id(Directory(s), week)
            row = answers.add_message(NewMessage(
                team_id=self.ctx.team_id, week_id=week_id, person_id=self.ctx.person_ids[person.id],
                platform=platform, source_id=source_id, text=raw, at=at, via="form"))
            too_long = [k for k, v in pieces if len(v) > MAX_REPLY_CHARS]
            kept = [(k, v) for k, v in pieces if k not in too_long]
            for k, _ in kept:
                answers.supersede(self.ctx.team_id, week_id, k, at, keep_message_id=row.id)
            touched = answers.replace_contributions(row, [(k, v) for k, v in kept if v])
            touched |= {k for k, _ in kept}
            problems = self._recompute(answers, week_id, touched, at)
        stored = tuple(k for k, v in kept if v and k not in problems)
        if stored:
            self.ctx.metrics.answer_received(platform)
        parts = [messages.stored([mine[k].title for k in stored], loc)] if stored else []
        parts += list(problems.values())
        parts += [why for k, why in held.items() if k in mine]
        parts += [messages.too_long(len(dict(pieces)[k]), MAX_REPLY_CHARS, loc) for k in too_long]
        if not_mine:
            parts.append(messages.not_owned(not_mine, [self._owner_name(k) for k in not_mine], loc))
        if self.cycle.refresh_if_published(week, at):
            parts.append(messages.after_publish(loc))
        return Reply("\n".join(parts), ok=bool(stored) and not held, stored_items=stored)

    # ----- derived values --------------------------------------------------------

    def _recompute(self, answers: Answers, week_id: int, keys: set[str], at: datetime) -> dict[str, str]:
        """Rebuild each item's current value from its live contributions; returns problems by item key."""
        problems: dict[str, str] = {}
        for key in keys:
            item = self.ctx.team.item_by_key.get(key)
            if item is None:
                continue
            live = answers.live_contributions(self.ctx.team_id, week_id, key)
            author = live[-1][1] if live else None
            if item.kind is ItemKind.METRIC:
                value = parse_metric_value(live[-1][0].text, item.unit) if live else None
                if live and value is None:
                    problems[key] = messages.bad_metric(item.name, item.unit, self.ctx.locale)
                answers.set_metric(self.ctx.team_id, week_id, key, value, author_id=author, at=at)
            elif item.kind is ItemKind.BANK:
                note = live[-1][0].text if live else None
                answers.set_bank(self.ctx.team_id, week_id, key, note or None,
                                 stage=bank_stage(note) if note else None, author_id=author, at=at)
            else:
                joined = "\n".join(c.text for c, _ in live if c.text)
                parsed = parse_entry(joined) if joined else None
                answers.set_entry(self.ctx.team_id, week_id, key, parsed.text if parsed else None,
                                  progress=parsed.progress if parsed else None,
                                  main_problem=parsed.main_problem if parsed else None, author_id=author, at=at)
        return problems

    def _person_key(self, row_id: int) -> str:
        return next(k for k, v in self.ctx.person_ids.items() if v == row_id)
