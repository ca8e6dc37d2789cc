"""The bot menu (填写周报, 上报事件, 本周进度) and `zhoubao doctor`'s Feishu checks."""

from __future__ import annotations

import json

from pydantic import SecretStr

from bot.adapters.feishu.cards import MenuKey
from bot.adapters.feishu.doctor import check
from bot.runtime.settings import Settings
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of


def _last_to(world: World, person: str) -> dict:
    return world.standin.sent(to=open_id_of(person))[-1].content


def test_menu_fill_sends_the_form_for_this_week(world: World) -> None:
    assert world.post(payloads.menu(open_id_of("zhaolei"), MenuKey.FILL, world.clock.now)).status_code == 200
    card = _last_to(world, "zhaolei")
    form = next(e for e in card["body"]["elements"] if e["tag"] == "form")
    labels = [e["label"]["content"] for e in form["elements"] if e.get("name", "").startswith("item_")]
    assert labels == [f"[{n}] {it.title}" for n, it in enumerate(world.team.items_of("zhaolei"), start=1)]


def test_menu_incident_sends_the_incident_form(world: World) -> None:
    world.post(payloads.menu(open_id_of("sunli"), MenuKey.INCIDENT, world.clock.now))
    card = _last_to(world, "sunli")
    assert "上报生产事件" in card["header"]["title"]["content"]


def test_menu_progress_tells_what_is_answered(world: World) -> None:
    item = world.team.items_of("zhoujie")[0]
    world.bot.inbox.submit_form("feishu", "zhoujie", "f1", {item.key: "进度 80%"}, world.clock.now)
    world.post(payloads.menu(open_id_of("zhoujie"), MenuKey.PROGRESS, world.clock.now))
    text = _last_to(world, "zhoujie")["text"]
    assert f"✅ [1] {item.title}" in text


def test_menu_from_a_stranger_says_so(world: World) -> None:
    world.post(payloads.menu("ou_stranger", MenuKey.FILL, world.clock.now))
    assert "不在本团队" in json.dumps(world.standin.sent(to="ou_stranger")[-1].content, ensure_ascii=False)


def _settings(world: World) -> Settings:
    return Settings(feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"),
                    feishu_domain=world.standin.url, _env_file=None)  # type: ignore[call-arg]


def test_doctor_names_unresolved_people_and_an_unreachable_chat(world: World) -> None:
    world.standin.directory.pop("zhaolei@example.com")
    world.standin.chats.discard(CHANNEL)
    lines = check(_settings(world), world.team)
    bad = [text for ok, text in lines if not ok]
    assert any("赵磊" in t and "zhaolei@example.com" in t for t in bad)
    assert any(CHANNEL in t for t in bad)
    assert all("张伟" not in t for t in bad)


def test_doctor_names_a_missing_permission(world: World) -> None:
    world.standin.fail("POST", "batch_get_id", status=400, code=99991672)
    lines = check(_settings(world), world.team)
    assert any(not ok and "contact:user.id:readonly" in t for ok, t in lines)


def test_doctor_says_the_bot_is_not_in_the_report_chat(world: World) -> None:
    world.standin.chats.discard(CHANNEL)
    world.standin.other_chats.add(CHANNEL)  # the group exists; the bot was never added (or was removed)
    bad = [t for ok, t in check(_settings(world), world.team) if not ok]
    assert bad == [f"feishu report chat {CHANNEL}: the bot is not in this group, so Friday's report cannot be "
                   "posted; add it (group settings → Bots → Add bot)"]


def test_doctor_passes_when_everything_resolves(world: World) -> None:
    assert all(ok for ok, _ in check(_settings(world), world.team))


def test_doctor_names_the_permission_an_event_needs(world: World) -> None:
    del world.standin.scopes["im:message:readonly"]  # the recall event needs it (or im:message)
    world.standin.scopes["contact:user.base:readonly"] = 2  # asked for, not granted
    bad = [t for ok, t in check(_settings(world), world.team) if not ok]
    assert bad == ["feishu permissions: missing im.message.recalled_v1 (grant im:message:readonly or im:message); "
                   "reporters' names (the name field) (grant contact:user.base:readonly)"]


def test_the_documented_subscriptions_are_the_handled_ones_without_read_receipts() -> None:
    from pathlib import Path

    from bot.adapters.feishu.events import SUBSCRIBED, TO_SUBSCRIBE

    doc = (Path(__file__).parents[2] / "docs" / "feishu.md").read_text(encoding="utf-8")
    events = doc[doc.index("2. **Events**"):doc.index("Not needed")]
    assert [e for e in SUBSCRIBED if f"`{e}`" in events] == list(TO_SUBSCRIBE)
    assert "im.message.message_read_v1" not in TO_SUBSCRIBE
