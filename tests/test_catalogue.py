"""The catalogues say the same things in every locale, and nothing outside them speaks a language."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.text.catalogue import CATALOGUES, say

ROOT = Path(__file__).resolve().parent.parent


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_locale_has_the_same_keys() -> None:
    zh, en = CATALOGUES["zh-CN"], CATALOGUES["en"]
    assert sorted(set(zh) - set(en)) == [] and sorted(set(en) - set(zh)) == []


@pytest.mark.parametrize("key", sorted(CATALOGUES["zh-CN"]))
def test_each_sentence_takes_the_same_values_in_every_locale(key: str) -> None:
    zh, en = CATALOGUES["zh-CN"][key], CATALOGUES["en"][key]
    assert _placeholders(zh) == _placeholders(en), key
    assert zh.strip() or key in ("list.sep", "report.counts.severity_sep"), f"{key} is empty in zh-CN"


def test_lists_of_names_have_one_name_per_slot() -> None:
    for words in CATALOGUES.values():
        assert len(words["date.months"].split()) == 12 and len(words["date.weekdays"].split()) == 7


def test_a_sentence_is_filled_in() -> None:
    assert say("zh-CN", "command.bad_week", value="2024-W99").startswith("⚠️ “2024-W99”不是有效的周")
    assert say("en", "command.bad_week", value="2024-W99").startswith("⚠️ '2024-W99' is not a week")


_INLINE = re.compile(r"""(?:\bzh\b\s+else|locale\s*[!=]=\s*["'](?:en|zh-CN)["']|def _zh\b)""")


def test_no_language_is_chosen_outside_the_catalogue() -> None:
    """`zh if … else en`, `locale == "en"` and `_zh()` belong in the catalogue, not in code."""
    offenders = [f"{p.relative_to(ROOT)}:{n}"
                 for folder in ("bot/domain", "bot/services", "bot/text", "bot/adapters")
                 for p in sorted((ROOT / folder).rglob("*.py"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
                 if _INLINE.search(line)]
    assert offenders == []
