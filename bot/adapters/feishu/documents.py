"""A published report as a Feishu document (docx v1) and as rows of a 多维表格 (bitable v1): translation only.

Shapes and limits, from the Open API reference and lark-oapi's models (`api/docx/v1/model/`,
`api/drive/v1/model/`, `api/bitable/v1/model/`):
- 创建文档 POST /open-apis/docx/v1/documents {folder_token, title} -> data.document.document_id
  (https://open.feishu.cn/document/ukTMukTMukTM/uUDN04SN0QjL1QDN/document-docx/docx-v1/document/create).
- Markdown 转换为文档块 POST /open-apis/docx/v1/documents/blocks/convert {content_type: markdown, content} ->
  data.first_level_block_ids, data.blocks (`convert_document_response_body.py`); a table block's
  `merge_info` is read-only and must be dropped before the blocks are inserted.
- 创建嵌套块 POST /open-apis/docx/v1/documents/:document_id/blocks/:block_id/descendant {children_id, index,
  descendants}: at most 1,000 blocks per call (document-block-descendant/create).
- 获取所有子块 GET …/blocks/:block_id/children and 删除块 DELETE …/blocks/:block_id/children/batch_delete
  {start_index, end_index}: a re-publish empties the document, then inserts the report again.
- Rate limits (创建块 / 删除块 pages, document-block-children/create and batch_delete): 3 calls a second per
  app ("HTTP 400 及错误码 99991400") and 3 edits a second per document (HTTP 429); `OpenApi` retries both, and
  `Pacer` keeps edits under them to begin with.
- 增加协作者权限 POST /open-apis/drive/v1/permissions/:token/members?type=docx {member_type: openid,
  member_id, perm} (lark-oapi `create_permission_member_request.py`, `base_member.py`).
- 获取文件元数据 POST /open-apis/drive/v1/metas/batch_query {request_docs: [{doc_token, doc_type}], with_url}
  -> data.metas[].url: the link posted with the report.
- 新增多条记录 POST /open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/batch_create {records:
  [{fields}]} -> data.records[].record_id in order, and 更新多条记录 …/records/batch_update {records:
  [{record_id, fields}]}: at most 1,000 records per call
  (https://open.feishu.cn/document/server-docs/docs/bitable-v1/app-table-record/batch_create); `client_token`
  (a uuid) makes a repeated create return the first one's records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from bot.adapters.feishu.api import RATE_LIMITED, FeishuApiError, Limits, OpenApi, Pacer
from bot.adapters.feishu.people import People
from bot.adapters.feishu.sdk import HttpMethod
from bot.domain.team import FeishuBitable, FeishuDocument, Team
from bot.services.documents import Destinations, DocumentError, DocumentRef, TableRow

MAX_DESCENDANTS = 1000  # blocks per 创建嵌套块 call
MAX_RECORDS = 1000  # records per batch_create / batch_update call
DOC_EDITS = Limits(per_app=3.0, per_chat=3.0, per_minute=180.0)  # 3/s per app, 3/s per document
DOC_NOT_FOUND = 1770002  # docx: "not found" (the document was deleted); our reading of the docx error codes
BITABLE_BUSY = 1254291  # bitable: a concurrent write to the same table ("Write conflict"); try again
_TOKEN_NAMESPACE = uuid.UUID("6f1b3c0e-2a4e-4e8a-9c55-7d0e5b1f6a21")


def _error(exc: FeishuApiError, uri: str) -> DocumentError:
    retryable = exc.code in (RATE_LIMITED, BITABLE_BUSY) or exc.status in (0, 429) or exc.status >= 500
    return DocumentError(f"feishu_{exc.code or exc.status}", str(exc), method=uri, retryable=retryable)


class FeishuDocumentTarget:
    """Each published report as one Feishu document in the team's folder, shared with the team's people."""

    kind = "feishu_doc"

    def __init__(self, api: OpenApi, people: People, team: Team, config: FeishuDocument,
                 pacer: Pacer | None = None) -> None:
        self.api, self.people, self.team, self.config = api, people, team, config
        self.target = f"feishu_doc:{config.folder_token}"
        self.pacer = pacer or Pacer(DOC_EDITS, api.clock, api.sleep)

    def _call(self, method: HttpMethod, uri: str, body: dict[str, Any] | None = None, *,
              paths: dict[str, str] | None = None, query: dict[str, str] | None = None,
              document: str | None = None, paced: bool = True) -> dict[str, Any]:
        if paced:  # the docx calls: 3/s for the app, and 3/s per document for edits
            self.pacer.wait(document)
        try:
            return self.api.call(method, uri, body, paths=paths, query=query)
        except FeishuApiError as exc:
            raise _error(exc, uri) from None
        except OSError as exc:
            raise DocumentError("connection_error", str(exc), method=uri, retryable=True) from None

    def publish(self, title: str, markdown: str, existing: DocumentRef | None,
                created: Callable[[DocumentRef], None]) -> DocumentRef:
        ref = existing
        if ref is not None and not self._clear(ref.document_id):
            ref = None  # deleted in Feishu: written again as a new document
        if ref is None:
            body = self._call(HttpMethod.POST, "/open-apis/docx/v1/documents",
                              {"folder_token": self.config.folder_token, "title": title})
            document_id = str(body["data"]["document"]["document_id"])
            created(DocumentRef(document_id))  # stored before anything else can fail: a retry edits this one
            ref = DocumentRef(document_id, self._url(document_id))
            created(ref)
        self._share(ref.document_id)
        self._insert(ref.document_id, markdown)
        return ref

    def _url(self, document_id: str) -> str | None:
        """The document's link; None when Feishu will not say (then no link is posted, the document is written)."""
        try:
            body = self._call(HttpMethod.POST, "/open-apis/drive/v1/metas/batch_query",
                              {"request_docs": [{"doc_token": document_id, "doc_type": "docx"}], "with_url": True})
        except DocumentError as exc:
            if exc.retryable:
                raise
            return None
        metas = (body.get("data") or {}).get("metas") or []
        return str(metas[0]["url"]) if metas and metas[0].get("url") else None

    def _share(self, document_id: str) -> None:
        """Every person of the team may open it (again on each publish: people join a team)."""
        try:
            self.people.resolve()
        except FeishuApiError as exc:
            raise _error(exc, "/open-apis/contact/v3/users/batch_get_id") from None
        for person in self.team.people:
            open_id = self.people.open_id(person)
            if open_id is None:
                continue
            self._call(HttpMethod.POST, "/open-apis/drive/v1/permissions/:token/members",
                       {"member_type": "openid", "member_id": open_id, "perm": self.config.share},
                       paths={"token": document_id}, query={"type": "docx", "need_notification": "false"},
                       paced=False)  # a drive call, not under docx's 3/s; a 429 is still waited out

    def _clear(self, document_id: str) -> bool:
        """Delete the document's content (its page block's children); False when the document is gone."""
        count, token = 0, ""
        while True:
            query = {"page_size": "500", **({"page_token": token} if token else {})}
            try:
                body = self._call(HttpMethod.GET, "/open-apis/docx/v1/documents/:document_id/blocks/:block_id/children",
                                  paths={"document_id": document_id, "block_id": document_id}, query=query)
            except DocumentError as exc:
                if exc.reason == f"feishu_{DOC_NOT_FOUND}":
                    return False
                raise
            data = body.get("data") or {}
            count += len(data.get("items") or [])
            token = str(data.get("page_token") or "")
            if not data.get("has_more") or not token:
                break
        if count:
            self._call(HttpMethod.DELETE,
                       "/open-apis/docx/v1/documents/:document_id/blocks/:block_id/children/batch_delete",
                       {"start_index": 0, "end_index": count},
                       paths={"document_id": document_id, "block_id": document_id},
                       query={"document_revision_id": "-1"}, document=document_id)
        return True

    def _insert(self, document_id: str, markdown: str) -> None:
        body = self._call(HttpMethod.POST, "/open-apis/docx/v1/documents/blocks/convert",
                          {"content_type": "markdown", "content": markdown})
        data = body.get("data") or {}
        blocks = {str(b["block_id"]): _insertable(b) for b in data.get("blocks") or []}
        index = 0
        for firsts, descendants in descendant_batches(list(data.get("first_level_block_ids") or []), blocks):
            self._call(HttpMethod.POST, "/open-apis/docx/v1/documents/:document_id/blocks/:block_id/descendant",
                       {"children_id": firsts, "index": index, "descendants": descendants},
                       paths={"document_id": document_id, "block_id": document_id},
                       query={"document_revision_id": "-1"}, document=document_id)
            index += len(firsts)


def _insertable(block: dict[str, Any]) -> dict[str, Any]:
    block = dict(block)
    table = block.get("table")
    if isinstance(table, dict) and isinstance(table.get("property"), dict):
        block["table"] = {**table, "property": {k: v for k, v in table["property"].items() if k != "merge_info"}}
    return block


def _subtree(block_id: str, blocks: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out, stack = [], [block_id]
    while stack:
        block = blocks.get(stack.pop())
        if block is None:
            continue
        out.append(block)
        stack.extend(reversed([str(c) for c in block.get("children") or []]))
    return out


def descendant_batches(firsts: Sequence[str], blocks: Mapping[str, dict[str, Any]],
                       limit: int = MAX_DESCENDANTS) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """The converted blocks in calls of at most `limit` blocks, each a run of whole first-level subtrees in
    document order. A single subtree over the limit cannot be split: DocumentError."""
    ids: list[str] = []
    batch: list[dict[str, Any]] = []
    for first in firsts:
        tree = _subtree(first, blocks)
        if len(tree) > limit:
            raise DocumentError("too_many_blocks", f"one block holds {len(tree)} blocks (at most {limit} a call)")
        if batch and len(batch) + len(tree) > limit:
            yield ids, batch
            ids, batch = [], []
        ids.append(first)
        batch.extend(tree)
    if ids:
        yield ids, batch


class FeishuBitableTarget:
    """The report's rows in one table of a 多维表格."""

    kind = "feishu_bitable"

    def __init__(self, api: OpenApi, config: FeishuBitable) -> None:
        self.api, self.config = api, config
        self.target = f"feishu_bitable:{config.app_token}/{config.table_id}"
        self._paths = {"app_token": config.app_token, "table_id": config.table_id}

    def _call(self, uri: str, body: dict[str, Any], query: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            return self.api.call(HttpMethod.POST, uri, body, paths=self._paths, query=query)
        except FeishuApiError as exc:
            raise _error(exc, uri) from None
        except OSError as exc:
            raise DocumentError("connection_error", str(exc), method=uri, retryable=True) from None

    def write(self, rows: Sequence[TableRow], known: Mapping[str, str],
              created: Callable[[Mapping[str, str]], None]) -> None:
        updates = [{"record_id": known[r.key], "fields": r.fields} for r in rows if r.key in known]
        for i in range(0, len(updates), MAX_RECORDS):
            self._call("/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/batch_update",
                       {"records": updates[i:i + MAX_RECORDS]})
        new = [r for r in rows if r.key not in known]
        for i in range(0, len(new), MAX_RECORDS):
            chunk = new[i:i + MAX_RECORDS]
            records = [{"fields": r.fields} for r in chunk]
            # The same chunk sent again (after an unknown outcome) carries the same token: no second rows.
            token = str(uuid.uuid5(_TOKEN_NAMESPACE, self.target + json.dumps(
                [[r.key, r.fields] for r in chunk], ensure_ascii=False, sort_keys=True)))
            body = self._call("/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/batch_create",
                              {"records": records}, query={"client_token": token})
            answered = (body.get("data") or {}).get("records") or []
            created({r.key: str(rec["record_id"]) for r, rec in zip(chunk, answered, strict=False)})


def destinations(api: OpenApi, people: People, team: Team) -> Destinations:
    """Where the team file says its reports go on Feishu (nothing unless `documents` sets it)."""
    docs = team.documents
    return Destinations(
        documents=(FeishuDocumentTarget(api, people, team, docs.feishu_doc),) if docs.feishu_doc else (),
        tables=(FeishuBitableTarget(api, docs.feishu_bitable),) if docs.feishu_bitable else ())
