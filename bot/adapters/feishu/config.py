"""The Feishu/Lark settings the adapter reads; the runtime's `Settings` includes them (FEISHU_* variables)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class FeishuSettings(BaseModel):
    feishu_app_id: str | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    feishu_encrypt_key: SecretStr | None = None
    feishu_domain: str = "https://open.feishu.cn"
    feishu_event_mode: Literal["ws", "http"] = "ws"
    port: int = Field(default=3000, ge=1, le=65535)
