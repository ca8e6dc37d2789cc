"""The team file: the example loads; every kind of mistake names file, line, key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.team import ItemKind
from bot.runtime.team_file import TeamFileError, load_team, parse_team
from tests.conftest import EXAMPLE_TEAM

SOURCE = EXAMPLE_TEAM.read_text(encoding="utf-8")


def _error(source: str) -> TeamFileError:
    with pytest.raises(TeamFileError) as info:
        parse_team(source, Path("team.yaml"))
    return info.value


def _line_of(text: str, source: str = SOURCE) -> int:
    return next(n for n, line in enumerate(source.splitlines(), start=1) if text in line)


def test_example_team_loads_with_every_item_kind() -> None:
    team = load_team(EXAMPLE_TEAM)
    kinds = {it.kind for it in team.items}
    # Section notes are off in the example (they would add an item to prompts); every section still has one.
    assert kinds == set(ItemKind) - {ItemKind.NOTE}
    assert {it.kind for it in team.section_notes} == {ItemKind.NOTE}
    assert [it.name for it in team.items_of("wangqiang")] == ["银行", "建行", "招行", "中行", "其他银行"]
    assert str(team.schedule.prompt) == "thu 10:00" and str(team.schedule.publish) == "fri 17:00"


def test_owner_who_is_not_a_person() -> None:
    bad = SOURCE.replace("owner: liuyang\n  - name: PCI", "owner: nobody\n  - name: PCI")
    err = _error(bad)
    p = err.problems[0]
    assert p.key == "projects[0].parts[2].owner" and "'nobody' is not in people" in p.message
    assert p.line == _line_of("owner: nobody", bad)
    assert "team.yaml:" in str(err)


def test_duplicate_people() -> None:
    bad = SOURCE.replace("  - id: lina\n", "  - id: zhangwei\n")
    p = _error(bad).problems[0]
    assert p.key == "people[1].id" and "listed twice" in p.message


def test_unknown_time_zone_and_bad_schedule_time_are_both_reported() -> None:
    bad = SOURCE.replace("Asia/Shanghai", "Mars/Olympus").replace("publish: fri 17:00", "publish: friday 25:00")
    problems = {p.key: p for p in _error(bad).problems}
    assert "unknown time zone 'Mars/Olympus'" in problems["team.timezone"].message
    assert problems["team.timezone"].line == _line_of("Mars/Olympus", bad)
    assert "no such time of day" in problems["schedule.publish"].message


def test_typo_in_a_key_is_named() -> None:
    bad = SOURCE.replace("  locale: zh-CN", "  lokale: zh-CN")
    p = _error(bad).problems[0]
    assert p.key == "team.lokale" and "Extra inputs are not permitted" in p.message


def test_broken_yaml_names_the_line() -> None:
    bad = SOURCE.replace("editors: [zhangwei]", "editors: [zhangwei")
    err = _error(bad)
    assert "not valid YAML" in err.problems[0].message and err.problems[0].line is not None


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(TeamFileError) as info:
        load_team(tmp_path / "team.yaml")
    assert "zhoubao init" in str(info.value)


def test_who_is_who_and_who_answers_what_are_indexed_as_the_rules_say() -> None:
    """`find_person` and `items_of` are indexes now (issue 21: a scan per inbound message): they answer as
    the rules they index — the first person in file order with that id, name, Slack id, Feishu id or email;
    every item `may_write` allows, in report order — with section notes switched on (writers beyond the owner)."""
    source = SOURCE.replace("  - id: O1\n    name: 业务服务\n", "  - id: O1\n    name: 业务服务\n    notes: true\n")
    team = parse_team(source.replace("  - name: 聚合收单\n", "  - name: 聚合收单\n    notes: true\n"), Path("team.yaml"))
    assert sum(1 for it in team.items if it.kind is ItemKind.NOTE) == 2
    for p in team.people:
        assert team.items_of(p.id) == [it for it in team.items if team.may_write(p.id, it)]
        for value in (p.id, p.name, p.slack, p.feishu, p.email):
            if value:
                assert team.find_person(value) == next(
                    q for q in team.people if value in (q.id, q.name, q.slack, q.feishu, q.email))
    assert team.find_person("nobody@example.com") is None and team.items_of("nobody") == []
    assert [pid for pid in team.owners() if team.is_owner(pid)] == team.owners()
