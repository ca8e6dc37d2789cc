"""Answer messages with their history, what each contributed to which item, and the current values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar, cast

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from storage.models import (
    AnswerMessageRow,
    AnswerRevisionRow,
    BankStatusRow,
    ContributionRow,
    EntryRow,
    MessageTombstoneRow,
    MetricValueRow,
)

_Current = TypeVar("_Current", EntryRow, BankStatusRow, MetricValueRow)


@dataclass(frozen=True)
class NewMessage:
    team_id: int
    week_id: int
    person_id: int
    platform: str
    source_id: str
    text: str
    at: datetime
    via: str = "message"
    thread_id: str | None = None
    target_item: str | None = None


@dataclass(frozen=True)
class Revision:
    """One version of a message in its history: created, edited or deleted, with the text it had then."""

    change: str  # create | edit | delete
    text: str
    at: datetime


@dataclass(frozen=True)
class Piece:
    """What one message said about one item (a contribution, its text resolved)."""

    item_key: str
    text: str


class Answers:
    """Messages, their history and contributions, and the current values.

    A message's text is stored once: a revision or a contribution whose text is the message's current text
    holds NULL instead (issue 20 item 12: an import stored each answer four times, and its rendered report
    three more, so a 50 MB file grew the database by 420 MB). Before a message's text changes, the NULLs
    that meant the old text are given it (`_pin`); readers get the text resolved (`revisions`,
    `live_contributions`)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        # Within this unit of work: messages added (they have no contributions yet), and the current values
        # read or written, by (model, team, week, item); an answer writes its entry and then reads it back
        # for its reply, so each was read twice (bench/week.py, issue 21).
        self._added: set[int] = set()
        self._current_rows: dict[tuple[type, int, int, str], object] = {}

    def message(self, team_id: int, platform: str, source_id: str) -> AnswerMessageRow | None:
        return self.s.scalars(select(AnswerMessageRow).where(
            AnswerMessageRow.team_id == team_id, AnswerMessageRow.platform == platform,
            AnswerMessageRow.source_id == source_id)).first()

    def seen(self, team_id: int, platform: str, source_id: str) -> bool:
        """Whether this message is stored already, or was deleted before it arrived (`tombstoned`): one
        round trip, asked of every message received."""
        return any(self.s.execute(select(
            exists().where(AnswerMessageRow.team_id == team_id, AnswerMessageRow.platform == platform,
                           AnswerMessageRow.source_id == source_id),
            exists().where(MessageTombstoneRow.team_id == team_id, MessageTombstoneRow.platform == platform,
                           MessageTombstoneRow.source_id == source_id))).one())

    def tombstoned(self, team_id: int, platform: str, source_id: str) -> bool:
        """Whether a deletion of this message arrived before the message did."""
        return self.s.scalars(select(MessageTombstoneRow.id).where(
            MessageTombstoneRow.team_id == team_id, MessageTombstoneRow.platform == platform,
            MessageTombstoneRow.source_id == source_id)).first() is not None

    def add_tombstone(self, team_id: int, platform: str, source_id: str, at: datetime) -> None:
        """Remember that this message was deleted before it arrived (once: a second deletion changes nothing)."""
        if not self.tombstoned(team_id, platform, source_id):
            self.s.add(MessageTombstoneRow(team_id=team_id, platform=platform, source_id=source_id, deleted_at=at))
            self.s.flush()

    def add_message(self, m: NewMessage) -> AnswerMessageRow:
        row = AnswerMessageRow(team_id=m.team_id, week_id=m.week_id, person_id=m.person_id, platform=m.platform,
                               source_id=m.source_id, thread_id=m.thread_id, target_item=m.target_item, via=m.via, text=m.text,
                               received_at=m.at)
        self.s.add(row)
        self.s.flush()
        self._added.add(row.id)
        self.s.add(AnswerRevisionRow(team_id=m.team_id, week_id=m.week_id, message_id=row.id, change="create",
                                     text=None, at=m.at))  # the message's text
        return row

    def _pin(self, row: AnswerMessageRow) -> None:
        """The message's text is about to change: what said "the message's text" keeps the text it had."""
        for rev in self.s.scalars(select(AnswerRevisionRow).where(
                AnswerRevisionRow.message_id == row.id, AnswerRevisionRow.text.is_(None))):
            rev.text = row.text
        for c in self.s.scalars(select(ContributionRow).where(
                ContributionRow.message_id == row.id, ContributionRow.text.is_(None))):
            c.text = row.text

    def edit_message(self, row: AnswerMessageRow, text: str, at: datetime, *, target_item: str | None = None) -> None:
        """A new text (and the item its `[n]` now names, if given) for a stored message, kept as a revision."""
        if text != row.text:
            self._pin(row)
        row.text = text
        row.edited_at = at
        if target_item is not None:
            row.target_item = target_item
        self.s.add(AnswerRevisionRow(team_id=row.team_id, week_id=row.week_id, message_id=row.id, change="edit",
                                     text=None, at=at))

    def restore_message(self, row: AnswerMessageRow, text: str, at: datetime) -> None:
        """A deleted (or changed) message stated again, as an edit: it counts again with `text`."""
        row.deleted_at = None
        self.edit_message(row, text, at)

    def delete_message(self, row: AnswerMessageRow, at: datetime) -> None:
        row.deleted_at = at
        self.s.add(AnswerRevisionRow(team_id=row.team_id, week_id=row.week_id, message_id=row.id,
                                     change="delete", text=None, at=at))
        self.s.flush()

    def revisions(self, message_id: int) -> list[Revision]:
        """The message's history, oldest first, each version with its text."""
        self.s.flush()
        rows = self.s.execute(
            select(AnswerRevisionRow.change, func.coalesce(AnswerRevisionRow.text, AnswerMessageRow.text),
                   AnswerRevisionRow.at)
            .join(AnswerMessageRow, AnswerMessageRow.id == AnswerRevisionRow.message_id)
            .where(AnswerRevisionRow.message_id == message_id).order_by(AnswerRevisionRow.id))
        return [Revision(change, text, at) for change, text, at in rows]

    def messages_of_week(self, team_id: int, week_id: int) -> list[AnswerMessageRow]:
        return list(self.s.scalars(select(AnswerMessageRow).where(
            AnswerMessageRow.team_id == team_id, AnswerMessageRow.week_id == week_id).order_by(AnswerMessageRow.id)))

    # ----- contributions ----------------------------------------------------

    def contributions_of(self, message_id: int) -> list[ContributionRow]:
        return list(self.s.scalars(select(ContributionRow).where(ContributionRow.message_id == message_id)
                                   .order_by(ContributionRow.id)))

    def replace_contributions(self, msg: AnswerMessageRow, pieces: Sequence[tuple[str, str]]) -> set[str]:
        """Set what `msg` contributes, as (item_key, text) pieces; returns every item key touched."""
        touched: set[str] = set()
        for old in self.contributions_of(msg.id) if msg.id not in self._added else ():
            touched.add(old.item_key)
            self.s.delete(old)
        for key, text in pieces:
            touched.add(key)
            self.s.add(ContributionRow(team_id=msg.team_id, week_id=msg.week_id, message_id=msg.id,
                                       item_key=key, text=None if text == msg.text else text))
        self.s.flush()
        return touched

    def supersede_message(self, message_id: int, at: datetime) -> None:
        """What the message contributed stops counting (the message itself stays in history)."""
        for c in self.contributions_of(message_id):
            if c.superseded_at is None:
                c.superseded_at = at
        self.s.flush()

    def supersede(self, team_id: int, week_id: int, item_key: str, at: datetime, keep_message_id: int) -> None:
        """A form submission replaces everything said about the item before it."""
        for c in self.s.scalars(select(ContributionRow).where(
                ContributionRow.team_id == team_id, ContributionRow.week_id == week_id,
                ContributionRow.item_key == item_key, ContributionRow.superseded_at.is_(None),
                ContributionRow.message_id != keep_message_id)):
            c.superseded_at = at
        self.s.flush()

    def live_contributions(self, team_id: int, week_id: int, item_key: str) -> list[tuple[Piece, int]]:
        """(what each message said about the item, author person id), oldest first, from messages that are not
        deleted and not superseded."""
        rows = self.s.execute(
            select(ContributionRow.item_key, func.coalesce(ContributionRow.text, AnswerMessageRow.text),
                   AnswerMessageRow.person_id)
            .join(AnswerMessageRow, AnswerMessageRow.id == ContributionRow.message_id)
            .where(ContributionRow.team_id == team_id, ContributionRow.week_id == week_id,
                   ContributionRow.item_key == item_key, ContributionRow.superseded_at.is_(None),
                   AnswerMessageRow.deleted_at.is_(None))
            .order_by(AnswerMessageRow.received_at, AnswerMessageRow.id, ContributionRow.id))
        return [(Piece(key, text), pid) for key, text, pid in rows]

    # ----- current values -----------------------------------------------------

    def _current(self, model: type[_Current], team_id: int, week_id: int, item_key: str) -> _Current | None:
        at = (model, team_id, week_id, item_key)
        if at in self._current_rows:
            return cast("_Current | None", self._current_rows[at])
        row = self.s.scalars(select(model).where(
            model.team_id == team_id, model.week_id == week_id, model.item_key == item_key)).first()
        self._current_rows[at] = row
        return row

    def entry(self, team_id: int, week_id: int, item_key: str) -> EntryRow | None:
        return self._current(EntryRow, team_id, week_id, item_key)

    def bank(self, team_id: int, week_id: int, item_key: str) -> BankStatusRow | None:
        return self._current(BankStatusRow, team_id, week_id, item_key)

    def metric(self, team_id: int, week_id: int, item_key: str) -> MetricValueRow | None:
        return self._current(MetricValueRow, team_id, week_id, item_key)

    def clear_item(self, team_id: int, week_id: int, item_key: str) -> bool:
        """Remove the item's current value, whatever its kind; whether there was one."""
        removed = False
        self._current_rows.clear()
        for model in (EntryRow, BankStatusRow, MetricValueRow):
            for row in self.s.scalars(select(model).where(
                    model.team_id == team_id, model.week_id == week_id, model.item_key == item_key)):
                self.s.delete(row)
                removed = True
        self.s.flush()
        return removed

    def clear_week(self, team_id: int, week_id: int) -> None:
        """Remove every current value of the week (the messages and their history stay)."""
        self._current_rows.clear()
        for model in (EntryRow, BankStatusRow, MetricValueRow):
            for row in self.s.scalars(select(model).where(model.team_id == team_id, model.week_id == week_id)):
                self.s.delete(row)
        self.s.flush()

    def _put(self, model: type[_Current], team_id: int, week_id: int, item_key: str,
             values: dict[str, object] | None) -> None:
        """Upsert the item's current value, or remove it when `values` is None."""
        row = self._current(model, team_id, week_id, item_key)
        if values is None:
            if row is not None:
                self.s.delete(row)
                self.s.flush()
                self._current_rows[(model, team_id, week_id, item_key)] = None
            return
        if row is None:
            row = model(team_id=team_id, week_id=week_id, item_key=item_key)
            self.s.add(row)
            self._current_rows[(model, team_id, week_id, item_key)] = row
        for name, value in values.items():
            setattr(row, name, value)
        self.s.flush()

    def set_entry(self, team_id: int, week_id: int, item_key: str, text: str | None, *,
                  progress: Decimal | None, main_problem: str | None, author_id: int | None, at: datetime) -> None:
        self._put(EntryRow, team_id, week_id, item_key, None if text is None else {
            "text": text, "progress": progress, "main_problem": main_problem, "author_id": author_id,
            "updated_at": at})

    def set_bank(self, team_id: int, week_id: int, item_key: str, note: str | None, *,
                 stage: str | None, author_id: int | None, at: datetime) -> None:
        self._put(BankStatusRow, team_id, week_id, item_key, None if note is None else {
            "note": note, "stage": stage, "author_id": author_id, "updated_at": at})

    def set_metric(self, team_id: int, week_id: int, item_key: str, value: tuple[str, Decimal | None] | None, *,
                   author_id: int | None, at: datetime) -> None:
        """`value` is (the figure as written, its number); a figure stated in words ("暂无") has no number."""
        self._put(MetricValueRow, team_id, week_id, item_key, None if value is None else {
            "value_text": value[0], "value": value[1], "author_id": author_id, "updated_at": at})
