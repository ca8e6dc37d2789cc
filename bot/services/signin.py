"""Who may see the dashboard: one-time sign-in links (issued by sign_in_links.py), platform identities matched
to the team file, roles.

The web adapter proves an identity (a signed link, a verified Slack id_token, a Feishu user); this module
decides who that is in the team and what they may do.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.team import Person
from bot.services.context import Context
from bot.services.sign_in_links import LINK_LIFETIME, LinkTokens, SignInRefused
from storage.db import transaction
from storage.signin import SignInNonces
from storage.web_sessions import WebSessions

SESSION_LIFETIME = timedelta(hours=12)


class Role(StrEnum):
    MEMBER = "member"  # sees the team's reports, answers their own items
    EDITOR = "editor"  # editors and admins: edit any item, remind, publish


@dataclass(frozen=True)
class Viewer:
    person: Person
    role: Role

    @property
    def is_editor(self) -> bool:
        return self.role is Role.EDITOR


class SignIn:
    def __init__(self, ctx: Context, secret: str, session_lifetime: timedelta = SESSION_LIFETIME) -> None:
        self.ctx = ctx
        self.session_lifetime = session_lifetime
        self._links = LinkTokens(secret)

    # ----- who is it -----------------------------------------------------------

    def viewer(self, person_id: str) -> Viewer | None:
        person = self.ctx.team.person_by_id.get(person_id)
        if person is None:
            return None
        return Viewer(person, Role.EDITOR if self.ctx.team.is_editor(person.id) else Role.MEMBER)

    def match(self, platform: str, user_id: str | None, email: str | None) -> Viewer:
        """The team member with this platform id, else with this email; SignInRefused("not_in_team") if none."""
        people = self.ctx.team.people
        found = next((p for p in people if user_id and getattr(p, platform, None) == user_id), None)
        if found is None and email:
            found = next((p for p in people if p.email and p.email.lower() == email.strip().lower()), None)
        viewer = self.viewer(found.id) if found else None
        if viewer is None:
            raise SignInRefused("not_in_team")
        return viewer

    # ----- sessions -------------------------------------------------------------------

    def start_session(self, viewer: Viewer) -> str:
        """A new session for `viewer`: the token for its cookie (the database keeps only the token's digest)."""
        token = secrets.token_urlsafe(32)
        now = self.ctx.clock()
        with transaction(self.ctx.db) as s:
            repo = WebSessions(s)
            repo.purge(now)
            repo.start(_digest(token), self.ctx.team_id, viewer.person.id, viewer.role.value, now,
                       now + self.session_lifetime)
        return token

    def session_viewer(self, token: str) -> Viewer | None:
        """Who the session with this token is, checked on every request: None once it was ended or expired,
        and the session ends when its person left the team file or has another role than at sign-in."""
        digest, now = _digest(token), self.ctx.clock()
        with transaction(self.ctx.db) as s:
            repo = WebSessions(s)
            row = repo.alive(digest, self.ctx.team_id, now)
            if row is None:
                return None
            viewer = self.viewer(row.person_key)
            if viewer is None or viewer.role.value != row.role:
                repo.end(digest)
                return None
            return viewer

    def end_session(self, token: str) -> None:
        """Sign out: the session's token is refused from now on, wherever a copy of the cookie is."""
        with transaction(self.ctx.db) as s:
            WebSessions(s).end(_digest(token))

    # ----- one-time links ------------------------------------------------------------

    def issue_link_token(self, who: str) -> tuple[str, datetime]:
        """A signed token that signs `who` (an id or display name) in once, and when it expires."""
        return self._links.issue(self.ctx, who)

    def peek_link(self, token: str) -> Person | None:
        """Whom a genuine link token names, without using it (for the page that asks to confirm)."""
        try:
            return self.ctx.team.person_by_id.get(self._links.read(token).person_id)
        except SignInRefused:
            return None

    def redeem_link(self, token: str) -> Viewer:
        """The viewer a link token names; refused if forged, expired (10 minutes) or used before."""
        link = self._links.read(token)
        now = self.ctx.clock()
        if now.timestamp() >= link.expires_ts:
            raise SignInRefused("link_expired")
        if not self.use_once("link", link.nonce, now + LINK_LIFETIME):
            raise SignInRefused("link_used")
        viewer = self.viewer(link.person_id)
        if viewer is None:
            raise SignInRefused("not_in_team")
        return viewer

    def use_once(self, purpose: str, nonce: str, expires_at: datetime) -> bool:
        """Record a one-time value (link nonce, OAuth state); False if it was used already."""
        now = self.ctx.clock()
        with transaction(self.ctx.db) as s:
            repo = SignInNonces(s)
            repo.purge(now - LINK_LIFETIME)
            return repo.use(purpose, nonce, now, expires_at)


def _digest(token: str) -> str:
    """What the database keeps of a session token: reading the table gives no cookie that works."""
    return hashlib.sha256(token.encode()).hexdigest()
