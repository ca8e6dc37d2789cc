"""A published report as a Feishu document and 多维表格 rows, against the stand-in (tests/feishu/docs_api.py):
written after the chat post, edited in place on a re-publish, rate limits retried, a failure told to the
editors while the report is still in the chat, and doctor naming a permission the app lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.adapters.feishu.doctor import check
from bot.adapters.feishu.documents import descendant_batches
from bot.domain.report_rows import report_rows
from bot.domain.team import Documents, FeishuBitable, FeishuDocument, Team
from bot.domain.weeks import IsoWeek
from bot.runtime.team_file import load_team
from bot.services.documents import bitable_columns
from tests.conftest import EXAMPLE_TEAM, PATIENCE
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, feishu_settings, open_id_of
from tests.feishu.docs_api import Document, Table

WEEK = IsoWeek.parse("2024-W26")
FOLDER, APP, TABLE = "fldcnWeeklyReports", "bascnPayments", "tblWeekly"
DESCENDANT = r"/blocks/[^/]+/descendant$"
EXAMPLES = Path(__file__).parent / "examples" / "documents"


@pytest.fixture
def team() -> Team:
    return load_team(EXAMPLE_TEAM).model_copy(update={"documents": Documents(
        feishu_doc=FeishuDocument(folder_token=FOLDER), feishu_bitable=FeishuBitable(app_token=APP, table_id=TABLE))})


@pytest.fixture
def table(world: World) -> Table:
    world.standin.docs.folders.add(FOLDER)
    return world.standin.docs.add_table(APP, TABLE, set(bitable_columns("zh-CN")))


def _publish(world: World) -> None:
    world.bot.cycle.publish(WEEK, world.clock.now)
    _settle(world)


def _settle(world: World) -> None:
    world.settle()
    assert world.bot.cycle.documents is not None and world.bot.cycle.documents.wait_idle(PATIENCE)
    world.settle()  # what the documents' publish sent (a link, a note to the editors)


def _only_document(world: World) -> Document:
    docs = list(world.standin.docs.documents.values())
    assert len(docs) == 1, [d.title for d in docs]
    return docs[0]


def _texts(world: World, to: str) -> list[str]:
    return [str(m.content.get("text", "")) for m in world.standin.sent(to=to, msg_type="text")]


def test_a_publish_writes_the_document_shared_with_the_team_and_one_row_per_item(world: World, table: Table) -> None:
    _publish(world)
    doc = _only_document(world)
    assert doc.folder_token == FOLDER and "2024-W26" in doc.title
    lines = doc.lines()
    assert lines[0] == "2024-W26" and "【聚合收单】" in lines and any(line.startswith("建行") for line in lines)
    assert doc.members == {open_id_of(p.id): "view" for p in world.team.people}
    # the link goes to the report chat, after the report itself
    link = [t for t in _texts(world, CHANNEL) if f"https://example.feishu.cn/docx/{doc.document_id}" in t]
    assert len(link) == 1 and len(world.standin.sent(to=CHANNEL, msg_type="interactive")) >= 1
    report = world.bot.week_report.compile(WEEK, world.clock.now)
    rows = list(table.records.values())
    assert len(rows) == len(report_rows(report))
    bank = [r for r in rows if r["条目"] == "聚合收单 · 银行 · 建行"]
    assert len(bank) == 1 and bank[0]["周"] == "2024-W26" and bank[0]["类别"] == "银行"


def test_a_republish_edits_the_same_document_and_rows(world: World, table: Table) -> None:
    _publish(world)
    doc = _only_document(world)
    records = dict(table.records)
    world.post(payloads.message(open_id_of("zhaolei"), "跨境收款：二期多币种结算方案评审通过", world.clock.now))
    _settle(world)  # the late answer edits the post, then the document and the rows
    assert _only_document(world) is doc
    assert any("二期多币种结算方案评审通过" in line for line in doc.lines())
    assert sum("二期多币种结算方案评审通过" in line for line in doc.lines()) == 1  # emptied, then written again
    assert table.records.keys() == records.keys()  # updated in place: no second row
    row = next(r for r in table.records.values() if r["条目"].endswith("跨境收款"))
    assert "二期多币种结算方案评审通过" in row["内容"] and row["状态"] == "已更新"
    assert len(world.standin.calls_to("POST", r"^/open-apis/docx/v1/documents$")) == 1
    assert sum("example.feishu.cn/docx" in t for t in _texts(world, CHANNEL)) == 1  # the link once


def test_a_rate_limited_insert_is_retried(world: World, table: Table) -> None:
    """创建嵌套块 over 3 edits a second per document: HTTP 429 (document-block-children/create); the API client
    waits as long as x-ogw-ratelimit-reset says and sends it again."""
    world.standin.fail("POST", DESCENDANT, status=429, code=99991400, headers={"x-ogw-ratelimit-reset": "1"}, times=2)
    _publish(world)
    doc = _only_document(world)
    assert doc.lines()[0] == "2024-W26"
    assert [c.status for c in world.standin.calls_to("POST", DESCENDANT)] == [429, 429, 200]
    assert 1.0 in world.sleeps  # waited as Feishu said


def test_a_failure_after_the_document_exists_is_retried_into_the_same_document(world: World, table: Table) -> None:
    world.standin.fail("POST", DESCENDANT, status=500, code=0, times=1)  # a POST is not repeated by the client
    _publish(world)
    doc = _only_document(world)
    assert doc.lines()[0] == "2024-W26" and doc.lines().count("2024-W26") == 1


def test_a_failed_document_still_posts_the_report_and_tells_the_editors(world: World, table: Table) -> None:
    world.standin.docs.folders.clear()  # the folder is not shared with the app: 1770032 forBidden
    _publish(world)
    assert world.standin.docs.documents == {}
    assert len(world.standin.sent(to=CHANNEL, msg_type="interactive")) >= 1  # the report is in the chat
    for editor in world.team.editors:
        told = [t for t in _texts(world, open_id_of(editor)) if "飞书文档没有写成" in t]
        assert len(told) == 1 and "feishu_1770032" in told[0], _texts(world, open_id_of(editor))
    assert len(table.records) == len(report_rows(world.bot.week_report.compile(WEEK, world.clock.now)))


def test_doctor_names_a_missing_document_permission_and_a_missing_column(world: World, table: Table,
                                                                         tmp_path: Path, database_url: str) -> None:
    world.standin.scopes["docx:document"] = 2  # not granted
    table.columns.discard("进度")
    lines = check(feishu_settings(world.standin, database_url, tmp_path), world.team)
    failed = [text for ok, text in lines if not ok]
    assert any("docx:document" in t and "create and edit a docx" in t for t in failed), failed
    assert any("missing columns 进度" in t for t in failed), failed


def test_descendant_batches_keep_whole_subtrees_within_1000_blocks() -> None:
    blocks = {f"b{i}": {"block_id": f"b{i}", "children": [f"c{i}_{j}" for j in range(299)]} for i in range(4)}
    blocks |= {f"c{i}_{j}": {"block_id": f"c{i}_{j}"} for i in range(4) for j in range(299)}
    batches = list(descendant_batches([f"b{i}" for i in range(4)], blocks))
    assert [ids for ids, _ in batches] == [["b0", "b1", "b2"], ["b3"]]
    assert [len(d) for _, d in batches] == [900, 300]


def test_the_converter_example_from_the_docs_inserts_as_sent() -> None:
    """A convert answer as the documentation shows it (examples/docs_convert_markdown.json) goes into one
    descendant call with its first-level ids and every block."""
    body = json.loads((EXAMPLES / "docs_convert_markdown.json").read_text(encoding="utf-8"))["data"]
    blocks = {b["block_id"]: b for b in body["blocks"]}
    [(ids, descendants)] = list(descendant_batches(body["first_level_block_ids"], blocks))
    assert ids == body["first_level_block_ids"] and len(descendants) == len(body["blocks"])
