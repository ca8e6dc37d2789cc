"""Issue 22: a person added on the settings page (or in the team file, picked up by its watch) is recognised on
Slack at once. Someone the team file knows by email alone DMs the bot before any prompt has gone to them: the
reload reached the gateway's matching (Slack user id -> person), so the answer is stored for them, without a
restart and without a prompt first.

Through the real app: signed events into the Bolt app, users.info answered by the loopback Web API (the user
object's `profile.email`, https://docs.slack.dev/reference/objects/user-object; tests/slack/stand_in.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.runtime.team_file import load_team
from bot.runtime.team_reload import TeamReload
from bot.services.team_settings import TeamEdit
from tests.conftest import EXAMPLE_TEAM
from tests.fakes import FixedClock
from tests.slack.conftest import make_workspace, user_id
from tests.slack.stand_in import SlackStandIn

ITEM = "okr:O3/机房迁移"  # okrs[2].items[0], 周杰's until the settings page gives it to the newcomer
NEWCOMER = {"id": "xiaoming", "name": "小明", "email": "xiaoming@example.com"}


def add_on_the_settings_page(reload: TeamReload, path: Path) -> None:
    """What the settings page's save does (the dashboard posts the form; TeamReload.save writes the file and
    applies it): add 小明 by email alone and give him 机房迁移."""
    reload.save(TeamEdit(new_person=NEWCOMER, values={"okrs[2].items[0].owner": "xiaoming"}),
                reload.current().version, "zhangwei")


def add_in_the_file(reload: TeamReload, path: Path) -> None:
    """The same change made on disk, then what the watch on the file does on its next pass."""
    text = path.read_text(encoding="utf-8")
    person = f"  - id: xiaoming\n    name: 小明\n    email: {NEWCOMER['email']}\n\neditors:"
    path.write_text(text.replace("\neditors:", person, 1).replace("{name: 机房迁移, owner: zhoujie}",
                                                                   "{name: 机房迁移, owner: xiaoming}"),
                    encoding="utf-8")
    assert reload.check_disk() is True


@pytest.mark.parametrize("add", [add_on_the_settings_page, add_in_the_file])
def test_a_person_added_to_the_team_is_matched_on_their_first_dm(add: Callable[[TeamReload, Path], None],
                                                                 database_url: str, clock: FixedClock,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    shutil.copyfile(EXAMPLE_TEAM, path)
    team = load_team(path)
    slack = SlackStandIn(users={p.email: user_id(p.id) for p in team.people if p.email}).start()
    slack.users[NEWCOMER["email"]] = user_id("xiaoming")  # in the workspace, not yet in the team file
    ws, http = make_workspace(team, slack, database_url, clock, tmp_path / "spool", team_file=path)
    try:
        week = ws.bot.ctx.week_of(clock.now)
        # Before the change the newcomer is nobody's owner: what they write is not an answer.
        ws.dm("xiaoming", "进度 20%，方案评审中")
        ws.settle()
        assert ITEM not in ws.bot.week_report.facts(week).entries

        add(ws.runtime.team_file, path)
        assert ws.bot.ctx.team.person_by_id["xiaoming"].email == NEWCOMER["email"]

        ws.dm("xiaoming", "进度 30%，机房迁移方案评审通过")
        ws.settle()
        entry = ws.bot.week_report.facts(week).entries[ITEM]
        assert (entry.text, entry.author) == ("进度 30%，机房迁移方案评审通过", "xiaoming")
        assert slack.problems == []
    finally:
        ws.settle()
        http.stop()
        ws.runtime.stop()
        slack.stop()
