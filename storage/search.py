"""Full-text search over answers, bank notes and incidents, done by the database with an index and a LIMIT.

See migration 0003_web for the index: FTS5 with the trigram tokenizer on SQLite, pg_trgm GIN on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import literal, literal_column, select, text, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import BankStatusRow, EntryRow, IncidentRow, WeekRow


@dataclass(frozen=True)
class SearchHit:
    week: str  # 2024-W26
    kind: str  # entry | bank | incident
    ref: str  # the item key, or the incident number
    text: str


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Search:
    def __init__(self, session: Session) -> None:
        self.s = session

    def find(self, team_id: int, query: str, limit: int = 50) -> list[SearchHit]:
        """Lines containing `query` (case-insensitive), newest week first, at most `limit`."""
        query = query.strip()
        if not query:
            return []
        if self.s.get_bind().dialect.name == "sqlite":
            return self._sqlite(team_id, query, limit)
        return self._generic(team_id, query, limit)

    def _sqlite(self, team_id: int, query: str, limit: int) -> list[SearchHit]:
        if len(query) >= 3:
            # A quoted phrase: the trigram index finds every row holding the substring.
            where, arg = "f.body MATCH :q", '"' + query.replace('"', '""') + '"'
        else:  # under three characters no trigram exists; LIKE scans the (narrow) FTS table instead
            where, arg = "f.body LIKE :q ESCAPE '\\'", _like_pattern(query)
        rows = self.s.execute(text(
            "SELECT w.label, f.kind, f.ref, f.body FROM search_fts AS f JOIN weeks AS w ON w.id = f.week_id "
            f"WHERE {where} AND f.team_id = :team "
            "ORDER BY w.label DESC, f.rowid LIMIT :limit"), {"q": arg, "team": team_id, "limit": limit})
        return [SearchHit(label, kind, str(ref), body) for label, kind, ref, body in rows]

    def _generic(self, team_id: int, query: str, limit: int) -> list[SearchHit]:
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

        def matches(column: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
            return column.ilike(pattern, escape="\\") if cased else column.like(pattern, escape="\\")

        incident_text = IncidentRow.system + space + IncidentRow.what + space + IncidentRow.cause + space + IncidentRow.impact
        parts = union_all(
            select(EntryRow.week_id, literal("entry").label("kind"), EntryRow.item_key.label("ref"),
                   EntryRow.text.label("body"))
            .where(EntryRow.team_id == team_id, matches(EntryRow.text)),
            select(BankStatusRow.week_id, literal("bank"), BankStatusRow.item_key, BankStatusRow.note)
            .where(BankStatusRow.team_id == team_id, matches(BankStatusRow.note)),
            select(IncidentRow.week_id, literal("incident"), IncidentRow.number.cast(EntryRow.item_key.type),
                   incident_text)
            .where(IncidentRow.team_id == team_id, IncidentRow.deleted_at.is_(None),
                   matches(incident_text)),
        ).subquery()
        rows = self.s.execute(
            select(WeekRow.label, parts.c.kind, parts.c.ref, parts.c.body)
            .join(parts, parts.c.week_id == WeekRow.id)
            .order_by(WeekRow.label.desc(), parts.c.kind, parts.c.ref).limit(limit))
        return [SearchHit(label, kind, str(ref), body) for label, kind, ref, body in rows]
