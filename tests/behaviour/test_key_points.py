"""Issue 24: the week's key points, written by a model at reminder time, top the report posted in the channel
on every platform; a model that fails leaves the report posted on time without them, and the editor is told
once. The model is the OpenAI-compatible stand-in on loopback (tests/ai/stand_in.py), read from AI_* like
`zhoubao run` reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.ai.stand_in import ModelStandIn, ServedModel
from tests.behaviour.conftest import at
from tests.behaviour.driver import Driver
from tests.behaviour.test_week import act

LINES = [{"text": "v2.0已于6月26日全量上线。", "cites": ["P1.3"]},
         {"text": "智能路由一期上线完成，覆盖12城。", "cites": ["O2.1"]},
         {"text": "机房迁移整体进度达到了90%。", "cites": ["O3.1"]}]  # 90% is not what was said: dropped


@pytest.fixture(autouse=True)
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelStandIn]:
    """Served before the driver is built (autouse fixtures come first), so its runtime picks the model up."""
    stand_in = ModelStandIn(answer=lambda body: json.dumps({"lines": LINES}, ensure_ascii=False))
    with ServedModel(stand_in) as served:
        monkeypatch.setenv("AI_BASE_URL", served.base_url)
        monkeypatch.setenv("AI_MODEL", "qwen2.5:7b")
        monkeypatch.setenv("AI_TIMEOUT_SECONDS", "5")
        yield stand_in


def answer_week(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    act(driver, "liuyang", lambda: driver.say("[1] v2.0已于6月26日全量上线。"))
    act(driver, "liuyang", lambda: driver.say("交易路由：智能路由一期上线完成，覆盖12城"))
    act(driver, "zhoujie", lambda: driver.say("机房迁移：整体进度达到了80%"))


def test_the_key_points_top_the_posted_report(driver: Driver, model: ModelStandIn) -> None:
    answer_week(driver)
    driver.advance_to(at(28, 10, 5))  # the reminder runs: the key points are prepared now
    assert len(model.requests) == 1
    driver.advance_to(at(28, 17, 5))  # publish reads what was prepared
    assert len(model.requests) == 1
    report = driver.channel_posts()[-1]
    top = report.index("本周要点")
    assert top < report.index("1. v2.0已于6月26日全量上线。（刘洋 · 聚合收单 · 产研）") \
        < report.index("2. 智能路由一期上线完成，覆盖12城。（刘洋 · O2 能力升级 · 交易路由）") < report.index("聚合收单】")
    assert "90%" not in report


def test_a_failing_model_leaves_the_report_on_time_and_the_editor_told_once(driver: Driver,
                                                                            model: ModelStandIn) -> None:
    model.mode = "500"
    answer_week(driver)
    driver.advance_to(at(28, 17, 5))  # the reminder (the model fails), then publish
    report = driver.channel_posts()[-1]
    assert "本周要点" not in report and "聚合收单】" in report
    notices = [m for m in driver.dms_to("zhangwei") if "本周要点没有生成" in m]
    assert notices == ["⚠️ 2024-W26 的本周要点没有生成：模型服务返回 HTTP 500。周报照常发布，不带本周要点；"
                       "可在看板的本周页面重新生成。"]
