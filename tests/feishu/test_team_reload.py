"""Issue 22: a person added on the settings page is recognised on Feishu at once. Someone the team file knows by
email alone messages the bot before any prompt has gone to them: the reload reached the adapter's matching
(open_id -> person, their email looked up through the contact API's batch_get_id, tests/feishu/openapi.py), so
the answer is stored for them, without a restart and without a prompt first.

Through the real app: sealed, signed im.message.receive_v1 events into POST /feishu/events."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.runtime.team_file import load_team
from bot.services.team_settings import TeamEdit
from tests.conftest import EXAMPLE_TEAM
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.conftest import open_id_of, open_world

ITEM = "okr:O3/机房迁移"  # okrs[2].items[0], 周杰's until the settings page gives it to the newcomer
NEWCOMER = {"id": "xiaoming", "name": "小明", "email": "xiaoming@example.com"}


def test_a_person_added_on_the_settings_page_is_matched_on_their_first_message(database_url: str,
                                                                               clock: FixedClock,
                                                                               tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    shutil.copyfile(EXAMPLE_TEAM, path)
    with open_world(database_url, clock, tmp_path, load_team(path), team_file=path) as world:
        world.standin.directory[NEWCOMER["email"]] = open_id_of("xiaoming")  # in the tenant, not in the file
        week = world.bot.ctx.week_of(clock.now)
        # Before the change the newcomer is nobody's owner: what they write is not an answer.
        assert world.post(payloads.message(open_id_of("xiaoming"), "进度 20%，方案评审中", clock.now)).status_code == 200
        assert ITEM not in world.bot.week_report.facts(week).entries

        # What the settings page's save does (the dashboard posts the form; TeamReload.save writes the file
        # and applies it): add 小明 by email alone and give him 机房迁移.
        reload = world.runtime.team_file
        reload.save(TeamEdit(new_person=NEWCOMER, values={"okrs[2].items[0].owner": "xiaoming"}),
                    reload.current().version, "zhangwei")
        assert world.bot.ctx.team.person_by_id["xiaoming"].email == NEWCOMER["email"]

        text = "进度 30%，机房迁移方案评审通过"
        assert world.post(payloads.message(open_id_of("xiaoming"), text, clock.now)).status_code == 200
        entry = world.bot.week_report.facts(week).entries[ITEM]
        assert (entry.text, entry.author) == (text, "xiaoming")
