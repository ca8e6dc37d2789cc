"""One-time sign-in links: a signed token naming a person, good for ten minutes.

Issuing one reads the team, the clock and the dashboard's secret, never the database, so `zhoubao dashboard
link` opens none (issue 18, "a light start"). Redeeming one (`SignIn.redeem_link`) checks the signature and
the expiry and records the token's nonce, so a link works once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer

from bot.domain.team import Team

LINK_LIFETIME = timedelta(minutes=10)


class SignInRefused(Exception):
    """Why a sign-in was refused; `reason` is a key of the web words (link_expired, link_used, …)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TeamNow(Protocol):
    """What issuing a link reads: the team as it is now, and the clock (a services `Context` is one)."""

    @property
    def team(self) -> Team: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...


@dataclass(frozen=True)
class TeamAt:
    """A team and a clock, for a command that issues a link without opening the database."""

    team: Team
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class LinkToken:
    person_id: str
    nonce: str
    expires_ts: int


class LinkTokens:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="zhoubao-dashboard-link")

    def issue(self, where: TeamNow, who: str) -> tuple[str, datetime]:
        """A signed token that signs `who` (an id or display name) in once, and when it expires."""
        person = where.team.find_person(who)
        if person is None:
            raise SignInRefused("not_in_team")
        expires = where.clock() + LINK_LIFETIME
        token = self._serializer.dumps({"p": person.id, "n": secrets.token_urlsafe(16),
                                        "e": int(expires.timestamp())})
        return token, expires

    def read(self, token: str) -> LinkToken:
        """What a genuine token says; SignInRefused("link_invalid") if forged or malformed."""
        try:
            data = self._serializer.loads(token)
            return LinkToken(str(data["p"]), str(data["n"]), int(data["e"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            raise SignInRefused("link_invalid") from None
