"""An OpenAI-compatible model server on a loopback port: `/v1/models` and `/v1/chat/completions` (streaming
off), served by uvicorn in a thread, so tests drive the real `openai` client over HTTP.

Shapes, from the client's own types (.venv/lib/python3.11/site-packages/openai/types/): a model list is
`{"object": "list", "data": [Model]}` with Model `{id, created, object: "model", owned_by}`
(types/model.py); a completion is `{id, object: "chat.completion", created, model, choices: [{index,
message: {role: "assistant", content}, finish_reason: "stop"}], usage: {prompt_tokens, completion_tokens,
total_tokens}}` (types/chat/chat_completion.py, types/completion_usage.py); an error body is
`{"error": {"message", "type", "code"}}`, which the client raises as APIStatusError by status
(openai/_client.py `_make_status_error`). Ollama, vLLM and llama-server answer the same paths under `/v1`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.web.live import LiveServer

Answer = Callable[[dict[str, Any]], str]  # the request body -> the assistant's content


@dataclass
class ModelStandIn:
    """Answers with `answer(body)`; `mode` makes it fail: "500", "not_json" (prose content), "bad_body" (HTTP
    200 that is not JSON at all) or "hang" (no answer until the test ends: the client's timeout fires)."""

    models: tuple[str, ...] = ("qwen2.5:7b",)
    answer: Answer = field(default=lambda body: '{"lines": []}')
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    listed: int = 0
    _release: threading.Event = field(default_factory=threading.Event)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/models", self._models), Route("/v1/chat/completions", self._chat,
                                                                         methods=["POST"])])

    async def _models(self, request: Request) -> Response:
        self.listed += 1
        return JSONResponse({"object": "list", "data": [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "library"} for m in self.models]})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if body.get("stream"):
            return _error(400, "streaming is not served here")
        if body.get("model") not in self.models:
            return _error(404, f"model '{body.get('model')}' not found")
        if self.mode == "hang":
            await anyio.to_thread.run_sync(self._release.wait)
            return _error(504, "released")
        if self.mode == "500":
            return _error(500, "internal error")
        if self.mode == "bad_body":
            return PlainTextResponse("<html>bad gateway</html>", status_code=200, media_type="text/html")
        content = "Here are the key points: the week went well." if self.mode == "not_json" else self.answer(body)
        prompt = sum(len(m["content"]) for m in body["messages"])
        return JSONResponse({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 1_700_000_000,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": len(content), "total_tokens": prompt + len(content)},
        })

    def facts(self, n: int = -1) -> dict[str, Any]:
        """The week's facts the n-th request carried (its user message, parsed)."""
        return json.loads(self.requests[n]["messages"][1]["content"])

    def release(self) -> None:
        self._release.set()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": None}},
                        status_code=status)


class ServedModel:
    """The stand-in served on 127.0.0.1; `base_url` ends in /v1 like Ollama's and vLLM's."""

    def __init__(self, stand_in: ModelStandIn) -> None:
        self.stand_in = stand_in
        self._live = LiveServer(stand_in.app())
        self.base_url = f"{self._live.url}/v1"

    def __enter__(self) -> ServedModel:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stand_in.release()
        self._live.__exit__(*exc)
