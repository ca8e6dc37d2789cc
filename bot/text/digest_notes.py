"""What the editors read about the week's key points: where the digest stands, the lines dropped and why."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.digest import Dropped
from bot.text.catalogue import say


def reason_text(kind: str, detail: str, locale: str) -> str:
    """Why a week has no digest: a model timeout, an HTTP error, a non-JSON answer, too few lines passing…"""
    return say(locale, f"digest.reason.{kind}", detail=detail)


def failed(week: str, kind: str, detail: str, locale: str) -> str:
    """The one message the editors get when the week's report will go out without key points."""
    return say(locale, "digest.failed", week=week, reason=reason_text(kind, detail, locale))


def dropped_lines(dropped: Sequence[Dropped], locale: str) -> list[str]:
    """`- <line> — <why>` for each dropped line, under a heading; [] when none was dropped."""
    if not dropped:
        return []
    return [say(locale, "digest.dropped_head", n=len(dropped)),
            *(say(locale, "digest.dropped_line", text=d.text or "∅",
                  reason=say(locale, f"digest.drop.{d.reason}", detail=d.detail)) for d in dropped)]
