"""What `zhoubao demo`, `report` and `doctor` read from the database without registering a team."""

from __future__ import annotations

from bot.services.stored_team import StoredTeam
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot


def test_the_stored_team_says_what_was_prompted_and_published(database_url: str, chat: FakeChat,
                                                                clock: FixedClock) -> None:
    bot = make_bot(database_url, chat, clock)
    name = bot.ctx.team.team.name
    stored, stranger = StoredTeam(bot.ctx.db, name), StoredTeam(bot.ctx.db, "另一个团队")
    week = bot.ctx.week_of(bot.ctx.now())
    assert stored.other_teams() == [] and stranger.other_teams() == [name]
    assert not stored.prompted(week) and stored.published_at(week) is None

    assert bot.cycle.send_prompts() > 0
    assert stored.prompted(week) and not stored.prompted(week.previous())
    assert stored.published_at(week) is None

    bot.cycle.publish(week)
    assert stored.published_at(week) == clock.now
    assert stranger.published_at(week) is None and not stranger.prompted(week)  # another team's rows are not theirs
