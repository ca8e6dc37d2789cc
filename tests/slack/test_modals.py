"""The Answer button opens its modal at once (issue 9 item 3): someone the bot must first look up gets an
"opening" modal that becomes the form; someone it knows gets the form directly. Timing is measured in
bench/slack_modals.py, not here."""

from __future__ import annotations

from tests.slack.conftest import Workspace


def _click(ws: Workspace, user: str, trigger: str) -> None:
    assert ws.interactive({"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "trigger_id": trigger,
                           "actions": [{"type": "button", "action_id": "zhoubao_answer", "block_id": "zhoubao_prompt",
                                        "value": "2024-W26", "action_ts": "1"}]}) == 200
    ws.settle()


def test_a_click_from_someone_to_look_up_opens_first_then_shows_the_form(workspace: Workspace) -> None:
    ws = workspace
    _click(ws, "ULINA", "t1")
    [opened] = ws.slack.of("views.open")
    assert opened.args["view"]["blocks"][0]["text"]["text"] == "正在打开表单…"
    assert len(ws.slack.of("users.info")) == 1 and len(ws.slack.of("views.update")) == 1
    form = ws.slack.shown_view()
    assert form["callback_id"] == "zhoubao_answer_form"
    assert ws.slack.of("views.update")[0].args["view_id"] == ws.slack.opened[0], "the opened modal became the form"
    assert [b["label"]["text"] for b in form["blocks"] if b["type"] == "input"][0] == "聚合收单 · 业务"
    # Known now: the next click opens the form itself.
    _click(ws, "ULINA", "t2")
    assert ws.slack.of("views.open")[-1].args["view"]["callback_id"] == "zhoubao_answer_form"
    assert len(ws.slack.of("views.update")) == 1 and not ws.slack.problems


def test_a_stranger_is_told_in_the_modal_that_opened(workspace: Workspace) -> None:
    ws = workspace
    _click(ws, "USTRANGER", "t3")
    shown = ws.slack.shown_view()
    assert "callback_id" not in shown and "不在本团队" in shown["blocks"][0]["text"]["text"]
