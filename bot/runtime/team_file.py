"""Loading the team file (YAML) into `Team`, or a department file into `Department` (its teams' files
loaded the same way), with errors that name file, line and key."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.domain.department import Department, DepartmentFile, DepartmentTeam, TeamChoiceError
from bot.domain.team import Team
from bot.services.team_settings import TeamEdit

M = TypeVar("M", bound=BaseModel)
_PATH_PREFIX = re.compile(r"^([A-Za-z_]+(?:\[\d+\]|\.[A-Za-z_]+)*): ")


@dataclass(frozen=True)
class TeamFileProblem:
    line: int | None
    key: str
    message: str


class TeamFileError(Exception):
    """The team file cannot be used; `str()` lists every problem with file, line and key."""

    def __init__(self, path: Path, problems: list[TeamFileProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [f"{self.path}: the team file has {len(self.problems)} problem(s):"]
        for p in self.problems:
            where = f"{self.path}:{p.line}" if p.line else str(self.path)
            key = f" [{p.key}]" if p.key else ""
            lines.append(f"  {where}{key}: {p.message}")
        return "\n".join(lines)


def load_team(path: Path) -> Team:
    """Read and validate the team file; raises TeamFileError describing what is wrong."""
    return parse_team(_read(path), path)


def load_team_of(path: Path, wanted: str | None = None) -> Team:
    """The team `wanted` (`--team`) names in the department or team file at `path`; with None, its only team.
    Raises TeamFileError, also when the choice names no team or the department has several."""
    department = load_department(path)
    try:
        return department.choose(wanted)
    except TeamChoiceError as exc:
        raise TeamFileError(path, [TeamFileProblem(None, "--team", str(exc))]) from None


def load_department(path: Path) -> Department:
    """The department TEAM_FILE describes: a department file (`department:` and `teams:`, each team a file
    beside it) or a plain team file, which is a department of that one team. Raises TeamFileError naming
    the file (the department's or a team's) that is wrong."""
    data = _yaml(_read(path), path)
    if "department" not in data:
        return Department(None, (DepartmentTeam(path.stem, _validate(Team, data, path), path),))
    spec = _validate(DepartmentFile, data, path)
    teams: list[DepartmentTeam] = []
    for i, name in enumerate(spec.teams):
        team = load_team(path.parent / name)
        key = Path(name).stem
        for other in teams:
            if key == other.key or team.team.name == other.name:
                line = _line_of(data, ("teams", i))
                raise TeamFileError(path, [TeamFileProblem(line, f"teams[{i}]", f"'{name}' names a team already "
                                                           f"listed ({other.key}: {other.name})")])
        teams.append(DepartmentTeam(key, team, path.parent / name))
    return Department(spec.department, tuple(teams))


def _read(path: Path) -> str:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TeamFileError(path, [TeamFileProblem(None, "", "file not found; `zhoubao init` writes an example")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TeamFileError(path, [TeamFileProblem(None, "", f"cannot read it: {exc}")]) from None
    return source


def parse_team(source: str, path: Path = Path("team.yaml")) -> Team:
    return _validate(Team, _yaml(source, path), path)


def _yaml(source: str, path: Path) -> CommentedMap:
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(source)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise TeamFileError(path, [TeamFileProblem(line, "", f"not valid YAML: {exc.problem}")]) from None
    if not isinstance(data, dict):
        raise TeamFileError(path, [TeamFileProblem(1, "", "expected a mapping with team:, people:, editors: …")])
    return data  # type: ignore[return-value]


def _validate(model: type[M], data: CommentedMap, path: Path) -> M:
    try:
        return model.model_validate(_plain(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            m = _PATH_PREFIX.match(message)
            if not loc and m:
                loc = _parse_path(m.group(1))
                message = message[m.end():]
            problems.append(TeamFileProblem(_line_of(data, loc), _dotted(loc), message))
        raise TeamFileError(path, problems) from None


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists (pydantic wants those)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _parse_path(text: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for name, index in re.findall(r"([A-Za-z_]+)|\[(\d+)\]", text):
        out.append(name if name else int(index))
    return tuple(out)


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest key of `loc` that exists in the YAML."""
    node, line = data, 1
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            pos = node.lc.key(part) if hasattr(node.lc, "key") else None
            if pos:
                line = pos[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            pos = node.lc.item(part)
            if pos:
                line = pos[0] + 1
            node = node[part]
        else:
            break
    return line


# ----- writing ---------------------------------------------------------------------------------------


def edit_team_source(source: str, edit: TeamEdit) -> str:
    """The team file's text with `edit` applied, every comment, key order and flow style kept (ruamel's
    round trip). Only what the edit changes is touched; the result is not validated (`parse_team` does that).
    Raises ValueError for a path the settings page may not write or that the file does not have."""
    unknown = edit.unknown_paths()
    if unknown:
        raise ValueError(f"not editable: {', '.join(unknown)}")
    yaml = _round_trip()
    data = yaml.load(source)
    if not isinstance(data, CommentedMap):
        raise ValueError("the team file is not a mapping")
    for path, value in edit.values.items():
        *parents, last = _parse_path(path)
        node: Any = data
        for part in parents:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                raise ValueError(f"{path}: the team file has no such entry") from None
        if not isinstance(node, CommentedMap):
            raise ValueError(f"{path}: the team file has no such entry")
        text = value.strip()
        if text:
            if node.get(last) != text:
                node[last] = text
        elif last in node:
            del node[last]  # an optional field emptied (an email, a bank's own owner)
        # a required field left empty is left out, and the validation names it
    if edit.remind is not None:
        schedule = data.setdefault("schedule", CommentedMap())
        _replace_list(schedule, "remind", list(edit.remind))
    for key, ids in (("editors", edit.editors), ("admins", edit.admins)):
        if ids is not None and (ids or key in data):
            _replace_list(data, key, list(ids))
    people = data.get("people")
    if edit.new_person is not None:
        if not isinstance(people, CommentedSeq):
            raise ValueError("people: the team file has no list of people")
        person = CommentedMap()
        for name in ("id", "name", "email", "slack", "feishu"):
            value = edit.new_person.get(name, "").strip()
            if value or name in ("id", "name"):
                person[name] = value
        people.append(person)
    if edit.remove_people:
        if not isinstance(people, CommentedSeq):
            raise ValueError("people: the team file has no list of people")
        for index in sorted(edit.remove_people, reverse=True):
            if 0 <= index < len(people):
                del people[index]
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the person wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _replace_list(node: CommentedMap, key: str, values: list[str]) -> None:
    """Set `node[key]` to `values` in place, so the list keeps its style (`[a, b]`) and its comments."""
    current = node.get(key)
    if isinstance(current, CommentedSeq):
        if list(current) != values:
            del current[:]
            current.extend(values)
        return
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    node[key] = seq
