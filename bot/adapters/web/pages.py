"""The dashboard's pages and actions: translate a request into a service call and a template."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from bot.adapters.web import charts
from bot.adapters.web.site import Refusal, Site
from bot.domain.team import ItemKind
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.dashboard import SEARCH_KINDS, NotAllowed, SearchQuery
from bot.services.exporting import CSV_HEADER
from bot.services.publishing import Blocked, Confirmation, PublishNotConfirmed, PublishPlan
from bot.services.trends import DEFAULT_WEEKS
from bot.text import messages
from bot.text.catalogue import listing, say


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


class Pages:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.d = site.dashboard

    async def _week(self, request: Request, label: str | None) -> IsoWeek:
        """The week a URL or form names (this week when it names none), inside the team's window; a 400
        naming the window otherwise."""
        if not label:
            return self.d.current_week()
        try:
            return await run_in_threadpool(self.d.ctx.parse_week, label)
        except WeekLabelError as exc:
            raise Refusal("bad_week", status=400,
                          detail=messages.bad_week(label, exc, self.site.locale(request))) from None

    async def home(self, request: Request) -> Response:
        self.site.require(request)
        return self.site.redirect("/week")

    # ----- a week ---------------------------------------------------------------------

    async def week(self, request: Request) -> Response:
        viewer = self.site.require(request)
        week = await self._week(request, request.query_params.get("week") or request.path_params.get("label"))
        view = await run_in_threadpool(self.d.week, week, viewer)
        editor_items = [i for i in view.items if i.item.kind is ItemKind.EDITOR]
        other_items = [i for i in view.items if i.item.kind is not ItemKind.EDITOR]
        # the viewer's own items first, set apart; then everyone else's in the team file's order
        mine = [i for i in other_items if i.item.owner == viewer.person.id]
        others = [i for i in other_items if i.item.owner != viewer.person.id]
        return self.site.page(request, "week.html", view=view, mine=mine, others=others, editor_items=editor_items,
                              report_html=self.site.markdown(view.markdown))

    async def edit(self, request: Request) -> Response:
        viewer = self.site.require(request)
        form = await self.site.form(request)
        week = await self._week(request, request.path_params["label"])
        # One item (`item` and `text`), or several boxes of one form (`text:<item key>` each).
        texts = {k.removeprefix("text:"): v for k, v in form.items() if k.startswith("text:")}
        if "item" in form:
            texts[form["item"]] = form.get("text", "")
        try:
            reply = await run_in_threadpool(self.d.edit_many, viewer, week, texts)
        except NotAllowed as exc:
            raise Refusal(exc.reason) from None
        t = self.site.words(request)
        self.site.flash(request, t("nothing_changed") if reply is None else reply.text or t("saved"))
        return self.site.redirect(f"/week/{week.label}")

    async def confirm_publish(self, request: Request) -> Response:
        """What publishing the week would do (the week with its dates, the channel, a first post or the edit
        of the post of <time>), with the one button that does it."""
        viewer = self.site.require(request)
        week = await self._week(request, request.path_params["label"])
        try:
            plan = await run_in_threadpool(self.d.publish_plan, viewer, week)
        except NotAllowed as exc:
            raise Refusal(exc.reason) from None
        return self._publish_page(request, plan, plan.blocked(Confirmation.WEEK), 200)

    def _publish_page(self, request: Request, plan: PublishPlan, blocked: Blocked | None, status: int) -> Response:
        locale = self.site.locale(request)
        named = self.site.week_name(request)(plan.week)
        if blocked is Blocked.NOT_STARTED:
            about = messages.publish_not_started(named, plan.first_day, self.d.current_week().label, locale)
        else:
            about = messages.publish_plan(named, plan.channel, plan.posted_at, locale)
        empty = say(locale, "publish.empty", week=named) if plan.empty else None
        return self.site.page(request, "publish.html", status=status, plan=plan, about=about, empty=empty,
                              blocked=blocked)

    async def publish(self, request: Request) -> Response:
        """Publish only with the confirmation form's `confirm` naming this very week (and `confirm_empty`
        for a week with nothing stored); anything less shows the confirmation page instead."""
        viewer = self.site.require(request)
        form = await self.site.form(request)
        week = await self._week(request, request.path_params["label"])
        confirmation = (Confirmation.NONE if form.get("confirm") != week.label
                        else Confirmation.EMPTY if form.get("confirm_empty") == week.label else Confirmation.WEEK)
        try:
            result = await run_in_threadpool(self.d.publish, viewer, week, confirmation)
        except NotAllowed as exc:
            raise Refusal(exc.reason) from None
        except PublishNotConfirmed as exc:
            status = 200 if exc.blocked is None else 409
            return self._publish_page(request, exc.plan, exc.blocked, status)
        self.site.flash(request, self.site.words(request)("republished" if result.updated else "published"))
        return self.site.redirect(f"/week/{week.label}")

    async def digest(self, request: Request) -> Response:
        viewer = self.site.require(request)
        form = await self.site.form(request)
        week = await self._week(request, request.path_params["label"])
        try:
            await run_in_threadpool(self.d.digest, viewer, week, form.get("action", ""), form.get("text", ""))
        except NotAllowed as exc:
            raise Refusal(exc.reason) from None
        self.site.flash(request, self.site.words(request)("digest_saved"))
        return self.site.redirect(f"/week/{week.label}")

    async def remind(self, request: Request) -> Response:
        viewer = self.site.require(request)
        await self.site.form(request)
        try:
            names = await run_in_threadpool(self.d.remind, viewer)
        except NotAllowed as exc:
            raise Refusal(exc.reason) from None
        t = self.site.words(request)
        self.site.flash(request, t("reminded_names", n=len(names), names=listing(self.site.locale(request), names))
                        if names else t("reminded_none"))
        return self.site.redirect("/week")

    # ----- downloads ---------------------------------------------------------------------

    async def download(self, request: Request) -> Response:
        self.site.require(request)
        week = await self._week(request, request.path_params["label"])
        fmt = request.path_params["fmt"]
        if fmt not in ("md", "csv", "json"):
            raise Refusal("not_found", status=404)
        name = f"zhoubao-{week.label}.{fmt}"
        if fmt == "md":
            body = await run_in_threadpool(self.d.stored_markdown, week)
            return _attachment(body, "text/markdown; charset=utf-8", name)
        rows = await run_in_threadpool(self.d.week_data, week)
        return _table(rows, fmt, name)

    async def export(self, request: Request) -> Response:
        """Every item of every stored week in a range, as CSV or JSON, streamed a week at a time: the file
        named for the range holds the whole range, and memory stays that of one week however long it is."""
        self.site.require(request)
        first = await self._week(request, request.query_params.get("from"))
        last = await self._week(request, request.query_params.get("to"))
        first, last = min(first, last), max(first, last)
        fmt = "json" if request.query_params.get("format") == "json" else "csv"
        # A sync iterator: Starlette runs each step in its thread pool, so the database calls never block.
        chunks = json_chunks(self.d.range_rows(first, last)) if fmt == "json" else csv_chunks(
            self.d.range_rows(first, last))
        return StreamingResponse(chunks, media_type=_MEDIA[fmt],
                                 headers=_disposition(f"zhoubao-{first.label}_{last.label}.{fmt}"))

    # ----- history, search, trends, an item -------------------------------------------------

    async def history(self, request: Request) -> Response:
        self.site.require(request)
        page = await run_in_threadpool(self.d.history, _int(request.query_params.get("page"), 1))
        return self.site.page(request, "history.html", history=page, current=self.d.current_week().label)

    async def search(self, request: Request) -> Response:
        self.site.require(request)
        params = request.query_params
        q = params.get("q", "").strip()
        first = await self._week(request, params["from"]) if params.get("from") else None
        last = await self._week(request, params["to"]) if params.get("to") else None
        if first and last and first > last:
            first, last = last, first
        team = self.site.team
        person = params.get("person", "") if params.get("person") in team.person_by_id else ""
        item = params.get("item", "") if params.get("item") in team.item_by_key else ""
        kind = params.get("kind", "") if params.get("kind") in SEARCH_KINDS else ""
        query = SearchQuery(q, person, item, kind, first, last, _int(params.get("page"), 1))
        found = await run_in_threadpool(self.d.find, query)
        # In a department: the same words and weeks in the other teams the viewer may see (people and items
        # are a team's own, so those filters stay here).
        viewer = self.site.viewer(request)
        others = [] if self.site.department is None or viewer is None or not query.asked or query.person \
            or query.item else await run_in_threadpool(
                self.site.department.search_others, viewer.person, self.site.bot,
                SearchQuery(q, "", "", kind, first, last, 1))

        base = self.site.base(request)

        def page_url(n: int) -> str:
            return base + "/search?" + urlencode({**{k: v for k, v in params.items() if k != "lang"}, "page": str(n)})

        return self.site.page(request, "search.html", q=q, query=query, found=found, kinds=SEARCH_KINDS,
                              people=team.people, items=team.items, page_url=page_url, others=others,
                              first=first.label if first else "", last=last.label if last else "")

    async def trends(self, request: Request) -> Response:
        self.site.require(request)
        n = _int(request.query_params.get("weeks"), DEFAULT_WEEKS)
        data = await run_in_threadpool(self.site.trends.trends, n)
        t = self.site.words(request)
        drawn = charts.draw_all(data, t)
        return self.site.page(request, "trends.html", trends=data, charts=drawn, max_lines=charts.MAX_LINES)

    async def item(self, request: Request) -> Response:
        self.site.require(request)
        try:
            page = await run_in_threadpool(self.d.item, request.query_params.get("key", ""))
        except NotAllowed as exc:
            raise Refusal(exc.reason, status=404) from None
        progress = [v for v in reversed(page.values) if v.progress is not None or v.value is not None]
        chart = charts.line_chart(
            [v.week for v in progress],
            [(page.item.name, [float(v.progress if v.progress is not None else v.value or 0) for v in progress])],
            title=page.item.title) if progress else None
        return self.site.page(request, "item.html", page=page, chart=chart)


_MEDIA = {"json": "application/json; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def _disposition(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _attachment(body: str, media_type: str, name: str) -> Response:
    return PlainTextResponse(body, media_type=media_type, headers=_disposition(name))


def csv_chunks(rows: Iterable[dict[str, str]]) -> Iterator[str]:
    """The header, then the rows in pieces of a hundred (each piece one write to the socket). Each piece gets a
    buffer of its own: a truncated StringIO keeps its grown capacity, which a long export would carry along."""
    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark, so Excel opens Chinese text as UTF-8
    csv.DictWriter(out, fieldnames=list(CSV_HEADER)).writeheader()
    batch: list[dict[str, str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 100:
            csv.DictWriter(out, fieldnames=list(CSV_HEADER)).writerows(batch)
            yield out.getvalue()
            out, batch = io.StringIO(), []
    csv.DictWriter(out, fieldnames=list(CSV_HEADER)).writerows(batch)
    yield out.getvalue()


def json_chunks(rows: Iterable[dict[str, str]]) -> Iterator[str]:
    """A JSON array of the rows, one per line, written as they come."""
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def _table(rows: list[dict[str, str]], fmt: str, name: str) -> Response:
    return _attachment("".join((json_chunks if fmt == "json" else csv_chunks)(rows)), _MEDIA[fmt], name)

