"""Long text in pieces that each fit a platform's limit: split at paragraph breaks where they fit, else at
line breaks; only a single line longer than the limit is cut inside itself. Pure; each platform says how it
measures (Slack: characters of escaped mrkdwn; Feishu: bytes of the JSON request body) and where a line
may be cut."""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]
Cut = Callable[[str, int], list[str]]


def cut_by(measure: Measure) -> Cut:
    """A line in pieces of at most `limit` as `measure` counts them (a measure that adds up character by
    character: counts of characters, or bytes of escaped text)."""
    def cut(line: str, limit: int) -> list[str]:
        pieces: list[str] = []
        start, used = 0, 0
        for i, ch in enumerate(line):
            cost = measure(ch)
            if used + cost > limit and i > start:
                pieces.append(line[start:i])
                start, used = i, 0
            used += cost
        return [*pieces, line[start:]]
    return cut


def pieces(text: str, limit: int, measure: Measure = len, cut: Cut | None = None) -> list[str]:
    """`text` in pieces of at most `limit` (as `measure` counts them, which must add up over characters),
    at paragraph breaks where they fit, else at line breaks; only a line longer than `limit` is cut, by
    `cut` (by default wherever the limit falls)."""
    cut = cut or cut_by(measure)
    out: list[str] = []
    current, used = "", 0
    for paragraph in text.strip("\n").split("\n\n"):
        size = measure(paragraph)
        units = [(paragraph, size)] if size <= limit else \
            [(p, measure(p)) for line in paragraph.split("\n") for p in cut(line, limit)]
        for n, (unit, cost) in enumerate(units):
            glue = ("\n\n" if n == 0 else "\n") if current else ""
            if used + measure(glue) + cost <= limit:
                current, used = current + glue + unit, used + measure(glue) + cost
            else:
                if current.strip():
                    out.append(current)
                current, used = unit, cost
    if current.strip():
        out.append(current)
    return out
