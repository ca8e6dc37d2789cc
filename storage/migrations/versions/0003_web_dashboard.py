"""dashboard: used sign-in nonces, and the search indexes (FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL)

Revision ID: 0003_web
Revises: 0002
Create Date: 2026-11-27

Search must find Chinese words, which have no spaces between them, so word tokenizers do not help.
Trigrams index every three-character run, so a substring of three or more characters is found through
the index; shorter queries (`农行`) are still answered correctly by a scan the LIMIT bounds.
- SQLite: an FTS5 table with the trigram tokenizer (SQLite >= 3.34, https://sqlite.org/fts5.html#the_trigram_tokenizer),
  kept in step with entries, bank statuses and incidents by triggers, so no write path has to know about it.
- PostgreSQL: pg_trgm GIN indexes on the columns themselves (https://www.postgresql.org/docs/current/pgtrgm.html
  "Index Support": LIKE/ILIKE use them).
These objects are dialect-specific and made only here; their names start with `search_`.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_web"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# rowid in search_fts = source id * 4 + source kind, so a trigger finds the row it replaces
_SQLITE_SOURCES = {
    "entries": ("0", "'entry'", "new.item_key", "new.text", "1"),
    "bank_statuses": ("1", "'bank'", "new.item_key", "new.note", "1"),
    "incidents": ("2", "'incident'", "CAST(new.number AS TEXT)",
                  "new.system || ' ' || new.what || ' ' || new.cause || ' ' || new.impact",
                  "new.deleted_at IS NULL"),
}
INCIDENT_TEXT = "(system || ' ' || what || ' ' || cause || ' ' || impact)"


def upgrade() -> None:
    op.create_table(
        "signin_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_nonces")),
        sa.UniqueConstraint("purpose", "nonce", name=op.f("uq_signin_nonces_purpose_nonce")),
    )
    for table in ("entries", "bank_statuses", "metric_values"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_team_item", ["team_id", "item_key"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5("
                   "body, team_id UNINDEXED, week_id UNINDEXED, kind UNINDEXED, ref UNINDEXED, "
                   "tokenize='trigram')")
        for table, (n, kind, ref, body, keep) in _SQLITE_SOURCES.items():
            insert = (f"INSERT INTO search_fts(rowid, body, team_id, week_id, kind, ref) "
                      f"SELECT new.id * 4 + {n}, {body}, new.team_id, new.week_id, {kind}, {ref} WHERE {keep};")
            delete = f"DELETE FROM search_fts WHERE rowid = old.id * 4 + {n};"
            op.execute(f"CREATE TRIGGER search_{table}_ai AFTER INSERT ON {table} BEGIN {insert} END")
            op.execute(f"CREATE TRIGGER search_{table}_au AFTER UPDATE ON {table} BEGIN {delete} {insert} END")
            op.execute(f"CREATE TRIGGER search_{table}_ad AFTER DELETE ON {table} BEGIN {delete} END")
            backfill = insert.replace("new.", "").replace(" WHERE", f" FROM {table} WHERE")
            op.execute(backfill)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX search_entries_trgm ON entries USING gin (text gin_trgm_ops)")
        op.execute("CREATE INDEX search_bank_statuses_trgm ON bank_statuses USING gin (note gin_trgm_ops)")
        op.execute(f"CREATE INDEX search_incidents_trgm ON incidents USING gin ({INCIDENT_TEXT} gin_trgm_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in _SQLITE_SOURCES:
            for suffix in ("ai", "au", "ad"):
                op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{suffix}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == "postgresql":
        for name in ("search_entries_trgm", "search_bank_statuses_trgm", "search_incidents_trgm"):
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for table in ("entries", "bank_statuses", "metric_values"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_team_item")
    op.drop_table("signin_nonces")
