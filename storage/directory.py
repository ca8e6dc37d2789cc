"""Teams, people, weeks and the prompts sent to people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import PersonRow, PromptRow, TeamRow, WeekRow


@dataclass(frozen=True)
class PersonSpec:
    key: str
    display_name: str
    slack_user_id: str | None = None
    feishu_open_id: str | None = None
    email: str | None = None


class Directory:
    def __init__(self, session: Session) -> None:
        self.s = session

    # ----- teams and people ---------------------------------------------

    def team(self, name: str) -> TeamRow | None:
        return self.s.scalars(select(TeamRow).where(TeamRow.name == name)).first()

    def team_names(self) -> list[str]:
        return list(self.s.scalars(select(TeamRow.name).order_by(TeamRow.id)))

    def other_team_names(self, name: str) -> list[str]:
        """The teams stored beside `name`, oldest first."""
        return list(self.s.scalars(select(TeamRow.name).where(TeamRow.name != name).order_by(TeamRow.id)))

    def ensure_team(self, name: str, now: datetime) -> TeamRow:
        row = self.team(name)
        if row is None:
            self._insert_racing(TeamRow(name=name, created_at=now, incident_seq=0))
            row = self.team(name)
            assert row is not None
        return row

    def _insert_racing(self, row: TeamRow | WeekRow) -> None:
        """Insert under a savepoint; if another thread or instance inserted the same row first, keep theirs."""
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            pass

    def sync_people(self, team_id: int, people: Iterable[PersonSpec]) -> dict[str, int]:
        """Upsert the team file's people; returns person key -> row id. Nobody is deleted (history keeps them)."""
        rows = {r.key: r for r in self.s.scalars(select(PersonRow).where(PersonRow.team_id == team_id))}
        for p in people:
            row = rows.get(p.key)
            if row is None:
                row = PersonRow(team_id=team_id, key=p.key, display_name=p.display_name, platform_ids={})
                self.s.add(row)
                rows[p.key] = row
            if row.email != p.email:  # an id looked up by the old email is not this person's any more
                row.platform_ids = {}
            row.display_name = p.display_name
            row.slack_user_id = p.slack_user_id
            row.feishu_open_id = p.feishu_open_id
            row.email = p.email
        self.s.flush()
        return {k: r.id for k, r in rows.items()}

    def people(self, team_id: int) -> dict[int, PersonRow]:
        return {r.id: r for r in self.s.scalars(select(PersonRow).where(PersonRow.team_id == team_id))}

    def person(self, team_id: int, key: str) -> PersonRow | None:
        return self.s.scalars(select(PersonRow).where(PersonRow.team_id == team_id, PersonRow.key == key)).first()

    def platform_ids(self, team_id: int, platform: str) -> dict[str, str]:
        """Person key -> the id `platform` gave for their email, for everyone who has one."""
        rows = self.s.execute(select(PersonRow.key, PersonRow.platform_ids).where(PersonRow.team_id == team_id))
        return {key: ids[platform] for key, ids in rows if ids and ids.get(platform)}

    def set_platform_id(self, person_id: int, platform: str, value: str | None) -> None:
        """Keep (or, with None, forget) the id `platform` gave for the person's email."""
        row = self.s.get(PersonRow, person_id)
        if row is None or row.platform_ids.get(platform) == value:
            return
        ids = {k: v for k, v in row.platform_ids.items() if k != platform}
        row.platform_ids = {**ids, platform: value} if value else ids

    # ----- weeks ----------------------------------------------------------

    def week(self, team_id: int, label: str) -> WeekRow | None:
        return self.s.scalars(select(WeekRow).where(WeekRow.team_id == team_id, WeekRow.label == label)).first()

    def first_week_label(self, team_id: int) -> str | None:
        """The earliest week the team holds anything for (labels sort as weeks: `YYYY-Www`), or None."""
        return self.s.scalar(select(WeekRow.label).where(WeekRow.team_id == team_id)
                             .order_by(WeekRow.label).limit(1))

    def ensure_week(self, team_id: int, label: str) -> WeekRow:
        row = self.week(team_id, label)
        if row is None:
            self._insert_racing(WeekRow(team_id=team_id, label=label))
            row = self.week(team_id, label)
            assert row is not None
        return row

    def open_week(self, team_id: int, label: str, at: datetime) -> WeekRow:
        """The week's row, marked opened at `at` unless it was opened before."""
        row = self.ensure_week(team_id, label)
        if row.opened_at is None:
            row.opened_at = at
            self.s.flush()
        return row

    # ----- prompts --------------------------------------------------------

    def prompt(self, team_id: int, week_id: int, person_id: int, kind: str, platform: str) -> PromptRow | None:
        return self.s.scalars(select(PromptRow).where(
            PromptRow.team_id == team_id, PromptRow.week_id == week_id, PromptRow.person_id == person_id,
            PromptRow.kind == kind, PromptRow.platform == platform)).first()

    def sent_prompts(self, team_id: int, week_id: int, kind: str, platform: str) -> set[int]:
        """Person row ids already sent a `kind` prompt this week on `platform`."""
        return set(self.s.scalars(select(PromptRow.person_id).where(
            PromptRow.team_id == team_id, PromptRow.week_id == week_id, PromptRow.kind == kind,
            PromptRow.platform == platform, PromptRow.sent_at.is_not(None))))

    def add_prompt(self, row: PromptRow) -> PromptRow:
        self.s.add(row)
        self.s.flush()
        return row

    def prompts_of_week(self, team_id: int, week_id: int) -> list[PromptRow]:
        return list(self.s.scalars(select(PromptRow).where(
            PromptRow.team_id == team_id, PromptRow.week_id == week_id).order_by(PromptRow.id)))

    def any_prompt_sent(self, team_id: int, week_id: int) -> bool:
        """Whether any prompt or reminder of the week reached its person."""
        return self.s.scalars(select(PromptRow.id).where(
            PromptRow.team_id == team_id, PromptRow.week_id == week_id, PromptRow.sent_at.is_not(None))
            .limit(1)).first() is not None

    def latest_prompt(self, team_id: int, person_id: int, platform: str) -> PromptRow | None:
        return self.s.scalars(select(PromptRow).where(
            PromptRow.team_id == team_id, PromptRow.person_id == person_id, PromptRow.platform == platform,
            PromptRow.kind == "prompt").order_by(PromptRow.created_at.desc(), PromptRow.id.desc()).limit(1)).first()

    def prompt_by_message(self, team_id: int, platform: str, message_id: str) -> PromptRow | None:
        return self.s.scalars(select(PromptRow).where(
            PromptRow.team_id == team_id, PromptRow.platform == platform,
            PromptRow.message_id == message_id)).first()

    def week_by_id(self, week_id: int) -> WeekRow | None:
        return self.s.get(WeekRow, week_id)

    def week_label(self, week_id: int) -> str:
        row = self.week_by_id(week_id)
        return row.label if row else ""
