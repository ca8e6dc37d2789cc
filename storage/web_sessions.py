"""Signed-in dashboard sessions, by the SHA-256 of their cookie token: started, looked up, ended, purged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import WebSessionRow


class WebSessions:
    def __init__(self, session: Session) -> None:
        self.s = session

    def start(self, digest: str, team_id: int, person_key: str, role: str, at: datetime, expires_at: datetime) -> None:
        self.s.add(WebSessionRow(id=digest, team_id=team_id, person_key=person_key, role=role,
                                 created_at=at, expires_at=expires_at))

    def alive(self, digest: str, team_id: int, at: datetime) -> WebSessionRow | None:
        """The session with this digest if it belongs to the team and has not expired at `at`."""
        return self.s.scalars(select(WebSessionRow).where(
            WebSessionRow.id == digest, WebSessionRow.team_id == team_id, WebSessionRow.expires_at > at)).first()

    def end(self, digest: str) -> None:
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.id == digest))

    def purge(self, before: datetime) -> int:
        """Forget sessions that expired before `before`."""
        result = self.s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < before))
        return int(getattr(result, "rowcount", 0) or 0)
