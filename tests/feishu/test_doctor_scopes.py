"""`zhoubao doctor` on Feishu accepts im:chat.members:bot_access for the bot-added event (issue 21 item 9)."""

from __future__ import annotations

from bot.adapters.feishu.doctor import NEEDS, missing_scopes


def test_bot_access_is_enough_for_the_bot_added_event_but_not_for_the_report_chat_check() -> None:
    chat_check = dict(NEEDS)["the report chat check"]
    granted = {scope for _, scopes in NEEDS for scope in scopes} - set(chat_check)
    granted.add("im:chat.members:bot_access")
    missing = [need for need, _ in missing_scopes(granted)]
    assert missing == ["the report chat check"], missing
