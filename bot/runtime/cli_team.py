"""The `--team` option every command acting on one team takes (issue 25): one definition, one help text.
The choice itself is `Department.choose` (bot/domain/department.py)."""

from __future__ import annotations

from typing import Annotated

import typer

TeamOption = Annotated[str | None, typer.Option(
    "--team", help="The team (its file's name without .yaml, or its name); default: the only team.")]
