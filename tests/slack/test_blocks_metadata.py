"""Modal private_metadata is one typed model (`ModalMetadata`), written and read in one place; every view
the builders make passes slack_sdk.models' validation (the Modal views reference's limits)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.adapters.slack import blocks
from bot.adapters.slack.modal_metadata import ModalMetadata
from bot.domain.incident_question import Question
from bot.domain.prompts import Prompt, PromptItem
from bot.domain.team import ItemKind
from tests.slack.stand_in import _sdk_problem


def _prompt(question: bool) -> Prompt:
    item = PromptItem(1, "okr:O1/a", "O1 · a", ItemKind.OKR, "a", None, None)
    return Prompt("2024-W26", "prompt", (item,), "…", "zh-CN", datetime(2024, 6, 28, 17),
                  Question(2, ()) if question else None)


@pytest.mark.parametrize("question", [True, False])
def test_the_answer_modal_says_its_week_and_whether_it_asks_the_question(question: bool) -> None:
    view = blocks.answer_modal(_prompt(question))
    assert _sdk_problem("view", view) is None
    assert ModalMetadata.of(view) == ModalMetadata(week="2024-W26", asks_question=question)
    assert blocks.answer_week(view) == "2024-W26"
    assert (blocks.question_form({**view, "state": {"values": {}}}) is not None) is question


def test_the_incident_modal_says_which_incident_and_which_question() -> None:
    view = blocks.incident_modal(["A"], "en", number=4, for_question="2024-W26")
    assert _sdk_problem("view", view) is None
    assert blocks.incident_form(view).number == 4 and blocks.incident_question_week(view) == "2024-W26"
    new = blocks.incident_modal(["A"], "en")
    assert blocks.incident_form(new).number is None and blocks.incident_question_week(new) is None


def test_a_modal_opened_before_the_model_reads_the_same() -> None:
    answer = {"private_metadata": '{"week": "2024-W26", "question": true}'}
    incident = {"private_metadata": '{"number": 4, "question": "2024-W26"}'}
    assert blocks.answer_week(answer) == "2024-W26" and blocks.question_form(answer) is not None
    assert blocks.incident_form(incident).number == 4 and blocks.incident_question_week(incident) == "2024-W26"


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '{"number": "x"}'])
def test_metadata_that_is_not_ours_reads_as_none_instead_of_failing(raw: str) -> None:
    view = {"private_metadata": raw}
    assert blocks.answer_week(view) == "" and blocks.question_form(view) is None
    assert blocks.incident_form(view).number is None and blocks.incident_question_week(view) is None
