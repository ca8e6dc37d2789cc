"""Card builders are pure: sizes, escaping and the incident form's translation, without a network."""

from __future__ import annotations

import json
import threading

from bot.adapters.feishu import cards
from bot.adapters.feishu.events import FeishuEvents, incident_command
from tests.feishu import payloads
from tests.feishu.conftest import World, open_id_of


def _post(paragraphs: list[str], heading_every: int = 0) -> dict:
    content = []
    for n, text in enumerate(paragraphs):
        el: dict = {"tag": "text", "text": text}
        if heading_every and n % heading_every == 0:
            el["style"] = ["bold"]
        content.append([el])
    return {"zh_cn": {"title": "2024-W26 周报", "content": content}}


def test_a_small_report_is_one_card_with_its_title() -> None:
    [card] = cards.report_cards(_post(["【聚合收单】", "1. 业务：", "• 平稳"], heading_every=3))
    assert card["header"]["title"]["content"] == "2024-W26 周报"
    assert [e["text"]["content"] for e in card["body"]["elements"]] == ["【聚合收单】", "1. 业务：\n• 平稳"]


def test_every_card_stays_under_the_limit_and_nothing_is_lost() -> None:
    paragraphs = [f"第{n}行：" + "很长的说明" * 200 for n in range(40)] + ["单独一行" * 5000]
    split = cards.report_cards(_post(paragraphs, heading_every=7), limit=20_000)
    assert len(split) > 2
    assert all(cards.card_size(c) <= 20_000 for c in split)
    assert all(len(c["body"]["elements"]) <= cards.ELEMENT_LIMIT for c in split)
    joined = "".join(e["text"]["content"].replace("\n", "") for c in split for e in c["body"]["elements"])
    assert joined == "".join(paragraphs)


def test_typed_mentions_come_out_as_text() -> None:
    content = json.loads(cards.text_content('提醒 <at user_id="all">所有人</at> 和 @all'))
    assert "<at" not in content["text"] and "@all" not in content["text"]
    assert "所有人" in content["text"]


def test_the_incident_form_becomes_one_command_in_the_core_grammar() -> None:
    form = {"started": "06/27  20:05", "what": "gateway-api\n节点CPU打满", "cause": "缺少分页", "impact": "",
            "recovered": "21:00", "severity": "C"}
    assert incident_command(form) == "06/27 20:05 gateway-api 节点CPU打满 原因：缺少分页 恢复：21:00 级别：C"


class _SlowRunner:
    """A worker thread that starts only when told, so the card callback times out first."""

    def __init__(self) -> None:
        self.go = threading.Event()

    def submit(self, fn):  # type: ignore[no-untyped-def]
        from concurrent.futures import Future
        future: Future = Future()

        def run() -> None:
            self.go.wait(5)
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)
        threading.Thread(target=run, daemon=True).start()
        return future


def test_a_slow_submission_answers_at_once_and_patches_the_card_when_done(world: World) -> None:
    world.bot.cycle.send_prompts()
    prompt = world.prompt_to("zhoujie")
    form = next(e for e in prompt.content["body"]["elements"] if e["tag"] == "form")
    value = next(e for e in form["elements"] if e["tag"] == "button")["behaviors"][0]["value"]
    runner = _SlowRunner()
    slow = FeishuEvents(world.bot, world.gateway, runner=runner, card_wait=0.05)
    answer = slow.dispatch(payloads.card_action(open_id_of("zhoujie"), value, {"item_1": "慢慢保存的进展"},
                                                prompt.message_id, world.clock.now))
    assert answer is not None and answer["toast"]["type"] == "info" and "card" not in answer
    runner.go.set()
    for _ in range(200):
        if prompt.patches:
            break
        threading.Event().wait(0.01)
    assert "慢慢保存的进展" in json.dumps(prompt.current, ensure_ascii=False)
