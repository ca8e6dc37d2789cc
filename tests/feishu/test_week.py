"""A whole week on Feishu, end to end through the HTTP endpoint and the loopback Open API.

Card prompts, a form submission, text replies in a prompt's thread, a recall, /incident typed and by
form, a group @mention, the reminder, the Friday card and a late answer that patches it.
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain.weeks import IsoWeek
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of

WEEK = IsoWeek.parse("2024-W26")


def _button_value(card: dict[str, Any]) -> dict[str, Any]:
    form = next(e for e in card["body"]["elements"] if e.get("tag") == "form")
    button = next(e for e in form["elements"] if e.get("tag") == "button")
    return dict(button["behaviors"][0]["value"])


def _report_text(world: World) -> str:
    return world.bot.ctx.renderer.markdown(world.bot.week_report.compile(WEEK))


def _card_text(card: dict[str, Any]) -> str:
    return "\n".join(e["text"]["content"] for e in card["body"]["elements"] if e.get("tag") == "div")


def _say(world: World, who: str, text: str, **kw: Any) -> dict[str, Any]:
    payload = payloads.message(open_id_of(who), text, world.clock.now, **kw)
    assert world.post(payload).status_code == 200
    return payload


def test_a_week_on_feishu(world: World) -> None:
    team = world.team
    # Thursday 10:00: every owner gets one card in their chat with the bot, sent with a uuid.
    assert world.bot.cycle.send_prompts() == len(team.owners())
    prompts = world.standin.sent(msg_type="interactive")
    assert sorted(m.receive_id for m in prompts) == sorted(open_id_of(p) for p in team.owners())
    assert all(m.uuid for m in prompts)
    assert len(world.standin.calls_to("POST", "batch_get_id")) == 1  # emails looked up once, in one batch
    lina = world.prompt_to("lina")
    inputs = [e for e in next(e for e in lina.content["body"]["elements"] if e["tag"] == "form")["elements"]
              if e.get("name", "").startswith("item_")]
    assert [i["label"]["content"] for i in inputs] == [
        f"[{n}] {it.title}" for n, it in enumerate(team.items_of("lina"), start=1)]
    # Running the job again (a restart) prompts nobody twice.
    world.bot.cycle.send_prompts()
    assert len(world.standin.sent(msg_type="interactive")) == len(prompts)

    # 李娜 fills the form; the card turns into what was stored.
    value = _button_value(lina.content)
    resp = world.post(payloads.card_action(open_id_of("lina"), value, {
        "item_1": "商户入网新流程在上海、杭州切量，交易运行平稳。", "item_2": "系统开发进度70%", "question": "无"},
        lina.message_id, world.clock.now))
    answer = resp.json()
    assert resp.status_code == 200 and answer["toast"]["type"] == "success"
    shown = _card_text(answer["card"]["data"])
    assert "商户入网新流程在上海、杭州切量" in shown and "系统开发进度70%" in shown
    assert "商户入网新流程在上海、杭州切量" in _report_text(world)

    # 王强 replies in his prompt's thread; the bank lines land in his item.
    wang = world.prompt_to("wangqiang")
    _say(world, "wangqiang", "建行：接口文档已获取，联调环境申请中。\n招行：跨行代扣方案评审通过。",
         message_id="om_wq1", parent_id=wang.message_id, root_id=wang.message_id)
    assert "建行：接口文档已获取，联调环境申请中。" in _report_text(world)
    assert any("已记录" in t for t in world.replies_to("om_wq1"))

    # 周杰 sends something, recalls it, then sends the real answer.
    zhou = _say(world, "zhoujie", "机房迁移进度 75%", message_id="om_zj1")
    assert "75%" in _report_text(world)
    assert world.post(payloads.recalled("om_zj1", zhou["event"]["message"]["chat_id"], world.clock.now)).status_code == 200
    assert "机房迁移进度 75%" not in _report_text(world)
    assert any("已撤回" in json.dumps(m.content, ensure_ascii=False) for m in world.standin.sent(to="oc_p2p_ou_zhoujie"))
    _say(world, "zhoujie", "机房迁移：整体进度达到了80%，<at user_id=\"all\">所有人</at> 请留意 @all")

    # /incident typed in the chat with the bot, in the core grammar.
    world.clock.advance(hours=10, minutes=30)
    _say(world, "liuyang", "/incident 06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页 级别：C",
         message_id="om_inc1")
    assert any("已记录事件" in t for t in world.replies_to("om_inc1"))
    announced = [m for m in world.standin.sent(to=CHANNEL, msg_type="text")]
    assert any("gateway-api" in m.content["text"] for m in announced)
    # ... and with an @mention in a group; a group message without one is ignored.
    mention = [{"key": "@_user_1", "id": {"open_id": world.standin.bot_open_id}, "name": "周报"}]
    _say(world, "sunli", "@_user_1 /incident 06/27 21:00 清结算批量任务超时 级别：D", chat_type="group",
         chat_id=CHANNEL, message_id="om_g1", mentions=mention)
    _say(world, "sunli", "/incident 06/27 21:30 没有提到机器人", chat_type="group", chat_id=CHANNEL,
         message_id="om_g2")
    incidents = world.bot.incidents.list_text(WEEK)
    assert "清结算批量任务超时" in incidents and "没有提到机器人" not in incidents
    # /incident alone answers with the form; submitting it files the incident.
    _say(world, "chenjing", "/incident", message_id="om_inc2")
    form_card = next(m for m in world.standin.messages.values() if m.reply_to == "om_inc2")
    resp = world.post(payloads.card_action(open_id_of("chenjing"), _button_value(form_card.content), {
        "start": "06/27 20:00", "system": "pci-vault", "what": "证书过期", "cause": "续期提醒失效", "severity": "D",
        "weight": "0.5"},
        form_card.message_id, world.clock.now))
    assert resp.json()["toast"]["type"] == "success"
    assert "#3 06/27 20:00 [D ×0.5] pci-vault证书过期" in world.bot.incidents.list_text(WEEK)

    assert world.bot.week_report.incident_answers(WEEK) == {"lina": "none"}, "the card's incident question is answered"

    # Friday 10:00: reminders go only to owners with something missing (an item or the incident question).
    world.clock.advance(hours=13)
    before = len(world.standin.sent(msg_type="interactive"))
    reminded = world.bot.cycle.remind()
    reminders = world.standin.sent(msg_type="interactive")[before:]
    assert reminded == len(reminders) and open_id_of("lina") not in {m.receive_id for m in reminders}
    missing = [m for m in world.standin.sent(to=open_id_of("zhangwei"), msg_type="text")]
    assert any("尚未填写" in m.content["text"] for m in missing)

    # Friday 17:00: the report goes to the group as a card with what people wrote; nobody is pinged.
    world.clock.advance(hours=7)
    result = world.bot.cycle.publish()
    posted = world.standin.sent(to=CHANNEL, msg_type="interactive")
    assert [m.message_id for m in posted] == [r.message_id for r in result.refs]
    text = "\n".join(_card_text(m.content) for m in posted)
    for typed in ("商户入网新流程在上海、杭州切量", "建行：接口文档已获取", "整体进度达到了80%", "gateway-api"):
        assert typed in text
    raw = json.dumps([m.content for m in posted], ensure_ascii=False)
    assert "<at" not in raw and "@all" not in raw and "<\u200bat" in raw

    # A late answer edits the card in place: no second post.
    world.clock.advance(hours=1)
    _say(world, "zhoujie", "机房迁移：生产验证提前完成")
    assert world.standin.sent(to=CHANNEL, msg_type="interactive") == posted
    assert "生产验证提前完成" in _card_text(posted[0].current) or \
        any("生产验证提前完成" in _card_text(m.current) for m in posted)
    assert world.standin.calls_to("PATCH", "/open-apis/im/v1/messages/")
