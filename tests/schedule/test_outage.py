"""The database goes away while answers arrive (a TCP proxy on loopback is cut; the shared PostgreSQL
server keeps running): answers are refused for redelivery or kept in the inbound journal's spool, and all are
stored once it returns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.runtime.composition import build_bot
from bot.services.chat import Inbound
from bot.services.journal import Entry, InboundJournal
from storage.db import DatabaseUnavailable, make_engine, session_factory
from storage.models import AnswerMessageRow
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.schedule.conftest import team_with
from tests.schedule.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy(pg_database: str) -> Iterator[tuple[CuttableProxy, str]]:
    url = make_url(pg_database.replace("postgresql://", "postgresql+psycopg://", 1)
                   if pg_database.startswith("postgresql://") else pg_database)
    p = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    yield p, url.set(host="127.0.0.1", port=p.port).render_as_string(hide_password=False)
    p.close()


def stored(url: str) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(AnswerMessageRow)) or 0
    engine.dispose()
    return n


def test_answers_during_an_outage_are_all_stored(proxy: tuple[CuttableProxy, str], pg_database: str,
                                                 tmp_path: Path) -> None:
    cut, url = proxy
    clock = FixedClock(datetime(2024, 6, 27, 11, 0, tzinfo=SHANGHAI))
    bot = build_bot(team_with(), FakeChat(), clock, database_url=url, spool_dir=tmp_path / "spool")
    journal = bot.journal  # what every adapter's ack path records into
    assert journal is not None
    refusing = InboundJournal(bot.ctx, bot.engine, spool=None)  # an ack path with nowhere to keep it
    owners = bot.ctx.team.owners()

    def answer(n: int) -> dict[str, str]:
        return {"user": owners[n % len(owners)], "id": f"m{n}", "text": f"本周进展 {n}"}

    def store(entry: Entry) -> None:
        p = entry.payload
        bot.inbox.receive(Inbound("fake", p["user"], p["id"], p["text"], entry.received_at))

    journal.register("fake", store)
    for n in range(3):
        assert journal.record("fake", f"m{n}", "message", answer(n))
    assert journal.run_pending() == 3
    cut.cut()
    with pytest.raises(DatabaseUnavailable):  # non-2xx: the platform redelivers
        refusing.record("fake", "m3", "message", answer(3))
    assert all(journal.record("fake", f"m{n}", "message", answer(n)) for n in range(4, 9))  # acknowledged, kept
    assert journal.spooled() == 5
    assert journal.run_pending() == 0 and journal.spooled() == 5  # still down: nothing lost, nothing stored

    cut.restore()
    assert journal.run_pending() == 5 and journal.spooled() == 0
    assert journal.record("fake", "m3", "message", answer(3))  # the platform's redelivery of the refused one
    assert not journal.record("fake", "m4", "message", answer(4))  # a redelivery of one kept: journaled once
    assert journal.run_pending() == 1
    assert stored(pg_database) == 9
    bot.engine.dispose()
