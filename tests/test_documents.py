"""The document publisher on its own, with fake destinations (the platform stand-ins are in
tests/feishu/test_documents.py and tests/slack/test_canvas.py): retries that may pass, editors told once when
they do not, rows created by a failed try updated rather than added again, and a queue of publishes of one
week written once, with its newest content."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.report_rows import report_rows
from bot.domain.weeks import IsoWeek
from bot.services.documents import (
    Destinations,
    DocumentError,
    DocumentPublisher,
    DocumentRef,
    TableRow,
)
from bot.services.outbox import Outbox
from bot.services.week_report import WeekReport
from storage.db import transaction
from storage.documents import PublishedDocuments
from tests.conftest import PATIENCE
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot

WEEK = IsoWeek.parse("2024-W26")


@dataclass
class FakeDocument:
    kind: str = "feishu_doc"
    target: str = "feishu_doc:fld"
    fail: list[DocumentError] = field(default_factory=list)  # raised by the next calls, in order
    gate: threading.Event | None = None  # the first call waits for it
    entered: threading.Event = field(default_factory=threading.Event)  # set once a call is in progress
    written: list[tuple[str | None, str]] = field(default_factory=list)  # (document id edited or None, markdown)
    made: int = 0

    def publish(self, title: str, markdown: str, existing: DocumentRef | None,
                created: Callable[[DocumentRef], None]) -> DocumentRef:
        self.entered.set()
        if self.gate is not None:
            gate, self.gate = self.gate, None
            gate.wait(PATIENCE)
        ref = existing
        if ref is None:
            self.made += 1
            ref = DocumentRef(f"doc{self.made}", f"https://docs.example/doc{self.made}")
            created(ref)
        if self.fail:
            raise self.fail.pop(0)
        self.written.append((existing.document_id if existing else None, markdown))
        return ref


@dataclass
class FakeTable:
    kind: str = "feishu_bitable"
    target: str = "feishu_bitable:app/tbl"
    fail_after_first_batch: int = 0  # times a write creates its first batch, then fails
    records: dict[str, dict[str, object]] = field(default_factory=dict)
    n: int = 0

    def write(self, rows: Sequence[TableRow], known: Mapping[str, str],
              created: Callable[[Mapping[str, str]], None]) -> None:
        for r in rows:
            if r.key in known:
                self.records[known[r.key]] = r.fields
        new = [r for r in rows if r.key not in known]
        for i in range(0, len(new), 3):  # batches of three
            ids = {}
            for r in new[i:i + 3]:
                self.n += 1
                self.records[f"rec{self.n}"] = r.fields
                ids[r.key] = f"rec{self.n}"
            created(ids)
            if self.fail_after_first_batch:
                self.fail_after_first_batch -= 1
                raise DocumentError("feishu_1254291", "write conflict", method="batch_create", retryable=True)


def _setup(database_url: str, chat: FakeChat, clock: FixedClock, *, doc: FakeDocument | None = None,
           table: FakeTable | None = None, outbox: Outbox | None = None) -> tuple[DocumentPublisher, list[float]]:
    bot = make_bot(database_url, chat, clock)
    sleeps: list[float] = []
    publisher = DocumentPublisher(bot.ctx, Destinations(documents=(doc,) if doc else (), tables=(table,) if table else ()),
                                  outbox=outbox, sleep=sleeps.append)
    return publisher, sleeps


def _report(publisher: DocumentPublisher, markdown: str = "# 2024-W26") -> None:
    """What the cycle does after a post: the report compiled from what is stored, and its Markdown."""
    publisher.report_published(WEEK.label, WeekReport(publisher.ctx).compile(WEEK, publisher.ctx.now()), markdown)


def _editor_notes(chat: FakeChat) -> list[str]:
    return [s.text for s in chat.of_kind("text") if "没有写成" in s.text]


def test_a_failure_that_may_pass_is_tried_again_into_the_same_document(database_url, chat, clock) -> None:
    doc = FakeDocument(fail=[DocumentError("feishu_500", method="descendant", retryable=True)] * 2)
    publisher, sleeps = _setup(database_url, chat, clock, doc=doc)
    _report(publisher)
    assert doc.made == 1 and doc.written == [("doc1", "# 2024-W26")]  # the retry wrote into doc1
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0]  # backing off
    assert _editor_notes(chat) == []
    assert [s.text for s in chat.of_kind("post")] == ["📄 2024-W26 周报的飞书文档：https://docs.example/doc1"]


def test_a_failure_that_will_not_pass_tells_each_editor_once(database_url, chat, clock) -> None:
    doc = FakeDocument(fail=[DocumentError("feishu_1770032", "forBidden", method="docx/v1/documents")])
    publisher, sleeps = _setup(database_url, chat, clock, doc=doc)
    _report(publisher)
    notes = _editor_notes(chat)
    assert sleeps == [] and len(notes) == len(publisher.ctx.team.editors)
    assert "feishu_1770032" in notes[0] and "docx/v1/documents" in notes[0]
    assert chat.of_kind("post") == []  # no link to a document that was not written
    with transaction(publisher.ctx.db) as s:  # but the created document is remembered: no second one next time
        row = PublishedDocuments(s).get(publisher.ctx.team_id, "week:2024-W26", doc.target)
        assert row is not None and row.document_id == "doc1"
    _report(publisher, "# again")
    assert doc.made == 1 and doc.written == [("doc1", "# again")]


def test_rows_created_before_a_failure_are_updated_not_added_again(database_url, chat, clock) -> None:
    table = FakeTable(fail_after_first_batch=1)
    publisher, _ = _setup(database_url, chat, clock, table=table)
    _report(publisher)
    expected = len(report_rows(WeekReport(publisher.ctx).compile(WEEK, publisher.ctx.now())))
    assert expected > 3 and len(table.records) == expected  # the first batch of three was not added twice
    _report(publisher)
    assert len(table.records) == expected  # a re-publish updates every row in place


def test_publishes_queued_behind_a_slow_one_are_written_once_with_the_newest(database_url, chat, clock) -> None:
    gate = threading.Event()
    doc = FakeDocument(gate=gate)
    outbox = Outbox(max_channels=1)
    publisher, _ = _setup(database_url, chat, clock, doc=doc, outbox=outbox)
    _report(publisher, "# first")
    assert doc.entered.wait(PATIENCE)  # the first is being written (and waits) while the others queue
    _report(publisher, "# second")
    _report(publisher, "# third")
    gate.set()
    assert publisher.wait_idle(PATIENCE)
    assert [m for _, m in doc.written] == ["# first", "# third"]
    outbox.stop()
