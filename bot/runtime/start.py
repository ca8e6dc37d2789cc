"""The `zhoubao` command's entry point: automatic garbage collection off (heap.py), then the command line.

Apart from cli.py so that collection is off before typer, pydantic and the settings are imported: importing
them already ran about 100 collections (~20 ms) of a command's start.
"""

from __future__ import annotations


def main() -> None:
    from bot.runtime.heap import starting

    starting()
    from bot.runtime.cli import main as command_line

    command_line()
