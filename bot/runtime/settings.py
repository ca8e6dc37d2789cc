"""Deployment settings and secrets, from the environment or `.env`.

What the team is (people, items, schedule) lives in the team file, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.slack.config import SlackSettings
from bot.adapters.web.config import WebSettings

# The drivers installed with zhoubao: SQLite (standard library) and PostgreSQL (psycopg 3).
SUPPORTED_DATABASES = ("sqlite:///path/to/file.db", "postgresql://user:password@host:5432/name "
                       "(also postgres:// or postgresql+psycopg://)")
_SUPPORTED_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgres", "postgresql", "postgresql+psycopg")
# Bounds of the numeric settings, stated whole when a value is outside them. The misfire grace
# becomes APScheduler's `misfire_grace_time`, a whole number of seconds that must be positive
# (apscheduler/job.py: "misfire_grace_time must be either None or a positive integer"), so 0 is
# refused rather than crashing the scheduler at start; a missed weekly job run more than a week
# late would only confuse. A lease shorter than a second would be lost between two renewals.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "schedule_misfire_grace_hours": (0.1, 168.0, "hours"),
    "schedule_lease_seconds": (1.0, 3600.0, "seconds"),
    # The digest's model call runs at reminder time, never at publish; past ten minutes a server is not coming.
    "ai_timeout_seconds": (1.0, 600.0, "seconds"),
    "report_edit_seconds": (0.0, 600.0, "seconds"),
    "team_file_check_seconds": (1.0, 3600.0, "seconds"),
}


class Settings(BaseSettings, SlackSettings, FeishuSettings, WebSettings):
    """Everything from the environment; the platform fields come from each adapter's settings model."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    database_url: str = Field(default="sqlite:///./data/zhoubao.db")
    team_file: Path = Path("./team.yaml")
    # How often a running bot looks at the team file for a change made on disk (the settings page applies
    # its own changes at once).
    team_file_check_seconds: float = 10.0
    # The address the one HTTP app listens on: loopback unless a deployment opens it (the container
    # image, compose and the systemd unit set 0.0.0.0).
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    # With no chat credentials: None starts the console when stdin is a terminal or a script, False never
    # (`zhoubao run` then stops with one line), True even when stdin is /dev/null.
    zhoubao_console: bool | None = None
    spool_dir: Path = Path("./data/spool")
    schedule_misfire_grace_hours: float = 12.0
    schedule_lease_seconds: float = 60.0
    # Seconds between two edits of a posted report after late answers (the latest state each time).
    report_edit_seconds: float = 5.0
    log_level: str = "INFO"
    # The week's key points (issue 24), written by any OpenAI-compatible server: off unless AI_BASE_URL and
    # AI_MODEL are set. AI_API_KEY may stay unset for a local server (Ollama, vLLM) that checks none.
    ai_base_url: str | None = None
    ai_api_key: SecretStr | None = None
    ai_model: str | None = None
    ai_timeout_seconds: float = 60.0
    # Send people as stable pseudonyms (person-17) instead of names; mapped back after the answer.
    ai_pseudonyms: bool = False
    ai_digest_lines: int = Field(default=5, ge=1, le=20)
    ai_digest_min_lines: int = Field(default=2, ge=1, le=20)
    # What publish posts when the editor approved nothing: the latest digest that passed the check, or none.
    ai_post_unapproved: Literal["latest", "none"] = "latest"
    # The model's context window in tokens: a week's facts beyond it are sent in one request per section.
    ai_context_tokens: int = Field(default=32768, ge=2048, le=2_000_000)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in _SUPPORTED_SCHEMES:
            # Name only the scheme: the rest of the URL may hold a password.
            shown = f"'{scheme}://…'" if scheme else f"'{url}'" if "@" not in url else "this value"
            raise ValueError(f"DATABASE_URL {shown} is not supported; use "
                             + " or ".join(SUPPORTED_DATABASES))
        rest = url.split("://", 1)[1]
        if scheme.startswith("sqlite") and rest and not rest.startswith("/"):
            # `sqlite://data/x.db` reads "data" as a host: SQLAlchemy refuses it with a page of text.
            raise ValueError(f"DATABASE_URL '{url}' has two slashes after 'sqlite:'; a SQLite file takes three "
                             f"(sqlite:///{rest} for a path relative to this folder) or four for an absolute path")
        return url

    @field_validator(*BOUNDS)
    @classmethod
    def _within_bounds(cls, value: float, info: ValidationInfo) -> float:
        low, high, unit = BOUNDS[str(info.field_name)]
        if not low <= value <= high:  # also refuses nan and inf
            raise ValueError(f"{str(info.field_name).upper()} must be from {low:g} to {high:g} {unit}; "
                             f"{value:g} is outside that range")
        return value

    @model_validator(mode="after")
    def _whole_platform(self) -> Self:
        """Credentials come in groups per platform; a group half set is an error naming what is missing."""
        problems = platform_problems(self)
        if bool(self.ai_base_url) != bool(self.ai_model):
            have, lack = ("AI_BASE_URL", "AI_MODEL") if self.ai_base_url else ("AI_MODEL", "AI_BASE_URL")
            problems.append(f"the digest is half set up: {have} set but {lack} missing (the key points need "
                            "both; AI_API_KEY only when the server asks for one)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def digest_on(self) -> bool:
        """Whether the week's key points are written by a model (AI_BASE_URL and AI_MODEL set)."""
        return bool(self.ai_base_url and self.ai_model)

    @property
    def platform(self) -> Literal["slack", "feishu", "console"]:
        """Which chat workspace `zhoubao run` connects to: the one with credentials, else the console."""
        if self.slack_bot_token is not None:
            return "slack"
        if self.feishu_app_id and self.feishu_app_secret is not None:
            return "feishu"
        return "console"


def platform_problems(s: SlackSettings | FeishuSettings) -> list[str]:
    """What is missing from each platform's variables, one sentence per platform (empty when whole)."""
    problems: list[str] = []
    if isinstance(s, SlackSettings):
        slack_set = [n for n, v in (("SLACK_BOT_TOKEN", s.slack_bot_token), ("SLACK_APP_TOKEN", s.slack_app_token),
                                    ("SLACK_SIGNING_SECRET", s.slack_signing_secret)) if v is not None]
        if slack_set and s.slack_bot_token is None:
            problems.append(f"Slack is half set up: {' and '.join(slack_set)} set but SLACK_BOT_TOKEN missing "
                            "(Slack needs SLACK_BOT_TOKEN plus SLACK_APP_TOKEN for Socket Mode "
                            "or SLACK_SIGNING_SECRET for HTTP)")
        elif slack_set and len(slack_set) == 1:
            problems.append("Slack is half set up: SLACK_BOT_TOKEN set but no transport; add SLACK_APP_TOKEN "
                            "(Socket Mode) or SLACK_SIGNING_SECRET (HTTP, POST /slack/events)")
    feishu_on = False
    if isinstance(s, FeishuSettings):
        pair = {"FEISHU_APP_ID": bool(s.feishu_app_id), "FEISHU_APP_SECRET": s.feishu_app_secret is not None}
        extra = [n for n, v in (("FEISHU_VERIFICATION_TOKEN", s.feishu_verification_token),
                                ("FEISHU_ENCRYPT_KEY", s.feishu_encrypt_key)) if v is not None]
        feishu_on = all(pair.values())
        if any(pair.values()) and not feishu_on:
            have = next(n for n, v in pair.items() if v)
            lack = next(n for n, v in pair.items() if not v)
            problems.append(f"Feishu is half set up: {have} set but {lack} missing "
                            "(Feishu/Lark needs FEISHU_APP_ID and FEISHU_APP_SECRET together)")
        elif extra and not feishu_on:
            problems.append(f"Feishu is half set up: {' and '.join(extra)} set but FEISHU_APP_ID and "
                            "FEISHU_APP_SECRET missing (Feishu/Lark needs both)")
    return problems


def both_platforms_problem(s: Settings, platforms_named: bool) -> str | None:
    """Why Slack and Feishu may not both be configured here (None when they may, or are not both set): one
    instance serves one platform, unless it serves a department whose every team names its own
    (`platforms_named`, `Department.platforms_named`)."""
    if s.slack_bot_token is None or not (s.feishu_app_id and s.feishu_app_secret is not None) or platforms_named:
        return None
    return ("both Slack (SLACK_BOT_TOKEN) and Feishu (FEISHU_APP_ID) are set; one instance serves one platform: "
            "unset one, or run a second instance with its own .env (a department file whose every team names its "
            "`platform:` under `team:` is served on both)")
