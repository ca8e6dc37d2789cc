"""The team an adapter matches platform users against: the running one, so a reload reaches the adapters too."""

from __future__ import annotations

from bot.domain.team import Team
from bot.services.context import LiveTeam

# The process's `LiveTeam` (read on every call: the settings page or the file watch swaps it, and the next
# inbound message is matched against the new people), or a fixed team for a tool or test that builds an
# adapter alone (`zhoubao doctor`, a bench).
TeamSource = Team | LiveTeam


def current_team(source: TeamSource) -> Team:
    """The team as it is now."""
    return source.team if isinstance(source, LiveTeam) else source
