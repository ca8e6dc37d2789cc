"""Deployment settings and secrets, from the environment or `.env`.

What the team is (people, items, schedule) lives in the team file, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.slack.config import SlackSettings
from bot.adapters.web.config import WebSettings


class Settings(BaseSettings, SlackSettings, FeishuSettings, WebSettings):
    """Everything from the environment; the platform fields come from each adapter's settings model."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    database_url: str = Field(default="sqlite:///./data/zhoubao.db")
    team_file: Path = Path("./team.yaml")


    port: int = Field(default=3000, ge=1, le=65535)
    spool_dir: Path = Path("./data/spool")
    schedule_misfire_grace_hours: float = Field(default=12.0, ge=0)
    schedule_lease_seconds: float = Field(default=60.0, gt=0)
    log_level: str = "INFO"

    @property
    def platform(self) -> Literal["slack", "feishu", "console"]:
        """Which chat workspace `zhoubao run` connects to: the first with credentials."""
        if self.slack_bot_token is not None:
            return "slack"
        if self.feishu_app_id and self.feishu_app_secret is not None:
            return "feishu"
        return "console"
