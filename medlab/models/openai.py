"""OpenAI-compatible HTTP servers (vLLM, SGLang, llama.cpp, DashScope, ``medlab serve``) behind
the ``Backend`` protocol.

Requests go out with ``httpx`` (async): at most ``concurrency`` in flight (a semaphore), streamed
as server-sent events so the time to the first content token is measured, retried with
exponential backoff on 429, 5xx, connection errors and timeouts (``max_retries`` times, then an
``OpenAIBackendError``). A JSON Schema becomes ``response_format`` ``json_schema`` (strict).
``generate`` is synchronous and also works inside Jupyter: when an event loop is already running,
the requests run on their own loop in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from medlab.types import Completion, Conversation, GenerationParams, Message, as_conversation

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


class OpenAIBackendError(RuntimeError):
    """A request that failed for good: a 4xx answer, or retries used up."""


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate: one token per CJK character, one per ~4 other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + -(-(len(text) - cjk) // 4)


class OpenAIBackend:
    """A model served over ``/v1/chat/completions``.

    ``base_url`` ends in ``/v1`` (added when missing). ``model_name`` defaults to the first model
    the server lists. ``tokenizer`` (a transformers tokenizer with a chat template) makes
    ``count_tokens`` exact; without it the count is approximate. ``transport`` is passed to
    ``httpx.AsyncClient`` (tests, custom proxies).
    """

    def __init__(
        self,
        base_url: str,
        model_name: str | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout_s: float = 120,
        max_retries: int = 3,
        name: str | None = None,
        tokenizer: Any = None,
        context_length: int | None = None,
        backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        base = base_url.rstrip("/")
        self.base_url = base if base.endswith("/v1") else base + "/v1"
        self.api_key = (
            api_key or os.environ.get("MEDLAB_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        )
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.tokenizer = tokenizer
        self._transport = transport
        self.retries = 0  # requests retried since creation (all calls together)
        served = self._list_models(required=model_name is None)
        if model_name is None:
            if not served:
                raise OpenAIBackendError(f"{self.base_url}/models lists no model: pass model_name")
            model_name = served[0]["id"]
        self.model_name = model_name
        entry = next((m for m in served if m.get("id") == model_name), {})
        self.server_info = {k: v for k, v in entry.items() if k != "created"}
        self.context_length = int(
            context_length or entry.get("max_model_len") or entry.get("context_length") or 32768
        )
        self.name = name or f"openai:{self.base_url}#{model_name}"
        described = json.dumps(
            {"url": self.base_url, "model": model_name, "server": self.server_info}, sort_keys=True
        )
        self.fingerprint = hashlib.sha256(described.encode()).hexdigest()[:16]

    # --- protocol --------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _list_models(self, required: bool) -> list[dict[str, Any]]:
        try:
            return self._run(self._alist_models())
        except (httpx.HTTPError, ValueError) as e:
            if required:
                raise OpenAIBackendError(
                    f"cannot list models at {self.base_url}/models: {e}"
                ) from e
            return []

    async def _alist_models(self) -> list[dict[str, Any]]:
        async with self._client() as client:
            r = await client.get("/models", timeout=min(10.0, self.timeout_s))
            r.raise_for_status()
            return list(r.json().get("data") or [])

    def render(self, conversation: Conversation | list[dict[str, Any]]) -> str:
        if self.tokenizer is not None and getattr(self.tokenizer, "chat_template", None):
            messages = [m.to_dict() for m in as_conversation(conversation)]
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False
            )
        parts = [
            f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in as_conversation(conversation)
        ]
        return "".join(parts) + "<|im_start|>assistant\n"

    def count_tokens(self, conversation: Conversation | list[dict[str, Any]]) -> int:
        """Exact with a tokenizer, else approximate (ChatML framing + ``approx_tokens``)."""
        text = self.render(conversation)
        if self.tokenizer is not None:
            return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return approx_tokens(text)

    def info(self) -> dict[str, Any]:
        return {
            "backend": "openai",
            "name": self.name,
            "base_url": self.base_url,
            "model_name": self.model_name,
            "fingerprint": self.fingerprint,
            "context_length": self.context_length,
            "concurrency": self.concurrency,
            "server": self.server_info,
        }

    def generate(
        self,
        conversations: list[Conversation] | list[list[Message]] | list[list[dict[str, Any]]],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """Answer every conversation (at most ``concurrency`` requests in flight)."""
        return self._run(self.agenerate(conversations, params, schema))

    @staticmethod
    def _run(coro: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        with ThreadPoolExecutor(1) as pool:  # inside Jupyter / another event loop
            return pool.submit(asyncio.run, coro).result()

    # --- async core ------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers(),
            timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
            limits=limits,
            transport=self._transport,
        )

    async def agenerate(
        self,
        conversations: list[Conversation] | list[list[Message]] | list[list[dict[str, Any]]],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        params = params or GenerationParams()
        sem = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:
            tasks = [
                self._request(client, sem, as_conversation(c), params, schema)
                for c in conversations
            ]
            return list(await asyncio.gather(*tasks))

    def payload(
        self, conversation: Conversation, params: GenerationParams, schema: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The request body for one conversation."""
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [m.to_dict() for m in conversation],
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_new_tokens,
            "seed": params.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.repetition_penalty != 1.0:
            body["repetition_penalty"] = params.repetition_penalty  # vLLM / SGLang extension
        if schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": str(schema.get("title") or "answer")[:64],
                    "schema": schema,
                    "strict": True,
                },
            }
        return body

    async def _request(
        self,
        client: httpx.AsyncClient,
        sem: asyncio.Semaphore,
        conversation: Conversation,
        params: GenerationParams,
        schema: dict[str, Any] | None,
    ) -> Completion:
        body = self.payload(conversation, params, schema)
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                async with sem:
                    return await self._stream(client, body, conversation)
            except _Retryable as e:
                error: Exception = e
                retry_after = e.retry_after
            except (httpx.TransportError, httpx.TimeoutException) as e:
                error = e
            if attempt == self.max_retries:
                raise OpenAIBackendError(
                    f"{self.base_url}/chat/completions failed after {attempt + 1} attempts: {error}"
                ) from error
            self.retries += 1
            await asyncio.sleep(
                retry_after if retry_after is not None else self.backoff_s * 2**attempt
            )
        raise AssertionError("unreachable")

    async def _stream(
        self, client: httpx.AsyncClient, body: dict[str, Any], conversation: Conversation
    ) -> Completion:
        start = time.perf_counter()
        ttft = None
        pieces: list[str] = []
        finish = "stop"
        usage: dict[str, Any] = {}
        async with client.stream("POST", "/chat/completions", json=body) as r:
            if r.status_code != 200:
                detail = (await r.aread()).decode("utf-8", "replace")[:500]
                if r.status_code in RETRY_STATUS:
                    raise _Retryable(
                        r.status_code, detail, _retry_after(r.headers.get("retry-after"))
                    )
                raise OpenAIBackendError(
                    f"{self.base_url}/chat/completions answered {r.status_code}: {detail}"
                )
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if chunk.get("error"):
                    raise OpenAIBackendError(f"server error mid-stream: {chunk['error']}")
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        if ttft is None:
                            ttft = time.perf_counter() - start
                        pieces.append(content)
                    if choice.get("finish_reason"):
                        finish = "length" if choice["finish_reason"] == "length" else "stop"
        text = "".join(pieces)
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or self.count_tokens(conversation)),
            completion_tokens=int(usage.get("completion_tokens") or (len(pieces) if pieces else 0)),
            ttft_s=ttft,
            latency_s=time.perf_counter() - start,
            finish_reason=finish,
        )


class _Retryable(Exception):
    def __init__(self, status: int, detail: str, retry_after: float | None):
        super().__init__(f"HTTP {status}: {detail}")
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    try:
        return min(float(value), 30.0) if value else None
    except ValueError:
        return None


__all__ = ["OpenAIBackend", "OpenAIBackendError", "approx_tokens"]
