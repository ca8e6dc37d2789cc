"""Who is who on Feishu: team members by open_id, or by email resolved through the contact API (cached)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from bot.adapters.feishu.api import FeishuApiError, OpenApi
from bot.adapters.feishu.sdk import HttpMethod
from bot.adapters.team_source import TeamSource, current_team
from bot.adapters.ttl_cache import TtlCache
from bot.domain.team import Person, Team

BATCH = 50  # the contact API's limit of emails per call
NAME_TTL = 86_400.0  # seconds a profile name is trusted before the contact API is asked again


class People:
    """Maps team members to open_ids and back. Emails are looked up once, in batches, on first need. The
    members are the team now (`TeamSource`): someone added by email on the settings page is matched on their
    first message, their email looked up then."""

    def __init__(self, api: OpenApi, team: TeamSource) -> None:
        self.api, self._team = api, team
        self._by_email: dict[str, str | None] = {}
        self._names: TtlCache[str, str | None] = TtlCache(NAME_TTL)  # open_id -> name
        self._lock = threading.Lock()
        # One look-up at a time: prompts go out from several threads, and the second to need an email
        # waits for the first's batch instead of asking Feishu for the same emails again.
        self._resolving = threading.Lock()

    @property
    def team(self) -> Team:
        return current_team(self._team)

    def resolve(self, people: Iterable[Person] | None = None) -> None:
        """Look up every email not asked about yet (one call per 50)."""
        with self._resolving:
            self._resolve(people)

    def _resolve(self, people: Iterable[Person] | None) -> None:
        wanted = [p.email for p in (people if people is not None else self.team.people)
                  if not p.feishu and p.email and p.email not in self._by_email]
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start:start + BATCH]
            body = self.api.call(HttpMethod.POST, "/open-apis/contact/v3/users/batch_get_id",
                                 {"emails": batch, "include_resigned": False}, query={"user_id_type": "open_id"})
            found = {u.get("email"): u.get("user_id") for u in body.get("data", {}).get("user_list", [])}
            with self._lock:
                for email in batch:
                    self._by_email[email] = found.get(email) or None

    def open_id(self, person: Person) -> str | None:
        """The person's open_id: from the team file, else from their email (None if Feishu knows neither)."""
        if person.feishu:
            return person.feishu
        if not person.email:
            return None
        if person.email not in self._by_email:
            self.resolve()
        return self._by_email.get(person.email)

    def name(self, open_id: str) -> str | None:
        """The user's name from the contact API (获取单个用户信息, GET /open-apis/contact/v3/users/:user_id,
        https://open.feishu.cn/document/server-docs/contact-v3/user/get; `lark_oapi/api/contact/v3/resource/
        user.py` `get`; calling it needs contact:contact.base:readonly or a wider contact permission, the `name`
        field contact:user.base:readonly). Cached for a day, then asked again;
        None when Feishu will not say (no permission, or a user outside the app's visible range)."""
        known, cached = self._names.fresh(open_id)
        if known:
            return cached
        try:
            body = self.api.call(HttpMethod.GET, "/open-apis/contact/v3/users/:user_id", None,
                                 paths={"user_id": open_id}, query={"user_id_type": "open_id"})
        except FeishuApiError:
            return self._names.stale(open_id)
        user = (body.get("data") or {}).get("user") or {}
        name = str(user.get("name") or "") or None
        self._names.put(open_id, name)
        return name

    def member(self, open_id: str) -> str:
        """The team-file id for an open_id, for the core (which also accepts the open_id itself)."""
        team = self.team  # one team for the whole match, though a reload may come meanwhile
        for p in team.people:
            if p.feishu == open_id:
                return p.id
        if any(p.email and p.email not in self._by_email and not p.feishu for p in team.people):
            self.resolve(team.people)
        for p in team.people:
            if p.email and self._by_email.get(p.email) == open_id:
                return p.id
        return open_id  # not a member: the core answers that

    def unresolved(self) -> list[Person]:
        self.resolve()
        return [p for p in self.team.people if self.open_id(p) is None]
