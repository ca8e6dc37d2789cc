"""Opening an HTTP event callback as Feishu sends it: decrypt, check signature, age and token.

lark-oapi checks the token and signature but not the request's age, and answers 500 for everything it
refuses. Here each refusal says why, and a request older than five minutes is refused, so a captured
request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.adapters.feishu.sdk import AESCipher

MAX_AGE = 300.0  # seconds

TIMESTAMP = "x-lark-request-timestamp"
NONCE = "x-lark-request-nonce"
SIGNATURE = "x-lark-signature"


class Refused(Exception):
    """The request is not from Feishu, or too old, or unreadable; nothing is done with it."""

    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


@dataclass(frozen=True)
class Keys:
    verification_token: str | None
    encrypt_key: str | None


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """X-Lark-Signature: sha256 of timestamp + nonce + encrypt key + the raw body, in hex."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


def open_callback(body: bytes, headers: Mapping[str, str], keys: Keys, now: float,
                  max_age: float = MAX_AGE) -> dict[str, Any]:
    """The event as a dict, or `Refused`. `headers` must be case-insensitive (lower-case keys work)."""
    try:
        outer = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise Refused(400, "body is not JSON") from None
    if not isinstance(outer, dict):
        raise Refused(400, "body is not a JSON object")
    if keys.encrypt_key:
        if "encrypt" not in outer:
            raise Refused(401, "not encrypted")
        try:
            payload = json.loads(AESCipher(keys.encrypt_key).decrypt_str(str(outer["encrypt"])))
        except Exception:  # bad base64, padding, key or JSON: all the same to the sender
            raise Refused(400, "cannot decrypt") from None
    elif "encrypt" in outer:
        raise Refused(400, "encrypted, but no FEISHU_ENCRYPT_KEY is set")
    else:
        payload = outer
    if not isinstance(payload, dict):
        raise Refused(400, "event is not a JSON object")
    is_challenge = payload.get("type") == "url_verification"
    if not is_challenge:
        _check_fresh(headers, now, max_age)
        if keys.encrypt_key:
            _check_signature(body, headers, keys.encrypt_key)
    _check_token(payload, keys.verification_token, signed=bool(keys.encrypt_key) and not is_challenge)
    return payload


def is_url_verification(payload: dict[str, Any]) -> bool:
    return payload.get("type") == "url_verification"


def _check_fresh(headers: Mapping[str, str], now: float, max_age: float) -> None:
    try:
        sent = float(headers.get(TIMESTAMP) or "")
    except ValueError:
        raise Refused(401, "no request timestamp") from None
    if abs(now - sent) > max_age:
        raise Refused(401, "stale request")


def _check_signature(body: bytes, headers: Mapping[str, str], encrypt_key: str) -> None:
    given = headers.get(SIGNATURE) or ""
    expected = signature(headers.get(TIMESTAMP) or "", headers.get(NONCE) or "", encrypt_key, body)
    if not given or not hmac.compare_digest(given, expected):
        raise Refused(401, "bad signature")


def _check_token(payload: dict[str, Any], verification_token: str | None, *, signed: bool = False) -> None:
    if not verification_token:
        return
    header = payload.get("header")
    if header is not None and not isinstance(header, dict):
        if signed:  # signed but malformed: acknowledged later with a 200 (`intake.classify`), not retried
            return
        raise Refused(401, "header is not an object")
    token = (header or {}).get("token") or payload.get("token") or ""
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), verification_token.encode()):
        raise Refused(401, "bad verification token")
