"""Sign-in nonces already used (one-time links, OAuth states): a second use is refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import SignInNonceRow


class SignInNonces:
    def __init__(self, session: Session) -> None:
        self.s = session

    def use(self, purpose: str, nonce: str, at: datetime, expires_at: datetime) -> bool:
        """Record `nonce` as used; False when it was used before (the unique row says so, across instances)."""
        try:
            with self.s.begin_nested():
                self.s.add(SignInNonceRow(purpose=purpose, nonce=nonce[:64], used_at=at, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    def purge(self, before: datetime) -> int:
        """Forget nonces that expired before `before`: their links and states are refused by expiry anyway."""
        result = self.s.execute(delete(SignInNonceRow).where(SignInNonceRow.expires_at < before))
        return int(getattr(result, "rowcount", 0) or 0)
