"""Which team an inbound message is for, when one chat app serves several teams of a department.

The rule lives here, once; the adapters only map a platform user to each team's person (`person_in`) and
hand over what the payload says (text, thread, message id):

1. a team the payload names: a form opened for a team, or a leading `--team <key or name>` in a command (the
   word is removed from the text);
2. an edit or deletion goes to the team that stored the message;
3. a reply in the thread of a prompt goes to the team that sent the prompt;
4. else the sender's only team on this chat app;
5. else (on several) the bot asks which team, and stores nothing; on none, the first team answers (its
   core says "not a member", as a single team does).

With one team on the chat app every inbound goes to it, with no lookup: a single-team install is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.domain.department import is_named, team_label
from bot.services.bot import Bot
from bot.services.chat import Reply
from bot.text.catalogue import listing, say
from storage.answers import Answers
from storage.db import transaction
from storage.directory import Directory

TEAM_WORD = "--team"


@dataclass(frozen=True)
class RoutedTeam:
    """One team an app serves: what `--team` accepts for it (its key, its name) and its bot."""

    key: str
    bot: Bot

    @property
    def name(self) -> str:
        return self.bot.ctx.team.team.name


@dataclass(frozen=True)
class Routed:
    """Where an inbound goes: `bot` with `text` (a leading `--team` word removed), or, when it cannot be
    told, no bot and the `reply` asking which team."""

    bot: Bot | None
    text: str
    reply: Reply | None = None


class TeamRouting:
    """The teams one chat app serves, in the department file's order."""

    def __init__(self, teams: Sequence[RoutedTeam], platform: str) -> None:
        if not teams:
            raise ValueError("a chat app serves at least one team")
        self.teams = tuple(teams)
        self.platform = platform

    @classmethod
    def one(cls, bot: Bot, platform: str) -> TeamRouting:
        """A chat app serving one team: everything goes to `bot`."""
        return cls([RoutedTeam(bot.ctx.team.team.name, bot)], platform)

    @property
    def first(self) -> Bot:
        return self.teams[0].bot

    @property
    def bots(self) -> tuple[Bot, ...]:
        return tuple(t.bot for t in self.teams)

    def route(self, person_in: Callable[[Bot], str | None], *, text: str = "", thread_id: str | None = None,
              source_id: str | None = None, team: str | None = None) -> Routed:
        """The team an inbound is for (see the module's rule). `person_in(bot)` is the sender as that team
        knows them (None: not in it); `source_id` is the message an edit or deletion is about; `team` the
        team the payload itself names (a form opened for it)."""
        if len(self.teams) == 1:
            return Routed(self.first, text)
        named, rest = (team, text) if team else team_word(text)
        if named is not None:
            chosen = next((t for t in self.teams if is_named(t.key, t.name, named)), None)
            if chosen is not None:
                return Routed(chosen.bot, rest)
            return self._ask(self._mine(person_in), text)
        if source_id:
            stored = next((t for t in self.teams if self._stored(t.bot, source_id)), None)
            if stored is not None:
                return Routed(stored.bot, text)
        if thread_id:
            prompted = next((t for t in self.teams if self._prompted(t.bot, thread_id)), None)
            if prompted is not None:
                return Routed(prompted.bot, text)
        mine = self._mine(person_in)  # looked up only here: the sender may need a platform lookup
        if len(mine) == 1:
            return Routed(mine[0].bot, text)
        if not mine:
            return Routed(self.first, text)  # its core answers "not a member"
        return self._ask(mine, text)

    def _mine(self, person_in: Callable[[Bot], str | None]) -> list[RoutedTeam]:
        return [t for t in self.teams if person_in(t.bot) is not None]

    def _ask(self, mine: list[RoutedTeam], text: str) -> Routed:
        """Ask which of the sender's teams (every team, for someone in none) the text is for."""
        choices = mine or list(self.teams)
        locale = choices[0].bot.ctx.locale
        teams = listing(locale, (team_label(t.key, t.name) for t in choices))
        return Routed(None, text, Reply(say(locale, "route.which_team", teams=teams, example=choices[0].key),
                                        ok=False))

    def _stored(self, bot: Bot, source_id: str) -> bool:
        with transaction(bot.ctx.db) as s:
            return Answers(s).message(bot.ctx.team_id, self.platform, source_id) is not None

    def _prompted(self, bot: Bot, thread_id: str) -> bool:
        with transaction(bot.ctx.db) as s:
            return Directory(s).prompt_by_message(bot.ctx.team_id, self.platform, thread_id) is not None


def team_word(text: str) -> tuple[str | None, str]:
    """(`X`, the rest) for a text starting `--team X` (or `--team=X`), else (None, text): the one reading of
    the word, also for an adapter asking what a command does before it is routed."""
    stripped = text.lstrip()
    if not stripped.startswith(TEAM_WORD):
        return None, text
    after = stripped[len(TEAM_WORD):]
    if after.startswith("="):
        after = after[1:]
    elif not after[:1].isspace():
        return None, text
    word, _, rest = after.strip().partition(" ")
    return (word, rest.lstrip()) if word else (None, text)
