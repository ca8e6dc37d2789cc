"""The database goes away while answers arrive (a TCP proxy on loopback is cut; the shared PostgreSQL
server keeps running): answers are refused for redelivery or spooled, and all are stored once it returns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.runtime.composition import build_bot
from bot.services.chat import Inbound
from bot.services.spool import AnswerSpool
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
    bot = build_bot(team_with(), FakeChat(), clock, database_url=url)
    spool = AnswerSpool(bot.inbox, tmp_path / "spool", "test-instance")
    owners = bot.ctx.team.owners()

    def answer(n: int) -> Inbound:
        return Inbound(platform="fake", user=owners[n % len(owners)], source_id=f"m{n}",
                       text=f"本周进展 {n}", at=clock.now + timedelta(minutes=n))

    for n in range(3):
        assert spool.receive(answer(n)) is not None
    cut.cut()
    with pytest.raises(DatabaseUnavailable):  # the refusing adapter: non-2xx, the platform redelivers
        bot.inbox.receive(answer(3))
    kept = [spool.receive(answer(n)) for n in range(4, 9)]  # the spooling adapter: acknowledged and kept
    assert all(r is not None and r.ok for r in kept)
    assert spool.pending() == 5
    assert spool.drain() == 0 and spool.pending() == 5  # still down: nothing lost, nothing stored

    cut.restore()
    assert spool.drain() == 5 and spool.pending() == 0
    assert spool.receive(answer(3)) is not None  # the platform's redelivery of the refused one
    assert spool.drain() == 0
    assert stored(pg_database) == 9
    bot.engine.dispose()
