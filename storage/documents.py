"""The documents a report was published into, and the rows it wrote into tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DocumentRecordRow, PublishedDocumentRow


class PublishedDocuments:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, team_id: int, subject: str, target: str) -> PublishedDocumentRow | None:
        return self.s.scalars(select(PublishedDocumentRow).where(
            PublishedDocumentRow.team_id == team_id, PublishedDocumentRow.subject == subject,
            PublishedDocumentRow.target == target)).first()

    def save(self, team_id: int, subject: str, target: str, document_id: str, url: str | None,
             at: datetime) -> PublishedDocumentRow:
        """Record where `subject` is published in `target` (a new document, or one edited at `at`)."""
        row = self.get(team_id, subject, target)
        if row is None:
            row = PublishedDocumentRow(team_id=team_id, subject=subject, target=target, created_at=at)
            self.s.add(row)
        row.document_id, row.url, row.updated_at = document_id, url, at
        self.s.flush()
        return row

    def records(self, team_id: int, subject: str, target: str) -> dict[str, str]:
        """Row key -> record id of every row `subject` wrote into `target`."""
        rows = self.s.scalars(select(DocumentRecordRow).where(
            DocumentRecordRow.team_id == team_id, DocumentRecordRow.subject == subject,
            DocumentRecordRow.target == target))
        return {r.row_key: r.record_id for r in rows}

    def add_records(self, team_id: int, subject: str, target: str, created: Mapping[str, str]) -> None:
        """Remember rows just created (row key -> record id)."""
        for key, record_id in created.items():
            self.s.add(DocumentRecordRow(team_id=team_id, subject=subject, target=target, row_key=key,
                                         record_id=record_id))
        self.s.flush()
