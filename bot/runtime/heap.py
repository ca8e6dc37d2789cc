"""The interpreter's cyclic garbage collector around start-up.

Starting a command builds long-lived objects (modules, classes, the team, the composed services) and almost
no garbage, yet the collector walks them again and again as they pile up. Counted with `gc.callbacks`: 273
collections and 157 ms (98 ms of them full collections) in a console `zhoubao run` before its first prompt,
60 ms in `zhoubao report`. So `main` turns automatic collection off while a command starts (`starting`), and
`started` freezes what start-up built (frozen objects are never examined again:
https://docs.python.org/3/library/gc.html#gc.freeze) and turns collection back on before the command's own
work. A command that never reaches `started` (init, doctor, backup, db upgrade) does a bounded amount of
work and ends without automatic collection.
"""

from __future__ import annotations

import gc


def starting() -> None:
    """Automatic collection off until `started` (called once, by `main`, before the command is parsed)."""
    gc.disable()


def started(*, collect: bool = False) -> None:
    """The command has built what it lives with: freeze it and collect automatically from here on. With
    `collect`, first collect what start-up left (a long-running process; a one-shot command skips the full
    pass). Without `starting` (tests driving the commands in one process) only `collect` does anything."""
    if collect:
        gc.collect()
    if collect or not gc.isenabled():
        gc.freeze()
        gc.enable()
