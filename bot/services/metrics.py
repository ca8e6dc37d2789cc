"""The metrics port: what the services and adapters count, without knowing who reads the counts.

The runtime implements it with prometheus-client (`bot/runtime/metrics.py`); tests and one-shot
commands use `NO_METRICS`.
"""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def answer_received(self, platform: str) -> None:
        """An answer (message or form) was stored for someone."""

    def prompt_sent(self, platform: str, kind: str) -> None:
        """A prompt or reminder reached the platform."""

    def platform_error(self, platform: str, method: str, code: str) -> None:
        """The platform refused or failed an API call (after retries)."""

    def job_ran(self, kind: str, outcome: str) -> None:
        """A scheduled job finished (`ok`) or failed (`failed`)."""


class NoMetrics:
    """Counts nothing."""

    def answer_received(self, platform: str) -> None:
        pass

    def prompt_sent(self, platform: str, kind: str) -> None:
        pass

    def platform_error(self, platform: str, method: str, code: str) -> None:
        pass

    def job_ran(self, kind: str, outcome: str) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()
