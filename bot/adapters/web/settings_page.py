"""The team settings page: people, owners, editors, admins and schedule, for the team's admins. It translates
the form into a `TeamEdit` and the answer into a page; validating, writing and applying are the port's."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.adapters.web.site import Refusal, Site
from bot.services.signin import Viewer
from bot.services.team_settings import (
    PERSON_FIELDS,
    SettingsConflict,
    SettingsProblem,
    SettingsRejected,
    TeamFileView,
    TeamSettingsPort,
    edit_from_page,
    may_change_settings,
    owner_fields,
)


class SettingsPage:
    def __init__(self, site: Site, port: TeamSettingsPort | None) -> None:
        self.site, self.port = site, port

    def _admin(self, request: Request) -> tuple[Viewer, TeamSettingsPort]:
        viewer = self.site.require(request)
        if self.port is None:  # a dashboard without a team file behind it (tests, one-shot tools)
            raise Refusal("not_found", status=404)
        if not may_change_settings(self.site.team, viewer.person.id):
            raise Refusal("admins_only")
        return viewer, self.port

    async def _current(self, port: TeamSettingsPort) -> TeamFileView:
        try:
            return await run_in_threadpool(port.current)
        except SettingsRejected as exc:  # the file on disk was broken meanwhile: the running team stays
            detail = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
            raise Refusal("settings_unreadable", status=409, detail=detail) from None

    async def show(self, request: Request) -> Response:
        _, port = self._admin(request)
        view = await self._current(port)
        return self._page(request, view, {}, [], 200)

    async def save(self, request: Request) -> Response:
        viewer, port = self._admin(request)
        form = await self.site.form(request)
        view = await self._current(port)
        edit = edit_from_page(view.team, form)
        try:
            await run_in_threadpool(port.save, edit, form.get("version", ""), viewer.person.id)
        except SettingsRejected as exc:
            return self._page(request, view, form, exc.problems, 400)
        except SettingsConflict:
            raise Refusal("settings_conflict", status=409) from None
        self.site.flash(request, self.site.words(request)("settings_saved"))
        return self.site.redirect("/settings")

    def _page(self, request: Request, view: TeamFileView, posted: dict[str, str], problems: list[SettingsProblem],
              status: int) -> Response:
        team = view.team
        new_index = len(team.people)
        # A problem of the person being added names its place at the end of `people`: show it at the new row.
        fields: dict[str, str] = {}
        for p in problems:
            name = p.field
            if name.startswith(f"people[{new_index}]."):
                name = "new." + name.rsplit(".", 1)[1]
            elif name.startswith("schedule.remind"):
                name = "schedule.remind"  # one box holds every reminder time
            fields.setdefault(name, p.message)

        def value(name: str, default: object) -> str:
            """What the box shows: what was posted (a rejected save keeps it), else the file's value."""
            if posted:
                return posted.get(name, "")
            return "" if default is None else str(default)

        def checked(name: str, default: bool) -> bool:
            return bool(posted.get(name)) if posted else default

        schedule = team.schedule
        return self.site.page(
            request, "settings.html", status=status, settings=team, version=view.version, problems=problems,
            field_errors=fields, value=value, checked=checked, owners=owner_fields(team), person_fields=PERSON_FIELDS,
            prompt=str(schedule.prompt), remind=", ".join(str(w) for w in schedule.remind),
            publish=str(schedule.publish), calendar=schedule.calendar)
