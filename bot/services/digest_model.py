"""The model that writes the week's key points, behind a small port, and its one implementation: the official
`openai` client pointed at any OpenAI-compatible server (Ollama, vLLM, llama.cpp's llama-server, DeepSeek,
Qwen on 百炼 compatible-mode) by `base_url`.

`openai` is imported inside the calls: the console and `--help` never load it (tests/test_light_start.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

log = logging.getLogger("zhoubao.digest")

# Low: the key points restate facts; a model asked for variety invents them. JSON mode is the documented
# `response_format={"type": "json_object"}` of the chat completions API, which Ollama, vLLM, llama-server,
# DeepSeek and 百炼 compatible-mode accept; the answer is parsed and checked either way.
PARAMS: dict[str, Any] = {"temperature": 0.2, "response_format": {"type": "json_object"}, "stream": False}


@dataclass(frozen=True)
class ModelAnswer:
    content: str | None
    tokens_in: int | None
    tokens_out: int | None
    duration_ms: int


class ModelError(Exception):
    """The model did not answer. `kind` is timeout, http, unreachable or error; `detail` the seconds, the
    status, the host or the client's error name."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


class DigestModel(Protocol):
    """Where the week's facts go, and the one call made with them."""

    @property
    def host(self) -> str:
        """The host the text is sent to (what doctor, --dry-run and the logs name)."""
        ...

    @property
    def model(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    def complete(self, messages: list[dict[str, str]], params: dict[str, Any]) -> ModelAnswer:
        """The model's answer to `messages`; ModelError when there is none within the timeout."""
        ...

    def models(self) -> list[str]:
        """The ids the server lists at `/models`; ModelError when it does not answer."""
        ...


def host_of(base_url: str) -> str:
    """`api.deepseek.com`, `localhost:11434`: the part of a base URL that says where data goes."""
    return urlsplit(base_url).netloc or base_url


class OpenAIChatModel:
    """The chat completions API through the official client. No retries: a slow or failing server costs at
    most one timeout, at reminder time, and the report is posted without a digest."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float) -> None:
        self._base_url, self._model, self._key, self._timeout = base_url, model, api_key, timeout

    @property
    def host(self) -> str:
        return host_of(self._base_url)

    @property
    def model(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        return self._base_url

    def _client(self) -> Any:
        import openai

        # The client refuses to start without a key; a local server that checks none accepts any.
        return openai.OpenAI(base_url=self._base_url, api_key=self._key or "not-needed", timeout=self._timeout,
                             max_retries=0)

    def complete(self, messages: list[dict[str, str]], params: dict[str, Any]) -> ModelAnswer:
        import openai

        started = time.monotonic()
        try:
            response = self._client().chat.completions.create(model=self._model, messages=messages, **params)
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        duration = int((time.monotonic() - started) * 1000)
        usage = getattr(response, "usage", None)
        choices = getattr(response, "choices", None) or []
        content = choices[0].message.content if choices else None
        answer = ModelAnswer(content, getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None),
                             duration)
        # Host, model, tokens and time; never the text sent or received.
        log.info("digest model call", extra={"host": self.host, "model": self._model, "tokens_in": answer.tokens_in,
                                             "tokens_out": answer.tokens_out, "duration_ms": duration})
        return answer

    def _error(self, exc: Exception) -> ModelError:
        import openai

        # APITimeoutError is an APIConnectionError: test it first.
        if isinstance(exc, openai.APITimeoutError):
            return ModelError("timeout", f"{self._timeout:g}")
        if isinstance(exc, openai.APIStatusError):
            return ModelError("http", str(exc.status_code))
        if isinstance(exc, openai.APIConnectionError):
            return ModelError("unreachable", self.host)
        return ModelError("error", type(exc).__name__)  # e.g. a body that is not the API's JSON at all

    def models(self) -> list[str]:
        import openai

        try:
            return [m.id for m in self._client().models.list()]
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
