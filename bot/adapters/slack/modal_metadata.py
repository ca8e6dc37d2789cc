"""What a modal remembers about why it was opened: its `private_metadata`, one typed model, parsed once.

Slack hands `private_metadata` back untouched with every view_submission ("A string that will be sent
to your app in view_submission and block_actions events. Max length of 3000 characters",
https://docs.slack.dev/reference/views/modal-views). It holds only what the view cannot carry
otherwise: the week an answer form is for, whether it asks the incident question, which incident an
edit form changes, which week's incident question an incident form answers, and (an app serving several
teams) which team the form is for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

MAX_METADATA = 3000  # characters of private_metadata (Modal views reference, above)


class ModalMetadata(BaseModel):
    """The private_metadata of a zhoubao modal (every field optional: each form uses its own)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    week: str | None = None  # the answer form: the week it was opened for
    asks_question: bool = False  # the answer form also asks the week's incident question
    number: int | None = None  # the incident form: the incident it edits (None: a new incident)
    for_question: str | None = None  # the incident form: the week whose incident question it answers
    team: str | None = None  # the team it was opened for, when the app serves several (its submission goes there)

    @model_validator(mode="before")
    @classmethod
    def _earlier_shape(cls, data: Any) -> Any:
        # Modals opened before this model (during a deploy) said `question`: a bool on the answer form,
        # the week (or null) on the incident form.
        if isinstance(data, dict) and "question" in data:
            data = dict(data)
            question = data.pop("question")
            if isinstance(question, bool):
                data.setdefault("asks_question", question)
            elif isinstance(question, str) and question:
                data.setdefault("for_question", question)
        return data

    def dumps(self) -> str:
        """The string to send as `private_metadata` (only the fields set, so it stays short)."""
        text = json.dumps(self.model_dump(exclude_defaults=True))
        if len(text) > MAX_METADATA:
            raise ValueError(f"private_metadata of {len(text)} characters (Slack takes {MAX_METADATA})")
        return text

    @classmethod
    def of(cls, view: Mapping[str, Any]) -> ModalMetadata:
        """The metadata a submitted view carries; empty for a view without any (or with a foreign one)."""
        raw = view.get("private_metadata") if isinstance(view, Mapping) else None
        if not isinstance(raw, str) or not raw:
            return cls()
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return cls()
