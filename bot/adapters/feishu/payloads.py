"""The fields of Feishu's events and callbacks the translation reads, as pydantic models, checked first.

`check(payload)` raises `MalformedPayload` (the reason and the header's event_id) for an opened payload of
a shape Feishu does not send, before `FeishuEvents` reads it, so the journal logs it once and nothing
changes (issue 20 item 7). Only what the translation reads is modelled, as lark-oapi 1.7.5 models it
(its models are plain classes that check nothing, so they cannot do this themselves):

- `im.message.receive_v1` and `im.message.updated_v1`: `event.sender` (`sender_id.open_id`, `sender_type`) and
  `event.message` (`message_id`, `chat_id`, `chat_type`, `root_id`, `parent_id`, `create_time`, `update_time`):
  lark_oapi/api/im/v1/model/event_sender.py, event_message.py, user_id.py. The content and mentions are not:
  `composer.feishu_message_text` is total over them.
- `im.message.recalled_v1`: `message_id`, `chat_id`, `recall_time` (p2_im_message_recalled_v1.py).
- `application.bot.menu_v6`: `operator.operator_id.open_id`, `event_key`, `timestamp`
  (lark_oapi/api/application/v6/model/p2_application_bot_menu_v6.py, operator.py).
- `card.action.trigger`: `operator.open_id`, `action.value` (the object our cards put there: `action`,
  `items`, `week`, `question`), `action.form_value`, `context.open_message_id`
  (lark_oapi/event/callback/model/p2_card_action_trigger.py).

Times are epoch milliseconds, sent as strings of digits ("1609073151345" in
https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/events/receive); lark-oapi types them `int`, so
both are taken, within 13 digits (the year 2286), which is what a datetime can hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from bot.services.journal import MalformedPayload


def _epoch(value: str | int) -> str | int:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 13):
        raise ValueError("an epoch time is up to 13 ASCII digits")
    return value


Epoch = Annotated[str | int, AfterValidator(_epoch)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Header(_Model):
    event_id: str
    create_time: Epoch | None = None


class _UserId(_Model):
    open_id: str | None = None


class _Sender(_Model):
    sender_id: _UserId | None = None
    sender_type: str | None = None


class _Message(_Model):
    message_id: str
    chat_id: str | None = None
    chat_type: str | None = None
    root_id: str | None = None
    parent_id: str | None = None
    create_time: Epoch | None = None
    update_time: Epoch | None = None


class _MessageEvent(_Model):
    sender: _Sender | None = None
    message: _Message


class _Recalled(_Model):
    message_id: str
    chat_id: str | None = None
    recall_time: Epoch | None = None


class _Operator(_Model):
    operator_id: _UserId | None = None


class _Menu(_Model):
    operator: _Operator | None = None
    event_key: str | None = None
    timestamp: Epoch | None = None


class _CardValue(_Model):
    action: str | None = None
    items: list[str] | None = None
    week: str | None = None
    question: str | None = None


class _CardAction(_Model):
    value: _CardValue | None = None
    form_value: dict[str, Any] | None = None


class _CardOperator(_Model):
    open_id: str | None = None


class _CardContext(_Model):
    open_message_id: str | None = None


class _Card(_Model):
    operator: _CardOperator | None = None
    action: _CardAction
    context: _CardContext | None = None


MODELS: dict[str, type[_Model]] = {  # event type -> what its `event` is read as
    "im.message.receive_v1": _MessageEvent,
    "im.message.updated_v1": _MessageEvent,
    "im.message.recalled_v1": _Recalled,
    "application.bot.menu_v6": _Menu,
    "card.action.trigger": _Card,
}


def _reason(exc: ValidationError, prefix: str) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in (prefix, *first['loc']))}: {first['msg']}"


def check(payload: Mapping[str, Any]) -> None:
    """Raise MalformedPayload when a field the translation reads is not in the shape Feishu documents."""
    header = payload.get("header")
    ref = str(header.get("event_id") or "") if isinstance(header, Mapping) else ""
    try:
        _Header.model_validate(header)
    except ValidationError as exc:
        raise MalformedPayload(_reason(exc, "header"), ref) from None
    model = MODELS.get(str(header.get("event_type")) if isinstance(header, Mapping) else "")
    if model is None:
        return
    try:
        model.model_validate(payload.get("event"))
    except ValidationError as exc:
        raise MalformedPayload(_reason(exc, "event"), ref) from None
