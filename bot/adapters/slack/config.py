"""The Slack settings the adapter reads; the runtime's `Settings` includes them (SLACK_* variables)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class SlackSettings(BaseModel):
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
