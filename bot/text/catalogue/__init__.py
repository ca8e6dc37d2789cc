"""One catalogue per locale (`zh_CN.py`, `en.py`, same keys): every word the bot says to people.

`say(locale, key, **values)` is the one way to get a sentence; `words(locale)` gives the raw table
(for a list such as `date.months`). An unknown locale falls back to zh-CN, the team file's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.text.catalogue import en, zh_CN

CATALOGUES: dict[str, Mapping[str, str]] = {"zh-CN": zh_CN.WORDS, "en": en.WORDS}
DEFAULT = "zh-CN"


def words(locale: str) -> Mapping[str, str]:
    """The whole catalogue of `locale` (zh-CN for a locale without one)."""
    return CATALOGUES.get(locale, CATALOGUES[DEFAULT])


def say(locale: str, key: str, **values: object) -> str:
    """The sentence `key` in `locale`, with `values` filled in; KeyError for an unknown key."""
    return words(locale)[key].format(**values)


def listing(locale: str, items: Iterable[object]) -> str:
    """Items joined the way `locale` lists them (`A、B` / `A, B`)."""
    return words(locale)["list.sep"].join(str(i) for i in items)
