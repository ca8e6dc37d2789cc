"""Loading the team file (YAML) into `Team`, or a department file into `Department` (its teams' files
loaded the same way), with errors that name file, line and key."""

from __future__ import annotations

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
        return Department(None, (DepartmentTeam(path.stem, _validate(Team, data, path)),))
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
        teams.append(DepartmentTeam(key, team))
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
