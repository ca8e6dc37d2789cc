"""What every `zhoubao` command shares: the `--team` option (one definition, one help text; the choice
itself is `Department.choose`, bot/domain/department.py), the one-line failure, and reading the settings, so
every command says a bad setting the same way."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from bot.runtime.settings import Settings

TeamOption = Annotated[str | None, typer.Option(
    "--team", help="The team (its file's name without .yaml, or its name); default: the only team.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say `message` on stderr; the caller raises what this returns (exit 2 unless told)."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def read_settings() -> Settings:
    """The settings from the environment and .env; a bad one is one line per problem, naming the variables
    (no pydantic noise)."""
    try:
        return Settings()
    except ValidationError as exc:
        from bot.runtime.doctor import settings_problems

        raise fail("\n".join(f"Settings: {p}" for p in settings_problems(exc))) from None
