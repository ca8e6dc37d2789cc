"""Issue 21 item 5: prompting after a restart looks nobody up again. The user ids Slack gave for people's
emails are stored; DMs are posted to the user id (no conversations.open); an id Slack says is gone is
looked up again, once. The stand-in holds Slack's documented tiers (sped up 30 times)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.adapters.slack.limits import Pacer
from bot.domain.team import Team
from bot.runtime.composition import Overrides
from tests.fakes import FixedClock
from tests.slack.conftest import make_workspace
from tests.slack.stand_in import SlackStandIn, dm_of, tiers

OWNERS = 20
SCALE = 30.0


def emailed_team() -> Team:
    """20 owners known to the team file by email alone."""
    people = [{"id": f"p{n}", "name": f"Person {n}", "email": f"p{n}@example.com"} for n in range(OWNERS)]
    items = [{"name": f"item {n}", "owner": f"p{n}"} for n in range(OWNERS)]
    return Team.model_validate({"team": {"name": "ids", "locale": "en", "report_channel": "weekly-report"},
                                "people": people, "editors": ["p0"],
                                "okrs": [{"id": "O1", "name": "Everything", "items": items}]})


def prompt_once(team: Team, slack: SlackStandIn, database_url: str, clock: FixedClock, spool: Path) -> dict[str, int]:
    """Start the bot (a new runtime on the same database), prompt the week, stop; the calls it made."""
    before = len(slack.calls)
    ws, http = make_workspace(team, slack, database_url, clock, spool, overrides=Overrides(pacer=Pacer(scale=SCALE)))
    try:
        ws.bot.cycle.send_prompts("prompt", ws.clock.now)
        ws.settle()
    finally:
        http.stop()
        ws.runtime.stop()
    clock.now += timedelta(days=7)
    counts: dict[str, int] = {}
    for call in slack.calls[before:]:  # a call refused for its rate (prompts go out several at once) and
        if not call.ratelimited:       # made again counts once: what was asked of Slack, not the retries
            counts[call.method] = counts.get(call.method, 0) + 1
    return counts


def test_a_restart_prompts_everyone_without_a_lookup(database_url: str, clock: FixedClock, tmp_path: Path) -> None:
    team = emailed_team()
    slack = SlackStandIn(users={f"p{n}@example.com": f"UP{n}" for n in range(OWNERS)}, limits=tiers(SCALE)).start()
    try:
        first = prompt_once(team, slack, database_url, clock, tmp_path / "spool")
        assert first.get("users.lookupByEmail") == OWNERS and "conversations.open" not in first
        second = prompt_once(team, slack, database_url, clock, tmp_path / "spool")
        assert "users.lookupByEmail" not in second and "conversations.open" not in second
        assert all(len(slack.messages(dm_of(f"UP{n}"))) == 2 for n in range(OWNERS))

        # p3's account was replaced: the stored id reaches nobody, the email now gives another id
        slack.gone.add("UP3")
        slack.users["p3@example.com"] = "UP3B"
        third = prompt_once(team, slack, database_url, clock, tmp_path / "spool")
        assert third.get("users.lookupByEmail") == 1 and "conversations.open" not in third
        assert len(slack.messages(dm_of("UP3B"))) == 1
        fourth = prompt_once(team, slack, database_url, clock, tmp_path / "spool")
        assert "users.lookupByEmail" not in fourth
        assert len(slack.messages(dm_of("UP3B"))) == 2
        assert all(len(slack.messages(dm_of(f"UP{n}"))) == 4 for n in range(OWNERS) if n != 3)
        assert slack.problems == []
    finally:
        slack.stop()
