"""Publishing a report into documents, after its chat post: a Feishu document, a Slack canvas, 多维表格 rows.

The cycle posts the report in chat first and then hands it here (`report_published`); the documents are
written from a queue of their own (the `Outbox`, one line for the team), so a slow, rate-limited or failing
document never delays or blocks the chat post. Each document is retried (tenacity) while its adapter says
the failure may pass; when it finally fails the editors are told what and why.

A re-publish (a late answer's edit, `/zhoubao publish` again) edits the same document: where each subject
("week:2024-W26"; a roll-up later) went is stored (`published_documents`) the moment the platform created
it, before its content is written, and every table row by its key (`document_records`) the moment its
batch was created, so neither a retry nor a restart creates a second one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from bot.domain.report import Report
from bot.domain.report_rows import ReportRow, report_rows
from bot.services.chat import ChatError
from bot.services.context import Context
from bot.services.delivery import message_editors
from bot.services.outbox import Outbox
from bot.text.catalogue import say
from storage.db import transaction
from storage.documents import PublishedDocuments

log = logging.getLogger("zhoubao.documents")

FieldValue = str | float
T = TypeVar("T")


@dataclass(frozen=True)
class DocumentRef:
    document_id: str  # the platform's id or token (docx document_id, canvas id)
    url: str | None = None  # where people open it


@dataclass(frozen=True)
class TableRow:
    key: str  # stable across publishes of one subject (`ReportRow.key`)
    fields: dict[str, FieldValue]  # column name -> value


class DocumentError(Exception):
    """A platform refused or failed to write a document. `reason` is its short code; `retryable` says
    whether trying again later may succeed (a rate limit, a 5xx, a dropped connection, a busy table)."""

    def __init__(self, reason: str, detail: str = "", *, method: str = "", retryable: bool = False) -> None:
        self.reason, self.method, self.retryable = reason, method, retryable
        super().__init__(f"{reason}: {detail}" if detail else reason)


class DocumentTarget(Protocol):
    """Somewhere a report is written as one document (a Feishu docx, a Slack canvas)."""

    kind: str  # "feishu_doc" | "slack_canvas": names it to people (documents.kind.<kind>)
    target: str  # which one, stable across restarts: "feishu_doc:<folder token>"

    def publish(self, title: str, markdown: str, existing: DocumentRef | None,
                created: Callable[[DocumentRef], None]) -> DocumentRef:
        """Write `markdown` as the document's whole content: into `existing`, or into a new document (then
        `created` is called with it as soon as it exists, before its content is written). Returns where it
        is; raises DocumentError."""
        ...


class TableTarget(Protocol):
    """A table a report's rows are written into (a 多维表格 table)."""

    kind: str  # "feishu_bitable"
    target: str

    def write(self, rows: Sequence[TableRow], known: Mapping[str, str],
              created: Callable[[Mapping[str, str]], None]) -> None:
        """Update the rows whose key is in `known` (key -> record id) and create the others, calling `created`
        (key -> new record id) after each batch created. Raises DocumentError."""
        ...


@dataclass(frozen=True)
class Destinations:
    """Where the team's reports are written besides the chat post (built by the composition root)."""

    documents: tuple[DocumentTarget, ...] = ()
    tables: tuple[TableTarget, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.documents or self.tables)


class DocumentPublisher:
    """Writes each published report into the team's `destinations`. With an `outbox` the writing happens on
    its thread (`report_published` returns at once); without one, on the caller's (one-shot commands)."""

    def __init__(self, ctx: Context, destinations: Destinations, *, outbox: Outbox | None = None,
                 attempts: int = 4, backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> None:
        """`attempts`: tries per document before the editors are told; `backoff`: the first wait (seconds),
        doubling up to a minute."""
        self.ctx, self.destinations, self.outbox = ctx, destinations, outbox
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep
        self._latest: dict[str, int] = {}  # subject -> the newest queued publish of it
        self._lock = threading.Lock()

    # ----- the port the cycle calls -----------------------------------------------------------------

    def report_published(self, week: str, report: Report, markdown: str) -> None:
        """`report` of `week` was just posted (or its post edited): write it into every destination."""
        subject = f"week:{week}"
        loc = self.ctx.locale
        title = say(loc, "documents.title", team=report.team, week=week)
        rows = tuple(self._table_row(week, r) for r in report_rows(report))
        if self.outbox is None:
            self.publish(subject, week, title, markdown, rows)
            return
        with self._lock:
            self._latest[subject] = generation = self._latest.get(subject, 0) + 1

        def job() -> None:
            with self._lock:  # a later post of the same subject is queued behind this one: only it is written
                if self._latest.get(subject) != generation:
                    return
            self.publish(subject, week, title, markdown, rows)

        self.outbox.send(f"documents:{self.ctx.team_id}", job, what="document publish")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued publish is done (tests, shutdown); False on timeout."""
        return self.outbox is None or self.outbox.wait_idle(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self.outbox is not None:
            self.outbox.stop(timeout)

    # ----- the work ------------------------------------------------------------------------------------

    def publish(self, subject: str, week: str, title: str, markdown: str, rows: Sequence[TableRow]) -> None:
        """Write one subject everywhere; a destination that fails is told to the editors, the others go on."""
        for doc in self.destinations.documents:
            self._document(doc, subject, week, title, markdown)
        for table in self.destinations.tables:
            self._table(table, subject, week, rows)

    def _document(self, doc: DocumentTarget, subject: str, week: str, title: str, markdown: str) -> None:
        with transaction(self.ctx.db) as s:
            row = PublishedDocuments(s).get(self.ctx.team_id, subject, doc.target)
            known = DocumentRef(row.document_id, row.url) if row is not None else None
        state = {"ref": known}

        def created(ref: DocumentRef) -> None:
            state["ref"] = ref
            self._remember(subject, doc.target, ref)

        try:
            ref = self._retrying(doc.kind, lambda: doc.publish(title, markdown, state["ref"], created))
        except DocumentError as exc:
            self._failed(doc.kind, week, exc)
            return
        self._remember(subject, doc.target, ref)
        if known is None and ref.url:  # the link goes to the report channel once, when the document is new
            text = say(self.ctx.locale, "documents.link", what=say(self.ctx.locale, f"documents.kind.{doc.kind}"),
                       week=week, url=ref.url)
            try:
                self.ctx.chat.post_text(self.ctx.team.team.report_channel, text)
            except ChatError as exc:
                log.error("document link not posted", extra={"week": week, "reason": exc.reason})

    def _table(self, table: TableTarget, subject: str, week: str, rows: Sequence[TableRow]) -> None:
        def created(ids: Mapping[str, str]) -> None:
            with transaction(self.ctx.db) as s:
                PublishedDocuments(s).add_records(self.ctx.team_id, subject, table.target, ids)

        def attempt() -> None:  # read again each try: a batch created by a failed try is updated, not added
            with transaction(self.ctx.db) as s:
                known = PublishedDocuments(s).records(self.ctx.team_id, subject, table.target)
            table.write(rows, known, created)

        try:
            self._retrying(table.kind, attempt)
        except DocumentError as exc:
            self._failed(table.kind, week, exc)

    def _retrying(self, kind: str, fn: Callable[[], T]) -> T:
        # Imported by the first document written: a team without documents never loads tenacity.
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        def before_sleep(state: object) -> None:
            log.warning("document publish retried", extra={"kind": kind})

        retrying = Retrying(stop=stop_after_attempt(self.attempts),
                            wait=wait_exponential(multiplier=self.backoff, max=60.0),
                            retry=retry_if_exception(lambda e: isinstance(e, DocumentError) and e.retryable),
                            before_sleep=before_sleep, sleep=self.sleep, reraise=True)
        return retrying(fn)

    def _remember(self, subject: str, target: str, ref: DocumentRef) -> None:
        with transaction(self.ctx.db) as s:
            PublishedDocuments(s).save(self.ctx.team_id, subject, target, ref.document_id, ref.url, self.ctx.now())

    def _failed(self, kind: str, week: str, exc: DocumentError) -> None:
        log.error("document not published", extra={"kind": kind, "week": week, "reason": exc.reason})
        loc = self.ctx.locale
        message_editors(self.ctx, say(loc, "documents.failed", what=say(loc, f"documents.kind.{kind}"), week=week,
                                      method=exc.method or "?", reason=exc.reason), about="document failure notice")

    # ----- rows ------------------------------------------------------------------------------------------

    def _table_row(self, week: str, row: ReportRow) -> TableRow:
        loc = self.ctx.locale
        fields: dict[str, FieldValue] = {
            say(loc, "documents.column.week"): week,
            say(loc, "documents.column.kind"): say(loc, f"documents.row.{row.kind}"),
            say(loc, "documents.column.title"): row.title,
            say(loc, "documents.column.status"): _status(loc, row),
            say(loc, "documents.column.text"): row.text,
            say(loc, "documents.column.owner"): row.owner,
        }
        if row.progress is not None:
            fields[say(loc, "documents.column.progress")] = float(row.progress / Decimal(100))
        return TableRow(row.key, fields)


COLUMNS = ("week", "kind", "title", "status", "text", "progress", "owner")


def bitable_columns(locale: str) -> tuple[str, ...]:
    """The column names a table needs for the rows written in `locale` (`Progress` a number, the rest text)."""
    return tuple(say(locale, f"documents.column.{c}") for c in COLUMNS)


_STATUSES = frozenset({"answered", "not_updated", "away", "open", "overdue", "done"})


def _status(locale: str, row: ReportRow) -> str:
    """A status people read; a bank's stage and an incident's severity are shown as written."""
    return say(locale, f"documents.status.{row.status}") if row.status in _STATUSES else row.status
