"""One Feishu app serving two teams of a department (issue 25), with 陈静 in both (her email in both team
files), over encrypted, signed callbacks: a reply in a prompt card's thread goes to that prompt's team,
`/zhoubao --team <key> …` names the team, and an unthreaded message is asked about (nothing stored). The
rule is the core's (`bot/services/routing.py`); `bot/adapters/feishu/routing.py` only reads the payload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from bot.text.catalogue import say
from tests.behaviour.conftest import MONDAY, at
from tests.behaviour.department import DepartmentProcess, department, team_file
from tests.feishu import payloads
from tests.feishu.conftest import open_id_of

W26 = IsoWeek.parse("2024-W26")


@pytest.fixture
def process(database_url: str) -> Iterator[DepartmentProcess]:
    dept = department(team_file("acquiring", platform="feishu"),
                      team_file("settlement", platform="feishu", emails={"wutao": "chenjing@example.com"}),
                      platform="feishu")
    p = DepartmentProcess.open(dept, database_url, MONDAY, slack_channels={},
                               feishu_chats={"acquiring-weekly", "settlement-weekly", "department-weekly"})
    yield p
    p.close()


def _entries(bot: Bot) -> dict[str, str]:
    return {k: e.text for k, e in bot.week_report.facts(W26).entries.items() if e.text}


def test_a_person_in_two_feishu_teams_answers_each_prompt_and_names_the_team_in_a_command(
        process: DepartmentProcess) -> None:
    p = process
    acquiring, settlement = p.bot("acquiring"), p.bot("settlement")
    p.advance_to(at(27, 10))
    chenjing = open_id_of("chenjing")
    cards = [m for m in p.feishu.sent(to=chenjing, msg_type="interactive")
             if any(e.get("tag") == "form" for e in m.content["body"]["elements"])]
    assert len(cards) == 2  # one prompt card per team
    settlement_card = next(m for m in cards if "对账" in str(m.content))
    app = p.feishu_app("settlement")
    app.post(payloads.message(chenjing, "[1] 对账差异率降到万分之一", p.clock.now, message_id="om_cj_1",
                              parent_id=settlement_card.message_id, root_id=settlement_card.message_id))
    assert "对账差异率降到万分之一" in _entries(settlement).values()
    assert "对账差异率降到万分之一" not in _entries(acquiring).values()

    app.post(payloads.message(chenjing, "整体进度 50%", p.clock.now, message_id="om_cj_2"))  # no thread
    asked = say("zh-CN", "route.which_team", example="acquiring",
                teams="acquiring (收单技术组)、settlement (清结算组)")
    assert app.replies_to("om_cj_2") == [asked]

    app.post(payloads.message(chenjing, "/zhoubao --team settlement status", p.clock.now, message_id="om_cj_3"))
    status = "\n".join(app.replies_to("om_cj_3"))
    assert "对账" in status and "PCI DSS" not in status


def test_a_group_message_that_is_no_command_is_not_asked_about(process: DepartmentProcess) -> None:
    p = process
    app = p.feishu_app("acquiring")
    app.post(payloads.message(open_id_of("chenjing"), "午饭吃什么", p.clock.now, message_id="om_g_1",
                              chat_type="group", chat_id="acquiring-weekly"))
    assert app.replies_to("om_g_1") == []
