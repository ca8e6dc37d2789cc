"""Issue 19 item 1: Bolt's `App` switches to its OAuth installation flow whenever SLACK_CLIENT_ID and
SLACK_CLIENT_SECRET are in the environment — even empty (slack_bolt/app/app.py, `App.__init__`:
`os.environ.get("SLACK_CLIENT_ID") is not None and os.environ.get("SLACK_CLIENT_SECRET") is not None`) —
and then, finding no installation, acknowledged every request and processed none. `zhoubao init` writes
both lines into `.env`, and `docker run --env-file`, compose's `env_file` and systemd's `EnvironmentFile`
put them into the environment. The real bot over HTTP must store what people send either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.team import Team
from storage.db import transaction
from storage.models import AnswerMessageRow, IncidentRow
from tests.fakes import FixedClock
from tests.slack.conftest import Workspace, make_workspace
from tests.slack.stand_in import SlackStandIn


@pytest.fixture(params=[("", ""), ("1234567890.1234567890", "0123456789abcdef0123456789abcdef")],
                ids=["set empty", "filled in"])
def workspace_with_client_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, team: Team,
                              stand_in: SlackStandIn, database_url: str, clock: FixedClock,
                              tmp_path: Path) -> Iterator[Workspace]:
    client_id, secret = request.param
    monkeypatch.setenv("SLACK_CLIENT_ID", client_id)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", secret)
    monkeypatch.setenv("HOME", str(tmp_path))  # where Bolt's OAuth flow would keep installations
    ws, http = make_workspace(team, stand_in, database_url, clock, tmp_path / "spool")
    yield ws
    ws.settle()
    http.stop()
    ws.runtime.stop()


def test_a_dm_answer_and_an_incident_are_stored_with_the_sign_in_variables_set(
        workspace_with_client_env: Workspace) -> None:
    ws = workspace_with_client_env
    ts = ws.dm("zhoujie", "机房迁移：切换演练完成")
    status, _ = ws.command("/incident", "USUNLI", "06/26 09:12 order-api 节点OOM 原因：内存泄漏 级别：C")
    assert status == 200
    ws.settle()
    with transaction(ws.bot.ctx.db) as s:
        assert list(s.scalars(select(AnswerMessageRow.source_id))) == [f"DZHOUJIE:{ts}"]
        assert [(i.source, i.severity, i.cause) for i in s.scalars(select(IncidentRow))] == [("slack", "C", "内存泄漏")]
    assert any("已记录" in t for t in ws.replies_to("zhoujie"))  # and the person is told so
