"""The stand-in's documents: docx v1 (create, convert, descendant, children, batch_delete), drive (permission
members, metas) and bitable v1 (fields, records batch_create / batch_update), as `OpenApiStandIn` serves them.

Shapes are lark-oapi's request/response models (`api/docx/v1/model/`, `api/drive/v1/model/`,
`api/bitable/v1/model/`); limits and codes from the Open API pages cited beside each:
- 创建嵌套块: at most 1,000 blocks per call
  (https://open.feishu.cn/document/ukTMukTMukTM/uUDN04SN0QjL1QDN/document-docx/docx-v1/document-block-descendant/create);
  more is refused as 1770001 "invalid param" (docx's generic parameter error; the page names no code of its own).
- 新增多条记录 / 更新多条记录: at most 1,000 records
  (https://open.feishu.cn/document/server-docs/docs/bitable-v1/app-table-record/batch_create); more is 1254104
  (bitable's "batch size exceeded"), a column the table lacks 1254045 (FieldNameNotFound), an unknown record
  1254043 (RecordIdNotFound), from bitable's error code list.
- A permission the tenant did not grant: 99991672 "Access denied. One of the following scopes is required"
  (https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code). Each route names the
  permissions its page lists ("开启其中任意一项权限即可调用").
- Optional: 3 edits a second per document, over which the API answers HTTP 429 (创建块 / 删除块 pages,
  document-block-children/create and batch_delete). Off unless `edits_per_second` is set, since tests run the
  adapter's pacer without real sleeps.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

Answer = tuple[int, dict[str, Any], dict[str, str]]

DOCX = ("docx:document",)
CONVERT = ("docx:document.block:convert", "docx:document")
SHARE = ("docs:permission.member:create", "drive:drive")
METAS = ("drive:drive.metadata:readonly", "drive:drive:readonly", "drive:drive")
RECORD_CREATE = ("base:record:create", "bitable:app")
RECORD_UPDATE = ("base:record:update", "bitable:app")
FIELD_READ = ("base:field:read", "bitable:app:readonly", "bitable:app")
SCOPES = ("docx:document", "docx:document.block:convert", "docs:permission.member:create",
          "drive:drive.metadata:readonly", "bitable:app")

_HEADING = re.compile(r"^(#{1,9})\s+(.*)$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")


def _text(content: str) -> dict[str, Any]:
    return {"elements": [{"text_run": {"content": content}}], "style": {}}


@dataclass
class Document:
    document_id: str
    folder_token: str
    title: str
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)  # block id -> block (children: ids)
    top: list[str] = field(default_factory=list)  # the page block's children, in order
    members: dict[str, str] = field(default_factory=dict)  # open_id -> perm
    edits: deque[float] = field(default_factory=deque)

    def lines(self) -> list[str]:
        """Every block's text, in document order (what a reader sees, without styling)."""
        out: list[str] = []

        def walk(block_id: str) -> None:
            block = self.blocks[block_id]
            for value in block.values():
                if isinstance(value, dict) and "elements" in value:
                    out.append("".join(e.get("text_run", {}).get("content", "") for e in value["elements"]))
            for child in block.get("children") or []:
                walk(child)

        for b in self.top:
            walk(b)
        return out


@dataclass
class Table:
    columns: set[str]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # record id -> fields
    tokens: dict[str, list[str]] = field(default_factory=dict)  # client_token -> record ids it created


class FeishuDocs:
    def __init__(self, scopes: dict[str, int]) -> None:
        self.scopes = scopes  # the stand-in's grants (shared, so a test can revoke one)
        self.documents: dict[str, Document] = {}
        self.tables: dict[tuple[str, str], Table] = {}
        self.folders: set[str] = set()  # folders the app may create documents in
        self.edits_per_second: float | None = None
        self._n = 0

    # ----- control --------------------------------------------------------------------------------

    def add_table(self, app_token: str, table_id: str, columns: set[str]) -> Table:
        table = Table(set(columns))
        self.tables[(app_token, table_id)] = table
        return table

    def delete(self, document_id: str) -> None:
        """A person deletes the document in Feishu."""
        self.documents.pop(document_id, None)

    # ----- routes ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> Answer | None:
        """The answer to a documents call, or None when `path` is not one."""
        if method == "POST" and path == "/open-apis/docx/v1/documents":
            return self._granted(DOCX) or self._create(body)
        if method == "POST" and path == "/open-apis/docx/v1/documents/blocks/convert":
            return self._granted(CONVERT) or self._convert(body)
        if method == "POST" and path == "/open-apis/drive/v1/metas/batch_query":
            return self._granted(METAS) or self._metas(body)
        m = re.fullmatch(r"/open-apis/docx/v1/documents/([^/]+)/blocks/([^/]+)/(descendant|children|children/batch_delete)",
                         path)
        if m:
            doc = self.documents.get(m.group(1))
            refused = self._granted(DOCX)
            if refused:
                return refused
            if doc is None:
                return 404, {"code": 1770002, "msg": "not found"}, {}
            if m.group(2) != doc.document_id:
                return 400, {"code": 1770001, "msg": "invalid param: only the page block is used here"}, {}
            if method == "GET" and m.group(3) == "children":
                return 200, {"code": 0, "msg": "success", "data": {"items": [
                    {"block_id": b, "block_type": doc.blocks[b]["block_type"]} for b in doc.top], "has_more": False}}, {}
            limited = self._edit_limited(doc)
            if limited:
                return limited
            if method == "POST" and m.group(3) == "descendant":
                return self._descendant(doc, body)
            if method == "DELETE" and m.group(3) == "children/batch_delete":
                start, end = int(body["start_index"]), int(body["end_index"])
                if not 0 <= start < end <= len(doc.top):
                    return 400, {"code": 1770001, "msg": "invalid param: index out of range"}, {}
                del doc.top[start:end]
                return 200, {"code": 0, "msg": "success", "data": {"document_revision_id": 2}}, {}
        m = re.fullmatch(r"/open-apis/drive/v1/permissions/([^/]+)/members", path)
        if method == "POST" and m:
            refused = self._granted(SHARE)
            if refused:
                return refused
            doc = self.documents.get(m.group(1))
            if doc is None or query.get("type") != "docx":
                return 400, {"code": 1063002, "msg": "Permission denied or token not found"}, {}
            if body.get("member_type") != "openid" or body.get("perm") not in ("view", "edit", "full_access"):
                return 400, {"code": 1063001, "msg": "Invalid parameter"}, {}
            doc.members[str(body["member_id"])] = str(body["perm"])
            return 200, {"code": 0, "msg": "success", "data": {"member": body}}, {}
        m = re.fullmatch(r"/open-apis/bitable/v1/apps/([^/]+)/tables/([^/]+)/(fields|records/batch_create|"
                         r"records/batch_update)", path)
        if m:
            table = self.tables.get((m.group(1), m.group(2)))
            scopes = {"fields": FIELD_READ, "records/batch_create": RECORD_CREATE,
                      "records/batch_update": RECORD_UPDATE}[m.group(3)]
            refused = self._granted(scopes)
            if refused:
                return refused
            if table is None:
                return 404, {"code": 1254040, "msg": "AppTokenNotFound or TableIdNotFound"}, {}
            if method == "GET" and m.group(3) == "fields":
                return 200, {"code": 0, "msg": "success", "data": {"items": [
                    {"field_name": c, "field_id": f"fld{i}", "type": 1} for i, c in enumerate(sorted(table.columns))],
                    "has_more": False, "total": len(table.columns)}}, {}
            if method == "POST":
                return self._records(table, m.group(3), query, body)
        return None

    # ----- docx ---------------------------------------------------------------------------------------

    def _granted(self, any_of: tuple[str, ...]) -> Answer | None:
        if any(self.scopes.get(s) == 1 for s in any_of):
            return None
        return 400, {"code": 99991672, "msg": "Access denied. One of the following scopes is required: "
                                              f"[{', '.join(any_of)}]"}, {}

    def _create(self, body: dict[str, Any]) -> Answer:
        folder = str(body.get("folder_token") or "")
        if folder not in self.folders:  # the folder is not shared with the app
            return 403, {"code": 1770032, "msg": "forBidden"}, {}
        self._n += 1
        doc = Document(f"doxcn{self._n:06d}", folder, str(body.get("title") or ""))
        self.documents[doc.document_id] = doc
        return 200, {"code": 0, "msg": "success", "data": {"document": {
            "document_id": doc.document_id, "revision_id": 1, "title": doc.title}}}, {}

    def _metas(self, body: dict[str, Any]) -> Answer:
        metas = [{"doc_token": d["doc_token"], "doc_type": d["doc_type"], "title": self.documents[d["doc_token"]].title,
                  "url": f"https://example.feishu.cn/docx/{d['doc_token']}"}
                 for d in body.get("request_docs") or [] if d.get("doc_token") in self.documents]
        return 200, {"code": 0, "msg": "success", "data": {"metas": metas}}, {}

    def _convert(self, body: dict[str, Any]) -> Answer:
        """Markdown into blocks, as the converter answers (`first_level_block_ids`, `blocks` with temporary ids
        and `children`): headings (block_type 3…11), bullets (12) nested by indentation, text (2)."""
        if body.get("content_type") != "markdown":
            return 400, {"code": 1770001, "msg": "invalid param: content_type"}, {}
        blocks: list[dict[str, Any]] = []
        firsts: list[str] = []
        stack: list[tuple[int, dict[str, Any]]] = []  # open bullets: (indent, block)
        for n, line in enumerate(str(body.get("content") or "").split("\n")):
            if not line.strip():
                stack.clear()
                continue
            bid = f"tmp_{n}"
            if h := _HEADING.match(line):
                level = len(h.group(1))
                block = {"block_id": bid, "block_type": 2 + level, f"heading{level}": _text(h.group(2).strip())}
                stack.clear()
            elif b := _BULLET.match(line):
                indent = len(b.group(1))
                block = {"block_id": bid, "block_type": 12, "bullet": _text(b.group(2).rstrip())}
                while stack and stack[-1][0] >= indent:
                    stack.pop()
                if stack:
                    stack[-1][1].setdefault("children", []).append(bid)
                    block["parent_id"] = stack[-1][1]["block_id"]
                    blocks.append(block)
                    stack.append((indent, block))
                    continue
                stack.append((indent, block))
            else:
                block = {"block_id": bid, "block_type": 2, "text": _text(line.strip())}
            blocks.append(block)
            firsts.append(bid)
        return 200, {"code": 0, "msg": "success", "data": {"first_level_block_ids": firsts, "blocks": blocks,
                                                          "block_id_to_image_urls": []}}, {}

    def _descendant(self, doc: Document, body: dict[str, Any]) -> Answer:
        descendants = body.get("descendants") or []
        firsts = [str(c) for c in body.get("children_id") or []]
        if not firsts or len(descendants) > 1000:
            return 400, {"code": 1770001, "msg": f"invalid param: {len(descendants)} descendants (at most 1000)"}, {}
        by_id = {str(b["block_id"]): b for b in descendants}
        referenced = set(firsts) | {c for b in descendants for c in b.get("children") or []}
        if set(by_id) != referenced:
            return 400, {"code": 1770001, "msg": "invalid param: descendants and children_id differ"}, {}
        index = int(body.get("index", len(doc.top)))
        if not 0 <= index <= len(doc.top):
            return 400, {"code": 1770001, "msg": "invalid param: index"}, {}
        relations = []
        for temp in by_id:
            self._n += 1
            real = f"doxcnblk{self._n}"
            relations.append({"temporary_block_id": temp, "block_id": real})
        real_of = {r["temporary_block_id"]: r["block_id"] for r in relations}
        for temp, block in by_id.items():
            kept = {k: v for k, v in block.items() if k not in ("block_id", "parent_id", "children")}
            doc.blocks[real_of[temp]] = {**kept, "block_id": real_of[temp],
                                         "children": [real_of[c] for c in block.get("children") or []]}
        doc.top[index:index] = [real_of[f] for f in firsts]
        return 200, {"code": 0, "msg": "success", "data": {"document_revision_id": 2,
                                                          "block_id_relations": relations}}, {}

    def _edit_limited(self, doc: Document) -> Answer | None:
        if self.edits_per_second is None:
            return None
        now = time.monotonic()
        while doc.edits and doc.edits[0] <= now - 1.0:
            doc.edits.popleft()
        if len(doc.edits) >= self.edits_per_second:
            return 429, {"code": 99991400, "msg": "request trigger frequency limit"}, {}
        doc.edits.append(now)
        return None

    # ----- bitable --------------------------------------------------------------------------------------

    def _records(self, table: Table, what: str, query: dict[str, str], body: dict[str, Any]) -> Answer:
        records = body.get("records") or []
        if not records or len(records) > 1000:
            return 400, {"code": 1254104, "msg": f"batch size {len(records)} exceeds 1000"}, {}
        for r in records:
            lost = set(r.get("fields") or {}) - table.columns
            if lost:
                return 400, {"code": 1254045, "msg": f"FieldNameNotFound: {', '.join(sorted(lost))}"}, {}
        if what == "records/batch_update":
            if any(r.get("record_id") not in table.records for r in records):
                return 400, {"code": 1254043, "msg": "RecordIdNotFound"}, {}
            for r in records:
                table.records[r["record_id"]] = dict(r["fields"])
            return 200, {"code": 0, "msg": "success", "data": {"records": records}}, {}
        token = query.get("client_token")
        if token and token in table.tokens:  # the same create again: the first one's records
            ids = table.tokens[token]
        else:
            ids = []
            for r in records:
                self._n += 1
                rid = f"rec{self._n:08d}"
                table.records[rid] = dict(r["fields"])
                ids.append(rid)
            if token:
                table.tokens[token] = ids
        return 200, {"code": 0, "msg": "success", "data": {"records": [
            {"record_id": rid, "fields": table.records[rid]} for rid in ids]}}, {}
