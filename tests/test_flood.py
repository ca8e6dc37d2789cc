"""Issue 20 item 17: answers sent while /metrics and /readyz are flooded are all stored.

The probe flooded /metrics and /readyz (64 clients, ~2,100 requests) while 20 signed answers arrived:
all 20 were acknowledged, 14 were stored. Where the six went: the journal's worker asks Slack who a
user id is (users.info, the team file naming people by email), and under the flood those lookups failed
(timed out); the gateway remembered each failed lookup as "not a member", so that person's answers were
answered "not on the team" and never stored. Here a bounded flood runs from threads while signed answers
arrive, the first users.info calls fail as they did under the flood (HTTP 500 past slack_sdk's retries,
https://docs.slack.dev/reference/methods/users.info), the journal is drained (observable: nothing left
unprocessed), and answer_messages is counted.
"""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import func, select

from storage.db import transaction
from storage.models import AnswerMessageRow
from tests.conftest import PATIENCE
from tests.fakes import FixedClock
from tests.slack.conftest import open_workspace

FLOODERS = 16  # clients hammering /metrics and /readyz
FLOOD_EACH = 40  # requests per client: 640 in all, bounded so the test ends
PEOPLE = ("lina", "wangqiang", "liuyang", "chenjing", "zhaolei", "sunli", "zhoujie", "zhangwei")
ANSWERS = 20


def test_answers_sent_during_a_flood_of_metrics_and_readyz_are_all_stored(database_url: str,
                                                                          clock: FixedClock) -> None:
    with open_workspace(database_url, clock) as ws:
        # No prompts first: sending them looks everyone up by email, and the answers would find them known.
        ws.slack.fail("users.info", times=8, status=500)  # two lookups, each past its 3 retries
        go = threading.Event()
        answered: list[int] = []
        refused: list[str] = []

        def flood(n: int) -> None:
            go.wait(PATIENCE)
            with httpx.Client(base_url=ws.base, timeout=PATIENCE) as client:
                for k in range(FLOOD_EACH):
                    path = "/metrics" if (n + k) % 2 else "/readyz"
                    status = client.get(path).status_code
                    if status not in (200, 503):  # 503: this workspace's scheduler is not started
                        refused.append(f"{path} {status}")

        def answer(n: int) -> None:
            go.wait(PATIENCE)
            person = PEOPLE[n % len(PEOPLE)]
            ts = ws.ts()
            status = ws.event({"type": "message", "channel": "D" + person.upper(), "channel_type": "im",
                               "user": "U" + person.upper(), "text": f"[1] 洪水中的回答 {n}", "ts": ts,
                               "event_ts": ts})
            answered.append(status)

        threads = [threading.Thread(target=flood, args=(n,)) for n in range(FLOODERS)]
        threads += [threading.Thread(target=answer, args=(n,)) for n in range(ANSWERS)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join(PATIENCE)
        assert not any(t.is_alive() for t in threads)
        assert answered == [200] * ANSWERS, answered
        ws.settle()  # the journal drained: nothing acknowledged is left unprocessed
        assert ws.bot.journal.pending() == 0
        with transaction(ws.bot.ctx.db) as s:
            stored = s.scalar(select(func.count(AnswerMessageRow.id)))
        assert stored == ANSWERS, f"{stored} of {ANSWERS} acknowledged answers stored"
        assert refused == []
        assert not any("不在本团队" in m["text"] for p in PEOPLE for m in ws.slack.messages("D" + p.upper()))
