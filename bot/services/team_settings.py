"""Team settings changed from the dashboard: what an admin may change, the change as a value, and the port
the runtime implements to validate it as the team file is validated, write it back into the file and apply it.

The team file stays the source of truth: a change is written into it (comments kept) and then applied by
the same reload a change made on disk goes through (`bot/runtime/team_reload.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.domain.team import Team

# The fields the settings page writes, as the team file's paths (`people[2].name`, `okrs[0].items[1].owner`).
# Names of projects, parts, OKR items and metrics are not among them: an item's name is its storage key, and
# renaming one would orphan its history (that stays an edit of the file). A person's id is their storage key
# likewise: it is written once, when the person is added.
_EDITABLE = re.compile(
    r"^(?:people\[\d+\]\.(?:name|email|slack|feishu)"
    r"|projects\[\d+\](?:\.parts\[\d+\](?:\.banks\[\d+\])?)?\.owner"
    r"|okrs\[\d+\]\.items\[\d+\]\.owner"
    r"|metrics\[\d+\]\.metrics\[\d+\]\.owner"
    r"|schedule\.(?:prompt|publish|calendar))$")
PERSON_FIELDS = ("id", "name", "email", "slack", "feishu")


def editable(path: str) -> bool:
    """Whether the settings page may write the team file's `path`."""
    return _EDITABLE.match(path) is not None


@dataclass(frozen=True)
class TeamEdit:
    """One save of the settings page: every value as the page shows it, by the team file's path."""

    values: Mapping[str, str] = field(default_factory=dict)  # path -> text ("" removes an optional field)
    remind: tuple[str, ...] | None = None  # the reminder times; None: unchanged
    editors: tuple[str, ...] | None = None  # person ids; None: unchanged
    admins: tuple[str, ...] | None = None
    new_person: Mapping[str, str] | None = None  # id, name and optional email/slack/feishu of a person to add
    remove_people: frozenset[int] = frozenset()  # indexes in `people`

    def unknown_paths(self) -> list[str]:
        """The paths in `values` the settings page may not write."""
        return sorted(p for p in self.values if not editable(p))


@dataclass(frozen=True)
class SettingsProblem:
    field: str  # the team file's path (`people[8].id`, `schedule.prompt`), or "" for the file as a whole
    message: str


class SettingsRejected(Exception):
    """The change would make an invalid team file; nothing was written or applied."""

    def __init__(self, problems: list[SettingsProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


class SettingsConflict(Exception):
    """The team file changed since the page was shown; nothing was written."""


@dataclass(frozen=True)
class TeamFileView:
    team: Team  # as the file says now
    version: str  # the file's content hash: a save names it, so two admins cannot overwrite each other


class TeamSettingsPort(Protocol):
    """What the dashboard's settings page calls (the runtime's `TeamReload` is the one implementation)."""

    def current(self) -> TeamFileView:
        """The team file as it is now; SettingsRejected when it cannot be read or does not validate."""
        ...

    def save(self, edit: TeamEdit, version: str, by: str) -> Team:
        """Write `edit` into the team file and apply it; SettingsRejected (problems by field) or
        SettingsConflict (the file changed since `version`) leave the file and the running team as they were."""
        ...


def may_change_settings(team: Team, person_id: str) -> bool:
    """Team settings are the admins' (`admins:` in the team file); a file that lists none leaves them with the
    editors, so no team is locked out of its own page."""
    return person_id in team.admins if team.admins else person_id in team.editors


@dataclass(frozen=True)
class OwnerField:
    path: str  # the team file's path of the owner (`projects[0].parts[1].owner`)
    title: str  # where the item sits in the report (`聚合收单 · 银行`)
    owner: str | None  # person id; None: a bank that follows its part's owner
    optional: bool = False  # a bank: may follow its part's owner


def owner_fields(team: Team) -> list[OwnerField]:
    """Every owner the team file names, in report order, for the settings page."""
    out: list[OwnerField] = []
    for i, pr in enumerate(team.projects):
        if not pr.parts:
            out.append(OwnerField(f"projects[{i}].owner", pr.name, pr.owner))
        for j, part in enumerate(pr.parts):
            out.append(OwnerField(f"projects[{i}].parts[{j}].owner", f"{pr.name} · {part.name}", part.owner))
            for k, bank in enumerate(part.banks):
                out.append(OwnerField(f"projects[{i}].parts[{j}].banks[{k}].owner",
                                      f"{pr.name} · {part.name} · {bank.name}", bank.owner, optional=True))
    for i, g in enumerate(team.okrs):
        for j, it in enumerate(g.items):
            out.append(OwnerField(f"okrs[{i}].items[{j}].owner", f"{g.id} {g.name} · {it.name}", it.owner))
    for i, mg in enumerate(team.metrics):
        for j, m in enumerate(mg.metrics):
            out.append(OwnerField(f"metrics[{i}].metrics[{j}].owner", f"{mg.name} · {m.name}", m.owner))
    return out


_LIST_SEP = re.compile(r"[,，、;；]")


def edit_from_page(team: Team, fields: Mapping[str, str]) -> TeamEdit:
    """The settings page's fields as an edit of `team`'s file. The fields are named by the team file's paths,
    plus `people[i].editor` / `people[i].admin` / `people[i].remove` check boxes, `new.<field>` for the person
    to add, and `schedule.remind` (times separated by commas). Editors and admins keep their order; people
    newly checked follow in the file's order."""
    values = {k: v for k, v in fields.items() if editable(k)}
    remind = tuple(t.strip() for t in _LIST_SEP.split(fields["schedule.remind"]) if t.strip()) \
        if "schedule.remind" in fields else None
    removed = frozenset(i for i in range(len(team.people)) if fields.get(f"people[{i}].remove"))

    def checked(role: str, current: list[str]) -> tuple[str, ...]:
        on = [p.id for i, p in enumerate(team.people) if fields.get(f"people[{i}].{role}") and i not in removed]
        return tuple([pid for pid in current if pid in on] + [pid for pid in on if pid not in current])

    new = {f: fields.get(f"new.{f}", "").strip() for f in PERSON_FIELDS}
    new_person = new if new["id"] or new["name"] else None
    editors, admins = checked("editor", team.editors), checked("admin", team.admins)
    if new_person is not None:
        editors += (new["id"],) if fields.get("new.editor") else ()
        admins += (new["id"],) if fields.get("new.admin") else ()
    return TeamEdit(values=values, remind=remind, editors=editors, admins=admins, new_person=new_person,
                    remove_people=removed)
