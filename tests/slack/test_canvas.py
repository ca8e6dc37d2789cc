"""The published report as a Slack canvas, against the stand-in's canvases.* (tests/slack/stand_in.py):
created after the post and linked in the report channel, edited in place after a late answer, a 429
retried, a refusal told to the editors with the report still posted, and doctor naming canvases:write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.adapters.slack.doctor import check
from bot.domain.team import Documents, Team
from bot.domain.weeks import IsoWeek
from bot.runtime.settings import Settings
from bot.runtime.team_file import load_team
from tests.conftest import EXAMPLE_TEAM, PATIENCE
from tests.slack.conftest import Workspace, make_workspace
from tests.slack.stand_in import SlackStandIn

WEEK = IsoWeek(2024, 26)
REPORT = "C0REPORT"


@pytest.fixture
def team() -> Team:
    return load_team(EXAMPLE_TEAM).model_copy(update={"documents": Documents(slack_canvas=True)})


@pytest.fixture
def ws(team: Team, stand_in: SlackStandIn, database_url: str, clock, tmp_path: Path) -> Iterator[Workspace]:  # type: ignore[no-untyped-def]
    workspace, http = make_workspace(team, stand_in, database_url, clock, tmp_path / "spool")
    yield workspace
    workspace.settle()
    http.stop()
    workspace.runtime.stop()


def _settle(ws: Workspace) -> None:
    ws.settle()
    assert ws.bot.cycle.documents is not None and ws.bot.cycle.documents.wait_idle(PATIENCE)
    ws.settle()


def _publish(ws: Workspace) -> None:
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    _settle(ws)


def test_a_publish_creates_a_canvas_the_channel_can_read_and_links_it(ws: Workspace) -> None:
    _publish(ws)
    [(canvas_id, canvas)] = ws.slack.canvases.items()
    assert "2024-W26" in canvas["title"] and canvas["markdown"].startswith("# 2024-W26")
    assert "【聚合收单】" in canvas["markdown"]
    assert canvas["access"] == {REPORT: "read"}
    links = [m["text"] for m in ws.slack.messages(REPORT) if "/docs/" in m.get("text", "")]
    assert links == [f"📄 2024-W26 周报的Slack canvas：https://example.slack.com/docs/T1/{canvas_id}"]


def test_a_late_answer_edits_the_same_canvas(ws: Workspace) -> None:
    _publish(ws)
    ws.dm("zhoujie", "机房迁移：进度 85%，生产验证通过")
    _settle(ws)
    [canvas] = ws.slack.canvases.values()
    assert "生产验证通过" in canvas["markdown"] and canvas["edits"] == 1
    assert len(ws.slack.of("canvases.create")) == 1
    assert sum("/docs/" in m.get("text", "") for m in ws.slack.messages(REPORT)) == 1  # linked once


def test_a_rate_limited_create_is_retried(ws: Workspace) -> None:
    """canvases.create is Tier 2; over it Slack answers 429 with Retry-After, which the client waits out."""
    ws.slack.fail("canvases.create", status=429, error="ratelimited", retry_after="0")
    _publish(ws)
    assert len(ws.slack.canvases) == 1 and len(ws.slack.of("canvases.create")) == 2


def test_a_refused_canvas_still_posts_the_report_and_tells_the_editors(ws: Workspace) -> None:
    ws.slack.scopes = ws.slack.scopes.replace("canvases:write,", "")
    _publish(ws)
    assert ws.slack.canvases == {}
    assert any(m.get("metadata") for m in ws.slack.messages(REPORT))  # the report is in the channel
    for editor in ws.bot.ctx.team.editors:
        told = [t for t in ws.replies_to(editor) if "Slack canvas没有写成" in t]
        assert len(told) == 1 and "missing_scope" in told[0], ws.replies_to(editor)


@pytest.mark.parametrize("canvas_on", [True, False])
def test_doctor_names_canvases_write_only_when_the_team_uses_canvases(team: Team, stand_in: SlackStandIn,
                                                                     canvas_on: bool) -> None:
    stand_in.scopes = stand_in.scopes.replace("canvases:write,", "")
    team = team.model_copy(update={"documents": Documents(slack_canvas=canvas_on)})
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-test"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr("s"), slack_api_url=stand_in.url + "/api/")
    scopes = [line for line in check(settings, team) if line[1].startswith("slack scopes")]
    if canvas_on:
        assert scopes == [(False, "slack scopes: missing canvases:write — add them under OAuth & Permissions and "
                                  "reinstall the app")]
    else:
        assert scopes == [(True, "slack scopes: all granted")]
