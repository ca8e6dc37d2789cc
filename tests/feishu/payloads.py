"""Feishu event bodies as Feishu sends them: v2 events, card callbacks, encrypted and signed.

The encryption mirrors lark-oapi's `AESCipher` (AES-256-CBC, key = sha256(encrypt key), random IV
prepended, PKCS7, base64); the signature is sha256(timestamp + nonce + encrypt key + body).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from datetime import datetime
from typing import Any

from Crypto.Cipher import AES

APP_ID = "cli_test_app"
TOKEN = "verification-token-test"
ENCRYPT_KEY = "encrypt-key-test"


def encrypt(plaintext: str, key: str) -> str:
    iv = os.urandom(16)
    data = plaintext.encode("utf-8")
    pad = 16 - len(data) % 16
    cipher = AES.new(hashlib.sha256(key.encode("utf-8")).digest(), AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(data + bytes([pad]) * pad)).decode("ascii")


def seal(payload: dict[str, Any], key: str = ENCRYPT_KEY) -> bytes:
    return json.dumps({"encrypt": encrypt(json.dumps(payload, ensure_ascii=False), key)}).encode("utf-8")


def sign(body: bytes, timestamp: str, nonce: str, key: str = ENCRYPT_KEY) -> dict[str, str]:
    digest = hashlib.sha256((timestamp + nonce + key).encode("utf-8") + body).hexdigest()
    return {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": digest}


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def event(kind: str, body: dict[str, Any], at: datetime, *, event_id: str | None = None,
          token: str = TOKEN) -> dict[str, Any]:
    return {"schema": "2.0",
            "header": {"event_id": event_id or uuid.uuid4().hex, "token": token, "create_time": _ms(at),
                       "event_type": kind, "tenant_key": "tenant", "app_id": APP_ID},
            "event": body}


def message(open_id: str, text: str, at: datetime, *, message_id: str | None = None, chat_type: str = "p2p",
            chat_id: str | None = None, parent_id: str | None = None, root_id: str | None = None,
            mentions: list[dict[str, Any]] | None = None, event_id: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": message_id or f"om_user_{uuid.uuid4().hex[:10]}", "create_time": _ms(at),
        "chat_id": chat_id or f"oc_p2p_{open_id}", "chat_type": chat_type, "message_type": "text",
        "content": json.dumps({"text": text}, ensure_ascii=False)}
    if parent_id:
        msg["parent_id"] = parent_id
    if root_id:
        msg["root_id"] = root_id
    if mentions:
        msg["mentions"] = mentions
    return event("im.message.receive_v1", {
        "sender": {"sender_id": {"open_id": open_id}, "sender_type": "user", "tenant_key": "tenant"},
        "message": msg}, at, event_id=event_id)


def updated(open_id: str, message_id: str, text: str, sent: datetime, at: datetime) -> dict[str, Any]:
    """im.message.updated_v1: receive_v1's sender and message, with the new content and `update_time`
    (see bot/adapters/feishu/events.py, UPDATED, for where this shape comes from)."""
    payload = message(open_id, text, sent, message_id=message_id)
    payload["header"].update(event_type="im.message.updated_v1", create_time=_ms(at))
    payload["event"]["message"]["update_time"] = _ms(at)
    return payload


def recalled(message_id: str, chat_id: str, at: datetime) -> dict[str, Any]:
    return event("im.message.recalled_v1", {"message_id": message_id, "chat_id": chat_id,
                                            "recall_time": _ms(at), "recall_type": "message_owner"}, at)


def card_action(open_id: str, value: dict[str, Any], form_value: dict[str, str], message_id: str,
                at: datetime, *, event_id: str | None = None) -> dict[str, Any]:
    return event("card.action.trigger", {
        "operator": {"open_id": open_id, "tenant_key": "tenant"}, "token": "c-token",
        "action": {"tag": "button", "name": "submit", "value": value, "form_value": form_value},
        "host": "im_message", "context": {"open_message_id": message_id, "open_chat_id": f"oc_p2p_{open_id}"}},
        at, event_id=event_id)


def menu(open_id: str, key: str, at: datetime) -> dict[str, Any]:
    return event("application.bot.menu_v6", {"operator": {"operator_id": {"open_id": open_id}},
                                             "event_key": key, "timestamp": int(at.timestamp())}, at)


def url_verification(challenge: str, token: str = TOKEN) -> dict[str, Any]:
    return {"challenge": challenge, "token": token, "type": "url_verification"}
