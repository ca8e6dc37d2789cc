"""Full-text search over answers, bank notes and incidents, done by the database with an index and a LIMIT.

See migration 0003_web for the index: FTS5 with the trigram tokenizer on SQLite, pg_trgm GIN on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, false, literal, literal_column, or_, select, text, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from storage.models import BankStatusRow, EntryRow, IncidentRow, WeekRow


@dataclass(frozen=True)
class SearchHit:
    week: str  # 2024-W26
    kind: str  # entry | bank | incident
    ref: str  # the item key, or the incident number
    text: str


@dataclass(frozen=True)
class SearchFilter:
    """What narrows (or widens) a search beside its text; the service fills it from the team file."""

    names: frozenset[str] = frozenset()  # item keys whose name matched: their rows are hits whatever their text
    only: frozenset[str] | None = None  # only rows of these item keys (a person's items, one item)
    kinds: frozenset[str] | None = None  # entry | bank | incident
    first: str | None = None  # week labels, inclusive
    last: str | None = None

def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Search:
    def __init__(self, session: Session) -> None:
        self.s = session

    def find(self, team_id: int, query: str, limit: int = 50, offset: int = 0,
             where: SearchFilter | None = None) -> list[SearchHit]:
        """Rows whose text contains `query` (case-insensitive) or whose item's name matched (`where.names`),
        narrowed by `where`, newest week first: `limit` of them after skipping `offset`. Blank text is no hit."""
        query, where = query.strip(), where or SearchFilter()
        if not query and not where.names and where.only is None:
            return []
        if self.s.get_bind().dialect.name == "sqlite":
            return self._sqlite(team_id, query, limit, offset, where)
        return self._generic(team_id, query, limit, offset, where)

    def _sqlite(self, team_id: int, query: str, limit: int, offset: int, where: SearchFilter) -> list[SearchHit]:
        params: dict[str, object] = {"team": team_id, "limit": limit, "offset": offset}
        sources = []
        if query and len(query) >= 3:
            # A quoted phrase: the trigram index finds every row holding the substring.
            sources.append("SELECT rowid FROM search_fts WHERE search_fts MATCH :q")
            params["q"] = '"' + query.replace('"', '""') + '"'
        elif query:  # under three characters no trigram exists; LIKE scans the (narrow) FTS table instead
            sources.append("SELECT rowid FROM search_fts WHERE body LIKE :q ESCAPE '\\'")
            params["q"] = _like_pattern(query)
        keys = where.names if query or where.names else (where.only or frozenset())
        if keys:
            # rowid = source id * 4 + source kind (migration 0003); these go through ix_*_team_item
            sources += ["SELECT id * 4 FROM entries WHERE team_id = :team AND item_key IN :keys",
                        "SELECT id * 4 + 1 FROM bank_statuses WHERE team_id = :team AND item_key IN :keys"]
            params["keys"] = sorted(keys)
        if not sources:
            return []
        conditions = ["f.team_id = :team", "f.body <> ''"]
        binds: list[BindParameter[Any]] = [bindparam("keys", expanding=True)] if keys else []
        for name, values in (("only", where.only), ("kinds", where.kinds)):
            if values is not None:
                column = "f.ref" if name == "only" else "f.kind"
                conditions.append(f"{column} IN :{name}")
                params[name] = sorted(values) or [""]
                binds.append(bindparam(name, expanding=True))
        for name, op in (("first", ">="), ("last", "<=")):
            if getattr(where, name):
                conditions.append(f"w.label {op} :{name}")
                params[name] = getattr(where, name)
        sql = text(
            f"WITH hits(rowid) AS ({' UNION '.join(sources)}) "
            "SELECT w.label, f.kind, f.ref, f.body FROM hits JOIN search_fts AS f ON f.rowid = hits.rowid "
            f"JOIN weeks AS w ON w.id = f.week_id WHERE {' AND '.join(conditions)} "
            "ORDER BY w.label DESC, f.kind, f.ref LIMIT :limit OFFSET :offset").bindparams(*binds)
        return [SearchHit(label, kind, str(ref), body) for label, kind, ref, body in self.s.execute(sql, params)]

    def _generic(self, team_id: int, query: str, limit: int, offset: int, where: SearchFilter) -> list[SearchHit]:
        pattern = _like_pattern(query)
        if len(query) >= 3 and self.s.get_bind().dialect.name == "postgresql":
            # The planner prices ILIKE on multibyte text like any operator, so at a few tens of thousands of
            # rows it picks a sequential scan (~100 ms for 28k entries here) over the trigram index (~1 ms).
            # For this transaction only, tell it to use the index. Under three characters there is no
            # trigram to look up, and the scan is the right plan.
            self.s.execute(text("SET LOCAL enable_seqscan = off"))
        # the very expression migration 0003 indexes, with the separator inline so the planner matches it
        space: ColumnElement[str] = literal_column("' '")
        # Case only matters for cased letters; without any (Chinese, digits) LIKE is the same test and,
        # on PostgreSQL, several times faster than ILIKE on multibyte text.
        cased = query.lower() != query.upper()
        keys = sorted(where.names if query or where.names else (where.only or frozenset()))

        def matches(column: ColumnElement[str] | InstrumentedAttribute[str],
                    key: InstrumentedAttribute[str] | None) -> ColumnElement[bool]:
            found = [column.ilike(pattern, escape="\\") if cased else column.like(pattern, escape="\\")] \
                if query else []
            if key is not None and keys:
                found.append(key.in_(keys))
            return or_(*found) if found else false()

        def narrowed(kind: str, key: ColumnElement[str] | InstrumentedAttribute[str],
                     body: ColumnElement[str] | InstrumentedAttribute[str]) -> list[ColumnElement[bool]]:
            extra: list[ColumnElement[bool]] = [body != ""]
            if where.kinds is not None and kind not in where.kinds:
                extra.append(false())
            if where.only is not None:
                extra.append(key.in_(sorted(where.only)))
            return extra

        incident_text = IncidentRow.system + space + IncidentRow.what + space + IncidentRow.cause + space + IncidentRow.impact
        incident_ref = IncidentRow.number.cast(EntryRow.item_key.type)
        parts = union_all(
            select(EntryRow.week_id, literal("entry").label("kind"), EntryRow.item_key.label("ref"),
                   EntryRow.text.label("body"))
            .where(EntryRow.team_id == team_id, matches(EntryRow.text, EntryRow.item_key),
                   *narrowed("entry", EntryRow.item_key, EntryRow.text)),
            select(BankStatusRow.week_id, literal("bank"), BankStatusRow.item_key, BankStatusRow.note)
            .where(BankStatusRow.team_id == team_id, matches(BankStatusRow.note, BankStatusRow.item_key),
                   *narrowed("bank", BankStatusRow.item_key, BankStatusRow.note)),
            select(IncidentRow.week_id, literal("incident"), incident_ref, incident_text)
            .where(IncidentRow.team_id == team_id, IncidentRow.deleted_at.is_(None),
                   matches(incident_text, None), *narrowed("incident", incident_ref, incident_text)),
        ).subquery()
        weeks = [WeekRow.label >= where.first] if where.first else []
        weeks += [WeekRow.label <= where.last] if where.last else []
        rows = self.s.execute(
            select(WeekRow.label, parts.c.kind, parts.c.ref, parts.c.body)
            .join(parts, parts.c.week_id == WeekRow.id).where(*weeks)
            .order_by(WeekRow.label.desc(), parts.c.kind, parts.c.ref).limit(limit).offset(offset))
        return [SearchHit(label, kind, str(ref), body) for label, kind, ref, body in rows]
