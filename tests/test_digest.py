"""The week's key points end to end: the real `openai` client against an OpenAI-compatible stand-in over
loopback HTTP (tests/ai/stand_in.py), the bot's own jobs (remind prepares, publish posts), and what people
see: the posted report, the Slack blocks and Feishu cards built from it, the editors' DMs, the preview."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.feishu.cards import report_cards
from bot.adapters.slack.blocks import report_messages
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.services.bot import Bot
from bot.services.digest import DigestConfig
from bot.services.digest_model import OpenAIChatModel
from storage.db import session_factory
from storage.digests import DigestStore
from storage.reports import Reports
from tests.ai.stand_in import ModelStandIn, ServedModel
from tests.conftest import SHANGHAI, invoke
from tests.fakes import FakeChat, FixedClock
from tests.helpers import example_team, say

WEEK = IsoWeek.parse("2024-W26")
REMIND = datetime(2024, 6, 28, 10, 0, tzinfo=SHANGHAI)
PUBLISH = datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI)
GOOD = [{"text": "v2.0已于6月26日全量上线，收单v2.1方案评审完成。", "cites": ["P1.3"]},
        {"text": "智能路由一期上线完成，覆盖12城。", "cites": ["O2.1"]},
        {"text": "PCI DSS 认证整体进度 45%，密钥轮换流程的留痕方案未定。", "cites": ["P2"]}]


def answer(lines: list[dict[str, Any]]) -> Any:
    return lambda body: json.dumps({"lines": lines}, ensure_ascii=False)


@pytest.fixture
def model() -> Iterator[ServedModel]:
    with ServedModel(ModelStandIn(answer=answer(GOOD))) as served:
        yield served


def make(database_url: str, chat: FakeChat, clock: FixedClock, served: ServedModel, *, timeout: float = 30,
         **config: Any) -> Bot:
    return build_bot(example_team(), chat, clock, database_url=database_url,
                     digest_model=OpenAIChatModel(served.base_url, "qwen2.5:7b", None, timeout),
                     digest_config=DigestConfig(**config))


def fill(bot: Bot) -> None:
    """Three owners answer, as in the seed week."""
    bot.cycle.send_prompts()
    say(bot, "liuyang", "- 收单v2.1方案评审完成，目标是缩短支付页首屏时间。\n- v2.0已于6月26日全量上线。", item=1)
    say(bot, "liuyang", "交易路由：智能路由一期上线完成，覆盖12城")
    say(bot, "chenjing", "本周完成差距分析与整改清单，已提交审核方，整体进度 45%\n主要问题：密钥轮换流程的留痕方案未定",
        item=1)


def editor_notices(chat: FakeChat, words: str) -> list[str]:
    return [s.text for s in chat.of_kind("text") if s.to == "zhangwei" and words in s.text]


def test_prepared_at_reminder_time_and_posted_on_top_of_every_rendering(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    bot = make(database_url, chat, clock, model)
    fill(bot)
    clock.now = REMIND
    bot.cycle.remind(at=REMIND)
    assert len(model.stand_in.requests) == 1 and model.stand_in.requests[0]["stream"] is False
    clock.now = PUBLISH
    bot.cycle.publish_on_schedule(at=PUBLISH)
    assert len(model.stand_in.requests) == 1, "publishing never calls the model"
    posted = chat.of_kind("report")[-1].text
    top = ("# 2024-W26\n\nCreated: 2024年6月28日 17:00\n\n## 【本周要点】\n\n"
           "1. v2.0已于6月26日全量上线，收单v2.1方案评审完成。（刘洋 · 聚合收单 · 产研）\n"
           "2. 智能路由一期上线完成，覆盖12城。（刘洋 · O2 能力升级 · 交易路由）\n"
           "3. PCI DSS 认证整体进度 45%，密钥轮换流程的留痕方案未定。（陈静 · PCI DSS 认证）\n\n- 【聚合收单】")
    assert posted.startswith(top)
    with session_factory(bot.engine)() as s:
        row = Reports(s).by_label(bot.ctx.team_id, WEEK.label)
        assert row is not None
        slack, feishu = row.slack, row.feishu
        digest = DigestStore(s).get(bot.ctx.team_id, row.week_id)
        assert digest is not None and digest.model == "qwen2.5:7b" and len(digest.facts_hash) == 64
        assert digest.settings["max_lines"] == 5 and [d["text"] for d in digest.published or []] == [
            g["text"] for g in GOOD]
    first = report_messages(slack)[0]
    text = json.dumps(first, ensure_ascii=False)
    assert text.index("*【本周要点】*") < text.index("1. v2.0已于6月26日全量上线") < text.index("*【聚合收单】*")
    card = json.dumps(report_cards(json.loads(feishu))[0], ensure_ascii=False)
    assert card.index("【本周要点】") < card.index("3. PCI DSS 认证整体进度 45%") < card.index("【聚合收单】")


def test_a_line_with_an_invented_fact_or_an_unknown_id_is_dropped_and_shown_to_the_editor(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    model.stand_in.answer = answer([
        *GOOD,
        {"text": "PCI DSS 认证整体进度 60%。", "cites": ["P2"]},  # a number
        {"text": "v2.0已于6月27日全量上线。", "cites": ["P1.3"]},  # a date
        {"text": "王强确认智能路由上线。", "cites": ["O2.1"]},  # a name
        {"text": "对公代付进度 70%。", "cites": ["O1.9"]},  # an unknown id
    ])
    bot = make(database_url, chat, clock, model)
    fill(bot)
    view = bot.digests.prepare(WEEK)
    assert view is not None and view.state == "ready"
    assert [p.text for p in view.points] == [g["text"] for g in GOOD]
    assert [(d.reason, d.detail) for d in view.dropped] == [("number", "60"), ("number", "27"), ("name", "王强"),
                                                           ("unknown_id", "O1.9")]
    preview = bot.commands.handle("fake", "zhangwei", "preview", clock()).text
    assert "## 【本周要点】" in preview and "60%" not in preview.split("---")[0]
    assert "被丢弃的行（4）：" in preview
    assert "- 对公代付进度 70%。 — 引用了本周不存在的条目 O1.9" in preview
    assert "- 王强确认智能路由上线。 — 王强 不在所引用条目的内容里" in preview


@pytest.mark.parametrize("mode", ["hang", "500", "not_json", "bad_body"])
def test_a_failing_model_leaves_the_report_on_time_without_a_digest_and_the_editors_told_once(
        mode: str, database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    model.stand_in.mode = mode
    bot = make(database_url, chat, clock, model, timeout=1)
    fill(bot)
    clock.now = REMIND
    bot.cycle.remind(at=REMIND)
    bot.cycle.remind(number=2, at=REMIND)  # a second reminder tries again, and tells nobody again
    clock.now = PUBLISH
    result = bot.cycle.publish_on_schedule(at=PUBLISH)
    assert result is not None
    posted = chat.of_kind("report")[-1].text
    assert posted.startswith("# 2024-W26\n\nCreated: 2024年6月28日 17:00\n\n- 【聚合收单】")
    assert "本周要点" not in posted
    notices = editor_notices(chat, "本周要点没有生成")
    assert len(notices) == 1, notices
    reason = {"hang": "模型在 1 秒内没有回答", "500": "模型服务返回 HTTP 500",
              "not_json": "模型的回答不是要求的 JSON", "bad_body": "模型的回答不是要求的 JSON"}[mode]
    assert reason in notices[0]


def test_publish_with_nothing_prepared_posts_without_and_tells_once(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    bot = make(database_url, chat, clock, model)
    fill(bot)
    bot.cycle.publish(WEEK, PUBLISH)
    bot.cycle.publish(WEEK, PUBLISH)  # a republish after a late answer
    assert model.stand_in.requests == []
    assert len(editor_notices(chat, "发布前没有准备好的本周要点")) == 1


def test_the_editor_edits_turns_off_and_the_setting_decides_when_nothing_was_approved(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    bot = make(database_url, chat, clock, model, post_unapproved="none")
    fill(bot)
    bot.digests.prepare(WEEK)
    assert bot.cycle.publish(WEEK, PUBLISH).markdown.find("本周要点") == -1  # not approved, setting "none"
    bot.digests.approve(WEEK, "zhangwei", texts=["v2.0 全量上线。", "", "PCI DSS 进度 45%。"])
    published = bot.cycle.publish(WEEK, PUBLISH).markdown
    assert "1. v2.0 全量上线。（刘洋 · 聚合收单 · 产研）\n2. PCI DSS 进度 45%。（陈静 · PCI DSS 认证）" in published
    assert "本周要点：已由 张伟 批准" in bot.digests.notes(WEEK)
    bot.digests.turn_off(WEEK)
    assert "本周要点" not in bot.cycle.publish(WEEK, PUBLISH).markdown
    # Once approved or off, a reminder does not ask the model again.
    bot.cycle.remind(at=REMIND)
    assert len(model.stand_in.requests) == 1


def test_pseudonyms_go_out_instead_of_names_and_come_back(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    bot = make(database_url, chat, clock, model, pseudonyms=True)
    pid = bot.ctx.person_ids["liuyang"]
    model.stand_in.answer = answer([{"text": f"person-{pid} 报告 v2.0已于6月26日全量上线。", "cites": ["P1.3"]},
                                    {"text": "智能路由一期上线完成，覆盖12城。", "cites": ["O2.1"]}])
    fill(bot)
    view = bot.digests.prepare(WEEK)
    sent = json.dumps(model.stand_in.requests[0], ensure_ascii=False)
    assert "刘洋" not in sent and "陈静" not in sent and f"person-{pid}" in sent
    assert view is not None and view.points[0].text == "刘洋 报告 v2.0已于6月26日全量上线。"


def test_each_call_is_logged_with_host_model_tokens_and_time_never_the_text(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel,
        caplog: pytest.LogCaptureFixture) -> None:
    bot = make(database_url, chat, clock, model)
    fill(bot)
    with caplog.at_level(logging.INFO, logger="zhoubao.digest"):
        bot.digests.prepare(WEEK)
    calls = [r for r in caplog.records if r.getMessage() == "digest model call"]
    assert len(calls) == 1
    call = calls[0].__dict__
    assert call["host"] == model.base_url.split("/")[2] and call["model"] == "qwen2.5:7b"
    assert call["tokens_in"] > 0 and call["tokens_out"] > 0 and call["duration_ms"] >= 0
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "智能路由" not in logged and "密钥轮换" not in logged


def test_dry_run_prints_the_request_and_its_host_and_sends_nothing(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, model: ServedModel) -> None:
    assert invoke("demo").exit_code == 0
    monkeypatch.setenv("AI_BASE_URL", model.base_url)
    monkeypatch.setenv("AI_MODEL", "qwen2.5:7b")
    result = invoke("digest", "--week", "2024-W26", "--dry-run")
    assert result.exit_code == 0, result.output
    host = model.base_url.split("/")[2]
    head, _, body = result.stdout.partition("\n")
    assert head == f"POST {model.base_url}/chat/completions  (host {host}; nothing is sent)"
    request = json.loads(body)
    assert request["model"] == "qwen2.5:7b" and request["stream"] is False
    assert request["response_format"] == {"type": "json_object"}
    facts = json.loads(request["messages"][1]["content"])
    assert {"id": "O2.1", "title": "O2 能力升级 · 交易路由", "owner": "刘洋",
            "text": "智能路由一期上线完成，覆盖12城"} in facts["sources"]
    assert model.stand_in.requests == [] and model.stand_in.listed == 0
    # Without --dry-run the same command asks the model and shows what passed.
    result = invoke("digest", "--week", "2024-W26")
    assert result.exit_code == 0, result.output
    assert "## 【本周要点】" in result.stdout and "1. v2.0已于6月26日全量上线" in result.stdout
    assert len(model.stand_in.requests) == 1
    # In another language it is a look only: the model is asked in English, nothing stored changes.
    result = invoke("digest", "--week", "2024-W26", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "## Key points" in result.output and "shown only; the stored key points stay in zh-CN" in result.output
    assert "in English" in model.stand_in.requests[-1]["messages"][0]["content"]
    result = invoke("digest", "--week", "2024-W26", "--dry-run")
    assert "Simplified Chinese" in json.loads(result.stdout.partition("\n")[2])["messages"][0]["content"]


def test_doctor_names_the_host_and_checks_the_model(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                     model: ServedModel) -> None:
    assert invoke("demo").exit_code == 0
    monkeypatch.setenv("AI_BASE_URL", model.base_url)
    monkeypatch.setenv("AI_MODEL", "qwen2.5:7b")
    host = model.base_url.split("/")[2]
    result = invoke("doctor")
    assert f"✓ key points on: the week's facts go to {host} (model qwen2.5:7b), people as names" in result.stdout
    assert "✓ model server answers /models and lists qwen2.5:7b" in result.stdout
    monkeypatch.setenv("AI_MODEL", "llama3:70b")
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "✗ model server answers /models but has no llama3:70b (it has qwen2.5:7b)" in result.stdout


def test_the_editor_reads_edits_regenerates_and_turns_off_the_digest_on_the_dashboard(
        tmp_path: Path, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    import re

    import httpx

    from bot.adapters.web import DashboardConfig, build_dashboard
    from bot.runtime.dashboard import sign_in_link
    from tests.web.live import LiveServer

    model.stand_in.answer = answer([*GOOD, {"text": "对公代付进度 70%。", "cites": ["O1.9"]}])
    bot = make(f"sqlite:///{tmp_path / 'd.db'}", chat, clock, model)
    fill(bot)
    bot.digests.prepare(WEEK)
    def signed_in(who: str, config: DashboardConfig) -> tuple[httpx.Client, str]:
        client = httpx.Client(follow_redirects=True, timeout=30)
        link = sign_in_link(bot.ctx, config, who)[0]
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(link).text)
        assert csrf is not None
        client.post(link.split("?")[0], data={"csrf": csrf.group(1), "token": httpx.URL(link).params["token"]})
        page = client.get(f"{config.public_url}/week/2024-W26").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        return client, token.group(1)

    with LiveServer() as live:
        config = DashboardConfig(secret="test-secret-" + "x" * 20, public_url=live.url)
        live.app = build_dashboard(bot, config)
        editor, csrf = signed_in("zhangwei", config)
        page = editor.get(f"{live.url}/week/2024-W26").text
        assert 'id="digest"' in page and "智能路由一期上线完成，覆盖12城。" in page
        assert "对公代付进度 70%。 — 引用了本周不存在的条目 O1.9" in page
        # The preview on the page carries the key points publishing would post.
        assert page.index("【本周要点】") < page.index("【聚合收单】")
        target = f"{live.url}/week/2024-W26/digest"
        assert "v2.0已于6月26日全量上线，收单v2.1方案评审完成。 [P1.3]\n" in page
        editor.post(target, data={"csrf": csrf, "action": "approve", "text": "1. v2.0 全量上线。 [P1.3]\nPCI DSS 进度 45%。 [P2]\n"})
        assert "本周要点：已由 张伟 批准" in editor.get(f"{live.url}/week/2024-W26").text
        published = bot.cycle.publish(WEEK, PUBLISH).markdown
        assert "1. v2.0 全量上线。（刘洋 · 聚合收单 · 产研）\n2. PCI DSS 进度 45%。（陈静 · PCI DSS 认证）" \
            in published
        editor.post(target, data={"csrf": csrf, "action": "regenerate"})
        assert len(model.stand_in.requests) == 2
        editor.post(target, data={"csrf": csrf, "action": "off"})
        assert "本周要点" not in bot.cycle.publish(WEEK, PUBLISH).markdown
        member, member_csrf = signed_in("lina", config)
        refused = member.post(target, data={"csrf": member_csrf, "action": "on"})
        assert refused.status_code == 403
        assert bot.digests.view(WEEK).off  # type: ignore[union-attr]


def test_half_set_model_settings_are_refused_naming_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from bot.runtime.settings import Settings

    for var in ("AI_BASE_URL", "AI_MODEL", "AI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError, match="AI_BASE_URL set but AI_MODEL missing"):
        Settings(_env_file=None, ai_base_url="http://localhost:11434/v1")  # type: ignore[call-arg]
    assert not Settings(_env_file=None).digest_on  # type: ignore[call-arg]
    assert Settings(_env_file=None, ai_base_url="https://api.deepseek.com", ai_model="deepseek-v4-flash").digest_on  # type: ignore[call-arg]


def test_a_late_answer_that_changes_a_fact_takes_the_unapproved_line_that_used_it_out(
        database_url: str, chat: FakeChat, clock: FixedClock, model: ServedModel) -> None:
    bot = make(database_url, chat, clock, model)
    fill(bot)
    bot.digests.prepare(WEEK)
    # The owner corrects the answer in the form (it replaces what was said about the item).
    bot.inbox.submit_form("fake", "chenjing", "form-1", {"project:PCI DSS 认证": "整体进度 50%\n主要问题：密钥轮换流程的留痕方案未定"},
                          clock(), WEEK)
    posted = bot.cycle.publish(WEEK, PUBLISH).markdown
    assert "1. v2.0已于6月26日全量上线，收单v2.1方案评审完成。" in posted and "2. 智能路由一期上线完成，覆盖12城。" in posted
    assert "45%" not in posted.split("- 【聚合收单】")[0]
    # Approved lines are the editor's: they go out as approved.
    bot.digests.approve(WEEK, "zhangwei", texts=["PCI DSS 进度 50%。 [P2]"])
    assert "1. PCI DSS 进度 50%。（陈静 · PCI DSS 认证）" in bot.cycle.publish(WEEK, PUBLISH).markdown
