"""The fields of Slack's payloads the listeners read, as pydantic models, checked before any listener runs.

`check(body)` raises `MalformedPayload` (the reason, and the payload's event id or trigger id) for a
signed payload of a shape Slack does not send, so the journal logs it once and nothing changes (issue 20
item 7); a listener never meets a `ts` it cannot read or a form whose values are not objects. Only what
the listeners read is modelled, each field as its reference gives it; every other field is Slack's own.
Text and blocks are not: `composer.slack_message_text` is total over them.

- message events: `ts`, `thread_ts` and `event_ts` are strings like "1355517523.000005", epoch seconds and
  a sequence part (https://docs.slack.dev/reference/events/message,
  https://api.slack.com/messaging/retrieving#individual_messages);
  message_changed carries the new `message` with `edited.ts`
  (https://docs.slack.dev/reference/events/message/message_changed), message_deleted `deleted_ts` and the
  `previous_message` object (https://docs.slack.dev/reference/events/message/message_deleted).
- slash commands are form fields with `user_id`, `trigger_id` and `response_url` always present
  (https://api.slack.com/interactivity/slash-commands#app_command_handling).
- block_actions: `user.id`, `trigger_id`, `actions[].action_id` / `value`
  (https://api.slack.com/reference/interaction-payloads/block-actions).
- view_submission: `view.id`, `view.callback_id`, `view.private_metadata` and `view.state.values`, an
  object of block ids holding an object of action ids holding the element's state: `value`,
  `selected_option` or `selected_options` (https://api.slack.com/reference/interaction-payloads/views#view_submission).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.adapters.slack.blocks import Action
from bot.services.journal import MalformedPayload

# Epoch seconds (ten digits until 2286) and the sequence part Slack adds; what float() and a datetime take.
Ts = Annotated[str, StringConstraints(pattern=r"^\d{1,10}(\.\d{1,6})?$")]
Id = Annotated[str, StringConstraints(min_length=1)]
_NEW = (None, "file_share", "thread_broadcast")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _NewMessage(_Model):
    channel: Id
    user: str | None = None
    ts: Ts
    thread_ts: Ts | None = None


class _Edited(_Model):
    ts: Ts | None = None


class _ChangedMessage(_Model):
    user: str | None = None
    ts: Ts
    thread_ts: Ts | None = None
    edited: _Edited | None = None


class _Changed(_Model):
    channel: Id
    message: _ChangedMessage
    event_ts: Ts | None = None


class _PreviousMessage(_Model):
    user: str | None = None
    thread_ts: Ts | None = None


class _Deleted(_Model):
    channel: Id
    deleted_ts: Ts
    previous_message: _PreviousMessage | None = None
    event_ts: Ts | None = None


class _Command(_Model):
    command: Id
    text: str = ""
    user_id: Id
    trigger_id: Id
    response_url: Annotated[str, StringConstraints(pattern=r"^https?://")]


class _User(_Model):
    id: Id


class _Clicked(_Model):
    action_id: Id
    value: str | None = None


class _BlockActions(_Model):
    user: _User
    trigger_id: Id
    actions: list[_Clicked] = Field(min_length=1)


class _Option(_Model):
    value: str


class _ElementState(_Model):
    value: str | None = None
    selected_option: _Option | None = None
    selected_options: list[_Option] | None = None


class _State(_Model):
    values: dict[str, dict[str, _ElementState]]


class _View(_Model):
    id: Id
    callback_id: str = ""
    private_metadata: str | None = None
    state: _State = _State(values={})


class _ViewSubmission(_Model):
    user: _User
    view: _View


def _model(body: Mapping[str, Any]) -> tuple[type[_Model], Any] | None:
    """The model a request's listener reads it through, and the part it applies to (None: no listener reads it)."""
    if "command" in body:
        return _Command, body
    kind = body.get("type")
    if kind == "block_actions":
        return _BlockActions, body
    if kind == "view_submission":
        return _ViewSubmission, body
    event = body.get("event")
    if kind != "event_callback" or not isinstance(event, Mapping) or event.get("type") != "message":
        return None
    subtype = event.get("subtype")
    if subtype in _NEW:
        return _NewMessage, event
    edits: dict[str, tuple[type[_Model], Any]] = {"message_changed": (_Changed, event), "message_deleted": (_Deleted, event)}
    return edits.get(str(subtype))


def _reason(exc: ValidationError, prefix: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "")
    return f"{where}: {first['msg']}"


def check(body: Mapping[str, Any]) -> None:
    """Raise MalformedPayload when a field a listener reads is not in the shape Slack documents."""
    ref = str(body.get("event_id") or body.get("trigger_id") or "")
    found = _model(body)
    if found is None:
        return
    model, part = found
    try:
        model.model_validate(part)
    except ValidationError as exc:
        raise MalformedPayload(_reason(exc, "event" if part is not body else ""), ref) from None
    if model is _BlockActions:  # the edit button's value is the incident's number (blocks.incident_reply)
        for action in body["actions"]:
            value = str(action.get("value") or "")
            if action.get("action_id") == Action.INCIDENT_EDIT and not (value.isascii() and value.isdigit()):
                raise MalformedPayload("actions.value: an incident number is ASCII digits", ref)
