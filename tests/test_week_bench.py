"""`bench/week.py` in its small size, so the bench cannot rot: a whole week through the real runtime over HTTP
(prompts, answers with edits, deletions, platform retries and late ones after the post, `/incident`, the
reminder, the publish) against the Slack stand-in, and against the Feishu Open API stand-in with events sealed
and signed as Feishu sends them. It asserts the counts read from the database and the
stand-in, never the times (those are the bench's to print)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.week import run
from tests.conftest import empty_postgres, migrated_sqlite


# Each platform once and each database once (a week takes half a minute to a minute and a half on a busy
# machine): Slack on SQLite, Feishu on PostgreSQL. The bench itself runs any pair.
@pytest.mark.parametrize("database, platform", [
    ("sqlite", "slack"), pytest.param("postgres", "feishu", marks=pytest.mark.postgres)])
def test_a_small_week_loses_nothing_doubles_nothing_and_posts_the_compiled_report_once(
        database: str, platform: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    database_url = (migrated_sqlite(tmp_path / "week.db") if database == "sqlite"
                    else empty_postgres(request.getfixturevalue("postgres_url")))
    phases, c = run(database_url, owners=20, answers=120, incidents=3, scale=100, rate=40, workdir=tmp_path,
                    print_rows=False, platform=platform)
    assert [p.name for p in phases] == ["prompts", "answers", "reminder", "publish", "late", "week"]
    assert c.answers > 80 and c.stored == c.answers
    assert (c.lost, c.doubled, c.not_deleted) == (0, 0, 0), c.doubled_where
    assert c.refused == 0
    assert c.prompted_once == c.owners == 20
    assert c.report_posts == 1 and c.report_equal
    assert c.incidents == 3
    assert c.problems == []
