"""Issue 21 (missing lists at department scale): `/zhoubao missing` for 1,000 owners before anyone answered
is one line per person with their open items counted, answered within Slack's limits, nothing cut (today's
code listed every title: 1,000 lines of up to five titles, past the five answers a response_url takes). Asserted on what the stand-in's response_url receives."""

from __future__ import annotations

import re
from pathlib import Path

from bot.domain.team import Team
from tests.fakes import FixedClock
from tests.slack.conftest import make_workspace
from tests.slack.stand_in import SlackStandIn

OWNERS = 1000
_MARKER = re.compile(r"\n?\((\d+)/(\d+)\)(?: · .*)?$")


def department() -> Team:
    """1,000 owners with 1 to 5 items each (3,000 items)."""
    people = [{"id": f"p{n}", "name": f"Person {n}", "slack": f"UP{n}"} for n in range(OWNERS)]
    items = [{"name": f"item {n}.{k}", "owner": f"p{n}"} for n in range(OWNERS) for k in range(n % 5 + 1)]
    return Team.model_validate({"team": {"name": "dept", "locale": "en", "report_channel": "weekly-report"},
                                "people": people, "editors": ["p0"],
                                "okrs": [{"id": "O1", "name": "Everything", "items": items}]})


def test_the_missing_list_of_a_department_is_one_counted_line_per_person(
        database_url: str, clock: FixedClock, tmp_path: Path) -> None:
    slack = SlackStandIn().start()
    ws, http = make_workspace(department(), slack, database_url, clock, tmp_path / "spool")
    try:
        status, _ = ws.command("/zhoubao", "UP0", "missing")
        assert status == 200
        ws.settle()
    finally:
        http.stop()
        ws.runtime.stop()
        slack.stop()
    answers = [c.args["text"] for c in slack.of("response_url")]
    assert slack.problems == [] and 1 <= len(answers) < 5, "whole, within Slack's limits"
    # a message's sections are apart by a blank line (limits.split)
    lines = [line for text in answers for line in _MARKER.sub("", text).split("\n") if line]
    # the editor also owes the report's own three sections (Other, Lessons, Next week)
    assert lines[0] == "📋 2024-W26 not answered yet — items: 3003, people: 1000"
    assert lines[1:-1] == [f"- Person {n}: {n % 5 + 1 + (3 if n == 0 else 0)} to answer" for n in range(OWNERS)]
    assert lines[-1] == "🚨 Not answered the incident question: 1000 people (each is reminded)"
