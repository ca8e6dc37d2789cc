"""The chaos suite's short form (the long one is `bench/chaos.py`): a real bot process killed with SIGKILL
during prompting, during a burst of answers, edits and deletions, and during publishing (with Slack
answering 500 after posting, and losing a response); nothing acknowledged is lost, nothing doubles."""

from __future__ import annotations

from pathlib import Path

from bench.chaos import run


def test_kill_9_loses_nothing_acknowledged_and_posts_the_report_once(database_url: str, tmp_path: Path) -> None:
    counts = run(database_url, kills=6, ops=60, seed=7, workdir=tmp_path)
    print(counts.line())
    assert counts.kills == 6 and counts.acknowledged > 0
    assert counts.lost == 0 and counts.duplicated == 0 and counts.out_of_order == 0, counts.line()
    assert counts.edits_wrong == 0 and counts.deletions_wrong == 0, counts.line()
    assert counts.posts == 1 and counts.report_matches, counts.line()
    assert counts.problems == [], counts.line()
