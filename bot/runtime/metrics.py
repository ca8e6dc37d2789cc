"""The metrics port implemented with prometheus-client, in a registry of its own (never the global one).

`GET /metrics` serves `PrometheusMetrics.exposition()`; the root builds one per process.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class PrometheusMetrics:
    """Counters for what the bot does, and the HTTP latency histogram; `exposition()` is the scrape body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.answers = Counter("zhoubao_answers_received", "Answers stored, by platform.", ["platform"],
                               registry=self.registry)
        self.prompts = Counter("zhoubao_prompts_sent", "Prompts and reminders delivered, by platform and kind.",
                               ["platform", "kind"], registry=self.registry)
        self.platform_errors = Counter("zhoubao_platform_api_errors", "Platform API calls that failed, by method and code.",
                                       ["platform", "method", "code"], registry=self.registry)
        self.jobs = Counter("zhoubao_job_runs", "Scheduled job runs, by kind and outcome.", ["kind", "outcome"],
                            registry=self.registry)
        self.latency = Histogram("zhoubao_http_request_duration_seconds", "HTTP request latency, by path.",
                                 ["path"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
        self.spooled = Gauge("zhoubao_spooled_answers", "Answers kept in the spool until the database returns.",
                             registry=self.registry)
        self.unprocessed = Gauge("zhoubao_unprocessed_requests",
                                 "Platform requests acknowledged (journaled or spooled) but not processed yet.",
                                 registry=self.registry)

    # ----- the port (bot.services.metrics.Metrics) --------------------------------------------

    def answer_received(self, platform: str) -> None:
        self.answers.labels(platform).inc()

    def prompt_sent(self, platform: str, kind: str) -> None:
        self.prompts.labels(platform, kind).inc()

    def platform_error(self, platform: str, method: str, code: str) -> None:
        self.platform_errors.labels(platform, method, code).inc()

    def job_ran(self, kind: str, outcome: str) -> None:
        self.jobs.labels(kind, outcome).inc()

    # ----- HTTP ------------------------------------------------------------------------------

    def request_took(self, path: str, seconds: float) -> None:
        self.latency.labels(path).observe(seconds)

    def exposition(self, spooled: int, unprocessed: int) -> bytes:
        """The Prometheus text format of everything counted so far; `spooled` and `unprocessed` are read
        by the caller at scrape time (the spool is files on disk and the journal a table, both shared
        with other processes)."""
        self.spooled.set(spooled)
        self.unprocessed.set(unprocessed)
        return generate_latest(self.registry)
