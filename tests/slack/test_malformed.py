"""Signed but malformed Slack payloads (issue 20 item 7): each is acknowledged (200, so Slack stops
retrying), logged once as one line naming its event id (or trigger id) and the reason, and changes
nothing; no traceback.

The shapes are the ones a hostile probe sent through a real `zhoubao run`; what a well-formed payload
looks like is in the payload references cited by `bot/adapters/slack/payloads.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.adapters.slack.blocks import Callback, ModalMetadata
from tests.slack.conftest import Workspace, user_id
from tests.stored_rows import row_counts


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[Workspace], tuple[int, str]]  # -> (HTTP status, the id the log line must name)
    field: str  # the field the reason must name
    before: Callable[[Workspace], None] = lambda ws: None  # what is stored before it arrives


def _event(ws: Workspace, event: dict[str, Any], event_id: str) -> tuple[int, str]:
    return ws.event(event, event_id=event_id), event_id


def _dm(ts: str) -> dict[str, Any]:
    return {"type": "message", "channel": "DLINA", "channel_type": "im", "user": user_id("lina"),
            "text": "[2] 切量完成", "ts": ts, "event_ts": "1719453600.000100"}


STORED_TS = "1719453600.000100"


def _store_a_dm(ws: Workspace) -> None:
    """A DM the malformed deletion names: it must stay as it is."""
    ws.dm("lina", "[2] 切量完成", ts=STORED_TS)
    ws.settle()


def _deleted_without_previous(ws: Workspace) -> tuple[int, str]:
    return _event(ws, {"type": "message", "subtype": "message_deleted", "channel": "DLINA", "channel_type": "im",
                       "hidden": True, "ts": "1719453660.000200", "event_ts": "1719453660.000200",
                       "deleted_ts": STORED_TS, "previous_message": "x"}, "EvDELETED")


def _command(name: str, text: str, trigger: str) -> Callable[[Workspace], tuple[int, str]]:
    def send(ws: Workspace) -> tuple[int, str]:
        form = {"token": "x", "team_id": "T1", "channel_id": "DLINA", "user_id": user_id("lina"), "command": name,
                "text": text, "api_app_id": "A1", "trigger_id": trigger}  # no response_url
        status, _, _ = ws.post(urlencode(form), "application/x-www-form-urlencoded")
        return status, trigger
    return send


def _view(callback: Callback, metadata: ModalMetadata, state: Any, trigger: str) -> Callable[[Workspace], tuple[int, str]]:
    # view_submission as Slack sends it: https://api.slack.com/reference/interaction-payloads/views#view_submission
    def send(ws: Workspace) -> tuple[int, str]:
        payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user_id("lina")},
                   "api_app_id": "A1", "trigger_id": trigger,
                   "view": {"id": "V" + trigger, "type": "modal", "callback_id": callback.value,
                            "private_metadata": metadata.dumps(), "state": state}}
        return ws.interactive(payload), trigger
    return send


CASES = [
    Case("a message ts of 'abc'", lambda ws: _event(ws, _dm("abc"), "EvTSABC"), "ts"),
    Case("a message ts of '1e400'", lambda ws: _event(ws, _dm("1e400"), "EvTS1E400"), "ts"),
    Case("message_deleted with previous_message 'x'", _deleted_without_previous, "previous_message",
         before=_store_a_dm),
    Case("an answer form with state.values 'x'",
         _view(Callback.ANSWER_FORM, ModalMetadata(week="2024-W26"), {"values": "x"}, "trigANSWER"), "values"),
    Case("an incident form of garbage",
         _view(Callback.INCIDENT_FORM, ModalMetadata(), {"values": {"what": "x", "start": {"value": [1, 2]}}},
               "trigINCIDENT"), "values"),
    Case("/incident with text and no response_url", _command("/incident", "今天 10:00 支付超时", "trigINC"),
         "response_url"),
    Case("/zhoubao status and no response_url", _command("/zhoubao", "status", "trigSTATUS"), "response_url"),
    # opens a modal now (on the modal lane, not journaled): the same rule, the same one line
    Case("/zhoubao answer and no response_url", _command("/zhoubao", "answer", "trigANSWERCMD"), "response_url"),
]


def _said(ws: Workspace) -> list[str]:
    """Every Web API call (and response_url answer) that shows a person something."""
    return [c.method for c in ws.slack.calls if c.method.startswith(("chat.", "views.")) or c.method == "response_url"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_signed_malformed_payload_is_acknowledged_logged_once_and_changes_nothing(
        workspace: Workspace, caplog: pytest.LogCaptureFixture, case: Case) -> None:
    case.before(workspace)
    before_rows = row_counts(workspace.bot.engine)
    before_said = _said(workspace)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="zhoubao"):
        status, ref = case.send(workspace)
        workspace.settle()
    assert status == 200  # Slack stops retrying
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, lines
    assert ref in lines[0] and case.field in lines[0], lines[0]
    assert "\n" not in lines[0]
    assert row_counts(workspace.bot.engine) == before_rows
    assert _said(workspace) == before_said


def test_a_well_formed_payload_beside_them_is_still_stored(workspace: Workspace) -> None:
    """The rule refuses shapes, not people: the same DM with a ts Slack sends is stored."""
    before = row_counts(workspace.bot.engine)["answer_messages"]
    workspace.event(_dm(workspace.ts()), event_id="EvGOOD")
    workspace.settle()
    assert row_counts(workspace.bot.engine)["answer_messages"] == before + 1
