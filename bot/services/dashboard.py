"""What the web dashboard shows and does: this week item by item, edits, publish, history, search, an item.

Every action checks the viewer's role here (the adapter only translates), and every edit goes through
the inbox like a chat form, so it is stored with who and when, and a published week's post is edited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from bot.domain import report as r
from bot.domain.compile import missing_by_person, missing_items, severity_counts
from bot.domain.facts import WeekFacts
from bot.domain.replies import item_text
from bot.domain.team import Item
from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from bot.services.chat import Reply
from bot.services.cycle import PublishResult
from bot.services.digest import DigestView
from bot.services.exporting import Exporter
from bot.services.publishing import Confirmation, Publishing, PublishPlan
from bot.services.signin import Viewer
from storage.db import transaction
from storage.directory import Directory
from storage.history import History, ItemValue, WeekSummary
from storage.search import Search, SearchFilter, SearchHit

HISTORY_PAGE = 26
FIGURE_PREFIX = "figure:incidents:"  # `compile.incident_count_figure_key`'s keys
SEARCH_LIMIT = 50
SEARCH_KINDS = ("entry", "bank", "incident")
ITEM_WEEKS = 52


class NotAllowed(Exception):
    """The viewer's role does not allow this; `reason` is a key of the web words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ItemStatus:
    item: Item
    owner: str  # display name
    state: str  # answered | missing | away | optional (not owed: a section note, a bank part whose banks are)
    text: str  # as stored ("" when missing)
    author: str | None = None  # display name of whoever wrote it last
    updated_at: datetime | None = None
    editable: bool = False  # by this viewer


@dataclass(frozen=True)
class MissingPerson:
    """One line of the page's missing list: a person and what they still owe (the core's grouping,
    `compile.missing_by_person`, as every list of the missing reads it), and whether they also owe the
    incident question. "Remind the missing" DMs exactly these people about exactly these."""

    owed: r.MissingPerson
    owes_question: bool = False

    @property
    def person_id(self) -> str:
        return self.owed.person_id

    @property
    def name(self) -> str:
        return self.owed.person

    @property
    def item_titles(self) -> tuple[str, ...]:
        return self.owed.item_titles


@dataclass(frozen=True)
class WeekView:
    week: IsoWeek
    items: tuple[ItemStatus, ...]
    markdown: str  # exactly what the channel gets (or got)
    published_at: datetime | None
    is_current: bool
    digest: DigestView | None = None  # the week's key points as the editors see them
    digest_notes: str = ""  # where they stand and the lines dropped, for editors
    digest_on: bool = False  # a model is configured: regenerate is offered
    digest_text: str = ""  # the points as the editor edits them, one a line with the ids they cite
    started: bool = True  # a week not started yet cannot be published
    missing_people: tuple[MissingPerson, ...] = ()  # the missing items grouped by person, in team order

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.state == "answered")

    @property
    def missing(self) -> tuple[ItemStatus, ...]:
        return tuple(i for i in self.items if i.state == "missing")


@dataclass(frozen=True)
class HistoryRow:
    label: str
    published_at: datetime | None
    completion: int  # percent of the team's items answered
    incidents: tuple[tuple[str, Decimal], ...]  # (count group "A/B", count) with a count, in the team's order


@dataclass(frozen=True)
class HistoryPage:
    rows: tuple[HistoryRow, ...]
    page: int
    pages: int


@dataclass(frozen=True)
class ItemPage:
    item: Item
    owner: str
    values: tuple[ItemValue, ...]  # newest first


@dataclass(frozen=True)
class Hit:
    week: str
    title: str  # item title, or "#12" for an incident
    kind: str
    text: str
    item_key: str | None
    # the text cut around each match of the query: (piece, is_match) in order; the page marks the matches
    marked: tuple[tuple[str, bool], ...] = ()
    marked_title: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    """What the search page asks: text, and filters by person, item, kind and week range, one page of it."""

    text: str = ""
    person: str = ""  # a person id: their items
    item: str = ""  # an item key
    kind: str = ""  # entry | bank | incident
    first: IsoWeek | None = None
    last: IsoWeek | None = None
    page: int = 1

    @property
    def asked(self) -> bool:
        return bool(self.text or self.person or self.item)


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[Hit, ...]
    page: int
    more: bool  # a next page exists


class Dashboard:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.ctx = bot.ctx

    def current_week(self) -> IsoWeek:
        return self.ctx.week_of(self.ctx.now())

    # ----- this week -------------------------------------------------------------

    def week(self, week: IsoWeek, viewer: Viewer) -> WeekView:
        """The week item by item, and its report compiled as it will be (or was) posted."""
        team = self.ctx.team
        facts = self.bot.week_report.facts(week)
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            stored = History(s).published_markdown(self.ctx.team_id, row.id) if row else None
        published_at = stored[1] if stored else None
        digests = self.bot.digests
        # As posted; before that, as publishing would post it now: with the key points it would carry.
        markdown = self.stored_markdown(week) if published_at else self.bot.week_report.render(
            digests.with_points(self.bot.week_report.compile(week), week)).markdown
        names = {p.id: p.name for p in team.people}
        missing = missing_items(team, facts)
        owed = {it.key for it in missing}
        items = []
        for it in team.items:
            answer = facts.answer(it)
            state = ("answered" if answer else "away" if it.owner in facts.away
                     else "missing" if it.key in owed else "optional")
            author = answer.author if answer else None
            items.append(ItemStatus(it, names.get(it.owner, it.owner), state, answer.text if answer else "",
                                    names.get(author or "", author), answer.updated_at if answer else None,
                                    self.may_edit(viewer, it)))
        started = week.start(team.zone) <= self.ctx.now()
        return WeekView(week, tuple(items), markdown, published_at, week == self.current_week(),
                        digests.view(week), digests.notes(week) if viewer.is_editor else "", digests.on,
                        digests.editable_lines(week) if viewer.is_editor else "",
                        started=started, missing_people=self._missing_people(week, missing, names, facts))

    def _missing_people(self, week: IsoWeek, missing: list[Item], names: dict[str, str],
                        facts: WeekFacts) -> tuple[MissingPerson, ...]:
        """The week's open items grouped by person (`compile.missing_by_person`), each with the incident
        question when they owe it too."""
        question = {p.id for p in self.bot.week_report.unanswered_incident_question(week, facts)}
        grouped = missing_by_person(r.Missing(names.get(it.owner, it.owner), it.owner, it.title, it.key)
                                    for it in missing)
        return tuple(MissingPerson(p, p.person_id in question) for p in grouped)

    def may_edit(self, viewer: Viewer, item: Item) -> bool:
        """The team's one rule (`Team.may_write`); besides it, an editor corrects any item here, stored with
        them as the author (`Inbox.submit_form(any_item=True)`)."""
        return viewer.is_editor or self.ctx.team.may_write(viewer.person.id, item)

    def edit(self, viewer: Viewer, week: IsoWeek, item_key: str, text: str) -> Reply:
        """Store `text` as the item's answer, as a form from the viewer would; refreshes a published post."""
        return self.edit_many(viewer, week, {item_key: text}) or Reply("")

    def edit_many(self, viewer: Viewer, week: IsoWeek, texts: Mapping[str, str]) -> Reply | None:
        """Store every text of one form (the editor's sections together, so saving one never drops what
        was typed in another) as one form submission; items whose text is unchanged are left alone.
        None when nothing changed. NotAllowed for an unknown item or one the viewer may not edit."""
        items = []
        for key in texts:
            item = self.ctx.team.item_by_key.get(key)
            if item is None:
                raise NotAllowed("unknown_item")
            if not self.may_edit(viewer, item):
                raise NotAllowed("not_yours")
            items.append(item)
        facts = self.bot.week_report.facts(week)
        changed = {}
        for item in items:
            stored = facts.answer(item)
            # compared as the form would store it (`replies.item_text`: line breaks, a pasted prefix)
            if item_text(texts[item.key], item) != (item_text(stored.text, item) if stored else ""):
                changed[item.key] = texts[item.key]
        if not changed:
            return None
        return self.bot.inbox.submit_form("web", viewer.person.id, f"web-{uuid.uuid4().hex}", changed,
                                          self.ctx.now(), week, any_item=viewer.is_editor)

    def publish_plan(self, viewer: Viewer, week: IsoWeek) -> PublishPlan:
        """What publishing `week` now would do, for the confirmation page (editors only)."""
        if not viewer.is_editor:
            raise NotAllowed("editors_only")
        return self._publishing().plan(week)

    def digest(self, viewer: Viewer, week: IsoWeek, action: str, text: str = "") -> None:
        """An editor's decision on the week's key points: `approve` (the lines in `text`, one a line, as they
        edited them), `regenerate` (ask the model again now), `off` or `on` for the week."""
        if not viewer.is_editor:
            raise NotAllowed("editors_only")
        digests = self.bot.digests
        if action == "approve":
            digests.approve(week, viewer.person.id, texts=text.splitlines())
        elif action == "regenerate" and digests.on:
            digests.prepare(week)
        elif action in ("off", "on"):
            digests.turn_off(week, action == "off")
        else:
            raise NotAllowed("unknown_action")

    def publish(self, viewer: Viewer, week: IsoWeek, confirmation: Confirmation) -> PublishResult:
        """Publish `week` as confirmed (`publishing.Publishing`: the chat command's rule too);
        PublishNotConfirmed when the confirmation is not enough for the week."""
        if not viewer.is_editor:
            raise NotAllowed("editors_only")
        return self._publishing().publish(week, confirmation)

    def _publishing(self) -> Publishing:
        return Publishing(self.ctx, self.bot.week_report, self.bot.cycle)

    def remind(self, viewer: Viewer) -> list[str]:
        """Remind exactly the people this week's page lists as missing, each about exactly their own open
        items (`cycle.remind_owing`); returns the names of those reminded. A second click in the same minute
        sends nothing twice."""
        if not viewer.is_editor:
            raise NotAllowed("editors_only")
        now = self.ctx.now()
        view = self.week(self.ctx.week_of(now), viewer)
        owing = {p.person_id: list(p.owed.item_keys) for p in view.missing_people}
        reminded = self.bot.cycle.remind_owing(owing, kind=f"remind:web{now:%m%d%H%M}", at=now)
        names = {p.person_id: p.name for p in view.missing_people}
        return [names[pid] for pid in reminded]

    # ----- history, search, an item ------------------------------------------------------

    def history(self, page: int = 1, per_page: int = HISTORY_PAGE) -> HistoryPage:
        """Weeks newest first, one page at a time."""
        total_items = len(self.ctx.team.items)
        with transaction(self.ctx.db) as s:
            h = History(s)
            pages = max(1, -(-h.week_count(self.ctx.team_id) // per_page))
            page = min(max(1, page), pages)
            summaries = h.summaries(self.ctx.team_id, h.latest_weeks(self.ctx.team_id, per_page,
                                                                      (page - 1) * per_page))
            stated = h.stated_figures(self.ctx.team_id, [sm.week_id for sm in summaries], FIGURE_PREFIX)
        return HistoryPage(tuple(self._history_row(sm, total_items, stated[sm.week_id]) for sm in summaries),
                           page, pages)

    def _history_row(self, s: WeekSummary, total_items: int, stated: dict[str, Decimal]) -> HistoryRow:
        # the report's own counts (`compile.severity_counts`): a figure an imported report stated wins
        counts = severity_counts(self.ctx.team, s.incidents, stated)
        shown = tuple(("/".join(c.severities), c.count) for c in counts if c.count)
        pct = min(100, round(100 * s.answered / total_items)) if total_items else 0
        return HistoryRow(s.label, s.published_at, pct, shown)

    def search(self, query: str | SearchQuery, per_page: int = SEARCH_LIMIT) -> list[Hit]:
        """The first page of hits for `query` (`find` gives the page and whether there are more)."""
        return list(self.find(query if isinstance(query, SearchQuery) else SearchQuery(query), per_page).hits)

    def find(self, query: SearchQuery, per_page: int = SEARCH_LIMIT) -> SearchPage:
        """Rows whose text holds the query, or whose item, project, bank, section or owner is named by it
        (names from the team file, any substring, any case), narrowed by the filters; newest week first,
        one page of `per_page`."""
        text = query.text.strip()[:200]
        if not query.asked:
            return SearchPage((), 1, False)
        team = self.ctx.team
        only: set[str] | None = None
        if query.person:
            only = {it.key for it in team.items if it.owner == query.person}
        if query.item:
            only = {query.item} if only is None else only & {query.item}
        where = SearchFilter(names=frozenset(self._named(text)) if text else frozenset(),
                             only=frozenset(only) if only is not None else None,
                             kinds=frozenset({query.kind}) if query.kind else None,
                             first=query.first.label if query.first else None,
                             last=query.last.label if query.last else None)
        page = max(1, query.page)
        with transaction(self.ctx.db) as s:
            # one more than a page: whether a next page exists, without counting every hit
            hits = Search(s).find(self.ctx.team_id, text, per_page + 1, (page - 1) * per_page, where)
        return SearchPage(tuple(self._hit(h, text) for h in hits[:per_page]), page, len(hits) > per_page)

    def _named(self, text: str) -> set[str]:
        """Item keys whose title (project, part, bank, OKR, metric, section) or owner's name holds `text`."""
        wanted = text.casefold()
        team = self.ctx.team
        people = {p.id for p in team.people if wanted in p.name.casefold() or wanted == p.id.casefold()}
        return {it.key for it in [*team.items, *team.section_notes]
                if wanted in it.title.casefold() or it.owner in people}

    def _hit(self, h: SearchHit, query: str = "") -> Hit:
        if h.kind == "incident":
            title, key = f"#{h.ref}", None
        else:
            item = self.ctx.team.item_by_key.get(h.ref)
            title, key = (item.title, h.ref) if item else (h.ref, None)
        return Hit(h.week, title, h.kind, h.text, key, _marked(h.text, query), _marked(title, query))

    def item(self, item_key: str) -> ItemPage:
        item = self.ctx.team.item_by_key.get(item_key)
        if item is None:
            raise NotAllowed("unknown_item")
        with transaction(self.ctx.db) as s:
            values = History(s).item(self.ctx.team_id, item_key, ITEM_WEEKS)
        people = self.ctx.team.person_by_id
        named = tuple(replace(v, author=people[v.author].name if v.author in people else v.author) for v in values)
        owner = people.get(item.owner)
        return ItemPage(item, owner.name if owner else item.owner, named)

    def stored_markdown(self, week: IsoWeek) -> str:
        """The week's report in Markdown (`Exporter.report`: as posted, else compiled now)."""
        return Exporter(self.ctx, self.bot.week_report).report(week, "md")

    def range_rows(self, first: IsoWeek, last: IsoWeek) -> Iterator[dict[str, str]]:
        """Every stored week's rows from `first` to `last`, a week at a time (`Exporter.rows`)."""
        return Exporter(self.ctx, self.bot.week_report).rows(first, last)

    def week_data(self, week: IsoWeek) -> list[dict[str, str]]:
        """One row per item (and per incident) of the week, for CSV and JSON downloads (`exporting.CSV_HEADER`)."""
        return Exporter(self.ctx, self.bot.week_report).table(week)


def _marked(text: str, query: str) -> tuple[tuple[str, bool], ...]:
    """`text` in pieces, each match of `query` (any case) its own piece marked True."""
    if not query:
        return ((text, False),)
    pieces: list[tuple[str, bool]] = []
    folded, wanted, at = text.casefold(), query.casefold(), 0
    # casefold keeps the length of CJK and ASCII text; where it would not (ß), nothing is marked
    if len(folded) != len(text) or len(wanted) != len(query):
        return ((text, False),)
    while (found := folded.find(wanted, at)) >= 0:
        pieces += [(text[at:found], False), (text[found:found + len(wanted)], True)]
        at = found + len(wanted)
    pieces.append((text[at:], False))
    return tuple(p for p in pieces if p[0])
