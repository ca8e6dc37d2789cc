"""Platform event ids already handled, so a redelivered event changes nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ProcessedEventRow


class ProcessedEvents:
    def __init__(self, session: Session) -> None:
        self.s = session

    def seen(self, platform: str, event_id: str) -> bool:
        return self.s.scalars(select(ProcessedEventRow.id).where(
            ProcessedEventRow.platform == platform, ProcessedEventRow.event_id == event_id)).first() is not None

    def record(self, platform: str, event_id: str, at: datetime) -> None:
        self.s.add(ProcessedEventRow(platform=platform, event_id=event_id[:128], at=at))
        self.s.flush()

    def prune(self, before: datetime) -> int:
        """Forget ids older than `before` (platforms stop redelivering after minutes)."""
        result = self.s.execute(delete(ProcessedEventRow).where(ProcessedEventRow.at < before))
        return int(getattr(result, "rowcount", 0) or 0)
