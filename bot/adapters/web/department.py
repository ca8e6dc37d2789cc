"""The dashboard over a department: which team's pages a signed-in person may open, and the department page.

A session is started by one team's dashboard (the team the person signed in through); the other teams'
pages look it up here and see the same person as their own team file knows them (same id, else email), or,
for a director, as a reader of every team. Who may see which team is the department's rule
(`Department.visible_to`); this module only asks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.adapters.web.config import team_path
from bot.adapters.web.site import Refusal, Site
from bot.domain.department import Department, DepartmentTeam
from bot.domain.team import Person
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.bot import Bot
from bot.services.dashboard import Dashboard, SearchPage, SearchQuery
from bot.services.rollup import DepartmentRollup
from bot.services.signin import Role, SignIn, Viewer
from bot.text.catalogue import say
from bot.text.render import bank_move, measure_heading, progress_move

OTHER_TEAM_HITS = 5  # per other team on a search page; its own search page has the rest


@dataclass(frozen=True)
class TeamLink:
    key: str
    name: str
    url: str  # the team's week page

    @property
    def base(self) -> str:
        return self.url.removesuffix("/week")


@dataclass(frozen=True)
class Seen:
    """What a session is on one team's pages: its viewer there, or refused (signed in, not this team's)."""

    viewer: Viewer | None
    refused: bool = False


class DepartmentWeb:
    """The department's teams as the dashboard serves them: each at `/t/<key>/`, the served team also at `/`."""

    def __init__(self, department: Department, bots: Sequence[Bot], rollup: DepartmentRollup | None,
                 secret: str, session_hours: int) -> None:
        if [b.ctx.team.team.name for b in bots] != list(department.team_names):
            raise ValueError("the dashboard needs one bot per team of the department, in its order")
        self.department = department
        self.rollup = rollup
        self.bots = {t.key: b for t, b in zip(department.teams, bots, strict=True)}
        self._signins = {t.key: SignIn(b.ctx, secret, timedelta(hours=session_hours))
                         for t, b in zip(department.teams, bots, strict=True)}

    def base(self, key: str) -> str:
        return team_path(key)

    def key_of(self, bot: Bot) -> str:
        return next(k for k, b in self.bots.items() if b is bot)

    def seen(self, token: str, bot: Bot) -> Seen:
        """The session `token` (started through any team) on `bot`'s team's pages."""
        key = self.key_of(bot)
        own = self._signins[key].session_viewer(token)
        if own is not None:
            return Seen(own)
        for other, signin in self._signins.items():
            if other == key:
                continue
            viewer = signin.session_viewer(token)
            if viewer is None:
                continue
            member = self.department.as_member(bot.ctx.team, viewer.person)
            if member is not None:
                return Seen(self._signins[key].viewer(member.id))
            if self.department.is_director(viewer.person):
                return Seen(Viewer(viewer.person, Role.MEMBER))  # a director reads; the team's editors edit
            return Seen(None, refused=True)
        return Seen(None)

    def switcher(self, person: Person) -> list[TeamLink]:
        """The teams `person` may open, in the department file's order."""
        return [self._link(t) for t in self.department.visible_to(person)]

    def _link(self, t: DepartmentTeam) -> TeamLink:
        return TeamLink(t.key, t.name, f"{self.base(t.key)}/week")

    def search_others(self, person: Person, here: Bot, query: SearchQuery,
                      per_team: int = OTHER_TEAM_HITS) -> list[tuple[TeamLink, SearchPage]]:
        """The first hits of `query` in every other team `person` may see (the department file's order),
        each team searched by its own rule (`Dashboard.find`, its own names and items)."""
        key = self.key_of(here)
        return [(self._link(t), Dashboard(self.bots[t.key]).find(query, per_team))
                for t in self.department.visible_to(person) if t.key != key]

    def may_see_department(self, person: Person) -> bool:
        return self.rollup is not None and self.department.is_director(person)

    def team_url(self, name: str) -> str | None:
        t = next((t for t in self.department.teams if t.name == name), None)
        return None if t is None else f"{self.base(t.key)}/week"


class DepartmentPage:
    """`/department[/<week>]`: the roll-up of a week, as `bot.domain.rollup` composes it, for directors."""

    def __init__(self, site: Site, web: DepartmentWeb) -> None:
        self.site, self.web = site, web

    async def show(self, request: Request) -> Response:
        viewer = self.site.require(request)
        if self.web.rollup is None or not self.web.may_see_department(viewer.person):
            raise Refusal("department_directors_only")
        rollup = self.web.rollup
        label = request.path_params.get("label")
        now = self.site.clock()
        try:
            week = IsoWeek.parse(label) if label else IsoWeek.of(now.astimezone(rollup.department.zone).date())
        except WeekLabelError:
            raise Refusal("not_found", status=404) from None
        model = await run_in_threadpool(rollup.compile, week, min(now, rollup.fire_time(week)))
        locale = self.site.locale(request)

        def r(key: str, **params: object) -> str:
            return say(locale, f"rollup.{key}", **params)

        return self.site.page(request, "department.html", rollup=model, week=week, team_url=self.web.team_url,
                              r=r, colon=say(locale, "report.colon"), heading=lambda m: measure_heading(m, locale),
                              move=progress_move, bank=lambda m: bank_move(m, locale))
