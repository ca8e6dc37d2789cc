"""Issue 18, bug 3: one rule (`Team.may_write`) decides who writes an item in chat, in the answer form and on the
dashboard. A section note's listed writer who is not its first owner (lina, the second owner of O1's items) may
write O1's note everywhere; the dashboard used to refuse anyone but the note's first owner or an editor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.services.dashboard import Dashboard, NotAllowed
from bot.services.signin import Role, Viewer
from tests.behaviour.conftest import MONDAY, PLATFORMS, at
from tests.behaviour.driver import Driver, Stored
from tests.behaviour.test_week import act
from tests.helpers import example_team

WEEK = IsoWeek.parse("2024-W26")
NOTE = "note:okr:O1"
TITLE = "O1 业务服务 · 备注"


def _o1_with_a_note() -> Team:
    data: dict[str, Any] = example_team().model_dump()
    data["okrs"][0]["notes"] = True  # O1 业务服务: items owned by zhaolei (first) and lina
    return Team.model_validate(data)


@pytest.fixture(params=list(PLATFORMS))
def noted(request: pytest.FixtureRequest, database_url: str) -> Iterator[Driver]:
    d = PLATFORMS[request.param](database_url, MONDAY, team=_o1_with_a_note())
    yield d
    d.close()


def test_a_notes_listed_writer_writes_it_in_chat_in_the_form_and_on_the_dashboard(noted: Driver) -> None:
    d = noted
    d.advance_to(at(27, 10))
    assert act(d, "lina", lambda: d.say("O1 业务服务备注：对公代付依赖银行专线")) == [f"✅ 已记录：{TITLE}"]
    assert Stored.of(d.bot, WEEK).entries[NOTE][0] == "对公代付依赖银行专线"
    assert act(d, "lina", lambda: d.submit_answer_form(item=NOTE, text="专线下周开通")) == [f"✅ 已记录：{TITLE}"]
    assert Stored.of(d.bot, WEEK).entries[NOTE][0] == "专线下周开通"
    # The dashboard: the same person may edit the same note, and nothing that is not theirs.
    lina = Viewer(d.bot.ctx.team.person_by_id["lina"], Role.MEMBER)
    dashboard = Dashboard(d.bot)
    editable = {s.item.key for s in dashboard.week(WEEK, lina).items if s.editable}
    assert editable == {it.key for it in d.bot.ctx.team.items_of("lina")} == {
        "project:聚合收单/业务", "okr:O1/对公代付", NOTE}
    assert dashboard.edit(lina, WEEK, NOTE, "专线已开通").ok
    assert Stored.of(d.bot, WEEK).entries[NOTE][0] == "专线已开通"
    with pytest.raises(NotAllowed):
        dashboard.edit(lina, WEEK, "okr:O1/跨境收款", "不是我的")
