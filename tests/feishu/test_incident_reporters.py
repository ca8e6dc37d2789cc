"""Anyone in the Feishu tenant may file an incident; the reporter is named from the contact directory."""

from __future__ import annotations

import json

from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World


def test_a_tenant_member_not_in_the_team_files_an_incident(world: World) -> None:
    world.standin.names["ou_oncall"] = "王五"
    payload = payloads.message("ou_oncall", "/incident 06/27 09:12 清结算批量任务超时 原因：对账文件翻倍 级别：D",
                               world.clock.now, message_id="om_out1")
    assert world.post(payload).status_code == 200
    [reply] = world.replies_to("om_out1")
    assert "已记录事件" in reply and "上报：王五" in reply
    form = {"start": "06/27 10:00", "system": "gateway-api", "what": "节点CPU打满", "severity": "C"}
    value = {"action": "incident"}
    answer = world.events.dispatch(payloads.card_action("ou_oncall", value, form, "om_card", world.clock.now))
    assert answer is not None and answer["toast"]["type"] == "success"
    world.bot.cycle.publish(world.bot.ctx.week_of(world.clock.now), world.clock.now)
    cards = world.standin.sent(to=CHANNEL, msg_type="interactive")
    report = json.dumps([m.content for m in cards], ensure_ascii=False)
    assert "06/27 09:12 清结算批量任务超时，原因：对账文件翻倍" in report and "gateway-api节点CPU打满" in report
    listing = world.bot.incidents.list_text(world.bot.ctx.week_of(world.clock.now))
    assert listing.count("上报：王五") == 2
    assert len(world.standin.calls_to("GET", "contact/v3/users/ou_oncall")) == 1, "looked up once, cached"
