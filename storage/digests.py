"""The week's key points as stored: one row per (team, week), found through the (team, week) index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DigestRow


class DigestStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, team_id: int, week_id: int) -> DigestRow | None:
        return self.s.scalars(select(DigestRow).where(
            DigestRow.team_id == team_id, DigestRow.week_id == week_id)).first()

    def ensure(self, team_id: int, week_id: int, at: datetime) -> DigestRow:
        """The week's row, created empty ("missing") when there is none yet."""
        row = self.get(team_id, week_id)
        if row is None:
            row = DigestRow(team_id=team_id, week_id=week_id, state="missing", lines=[], dropped=[], host="",
                            model="", settings={}, facts_hash="", prepared_at=at, off=False)
            self.s.add(row)
            self.s.flush()
        return row

    def save_prepared(self, team_id: int, week_id: int, at: datetime, *, state: str, lines: list[dict[str, object]],
                      dropped: list[dict[str, object]], error: str | None, host: str, model: str,
                      settings: dict[str, object], facts_hash: str, tokens_in: int | None, tokens_out: int | None,
                      duration_ms: int | None) -> DigestRow:
        """Record a new preparation; the editor's approval, their off switch and what was told stay."""
        row = self.ensure(team_id, week_id, at)
        row.state, row.lines, row.dropped, row.error = state, lines, dropped, error
        row.host, row.model, row.settings, row.facts_hash = host, model, settings, facts_hash
        row.tokens_in, row.tokens_out, row.duration_ms, row.prepared_at = tokens_in, tokens_out, duration_ms, at
        self.s.flush()
        return row

    def approve(self, row: DigestRow, lines: list[dict[str, object]] | None, by: str | None,
                at: datetime | None) -> None:
        """The editor's approved lines (None withdraws the approval)."""
        row.approved, row.approved_by, row.approved_at = lines, by, at
        self.s.flush()

    def turn_off(self, row: DigestRow, off: bool) -> None:
        row.off = off
        self.s.flush()

    def mark_told(self, row: DigestRow, at: datetime) -> None:
        row.told_at = at
        self.s.flush()

    def mark_published(self, row: DigestRow, lines: list[dict[str, object]], at: datetime) -> None:
        row.published, row.published_at = lines, at
        self.s.flush()
