"""OpenAI-compatible HTTP servers (vLLM, SGLang, llama.cpp, DashScope, ``medlab serve``) behind
the ``Backend`` protocol.

Requests go out with ``httpx`` (async): at most ``concurrency`` in flight (a semaphore), streamed
as server-sent events so the time to the first content token is measured. Each attempt is
bounded by ``timeout_s`` per read and ``request_timeout_s`` as a whole. 408, 409, 429, 5xx, connection errors, timeouts and streams
that end before their ``finish_reason`` / ``[DONE]`` are retried with exponential backoff
(``Retry-After`` honoured), ``max_retries`` times, then the request fails with an
``OpenAIBackendError``. When only some requests of a ``generate`` call fail, the call raises
``BatchError`` with the answers of the others. A JSON Schema becomes ``response_format``
``json_schema`` (strict). ``generate`` is synchronous and also works inside Jupyter: when an event
loop is already running, the requests run on their own loop in a worker thread.

Several servers of the same model act as one backend: given several base URLs, each request
(and each retry) goes to the server with the fewest requests outstanding, at most
``concurrency`` per server.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from medlab.defaults import BATCH_SIZE
from medlab.models.base import BatchError
from medlab.types import Completion, Conversation, GenerationParams, Message, as_conversation

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
DRAIN_S = 1.0  # how long to wait for the end of a body after its [DONE]
# the parts of a /v1/models entry that identify the weights; servers add volatile ones
# (vLLM: ``created`` and ``permission[]`` items with a fresh random id on every request)
STABLE_MODEL_FIELDS = ("id", "root", "parent", "max_model_len", "context_length", "owned_by")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


class OpenAIBackendError(RuntimeError):
    """A request that failed for good: a 4xx answer, or retries used up."""


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate: one token per CJK character, one per ~4 other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + -(-(len(text) - cjk) // 4)


class OpenAIBackend:
    """A model served over ``/v1/chat/completions``.

    ``base_url`` ends in ``/v1`` (added when missing); a list of URLs (or one string of
    comma-separated URLs) spreads requests over several servers of the same model, each of which
    must list ``model_name``. ``model_name`` defaults to the first model the server lists. ``tokenizer`` (a transformers tokenizer with a chat template) makes
    ``count_tokens`` exact; without it the count is approximate. ``revision`` (any string, e.g.
    the hub commit the server loaded) goes into the fingerprint: the server's model listing
    cannot tell two sets of weights served under the same name apart. ``timeout_s`` bounds each
    read (a server that goes silent); ``request_timeout_s`` bounds each whole attempt (connect,
    queueing on the server, every streamed token), so a server that streams too slowly fails
    too; None leaves the whole attempt unbounded. ``transport``
    is passed to ``httpx.AsyncClient`` (tests, custom proxies).
    """

    def __init__(
        self,
        base_url: str | list[str],
        model_name: str | None = None,
        api_key: str | None = None,
        concurrency: int = BATCH_SIZE,
        timeout_s: float = 120,
        request_timeout_s: float | None = 900,
        max_retries: int = 3,
        name: str | None = None,
        tokenizer: Any = None,
        context_length: int | None = None,
        backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        revision: str | None = None,
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if request_timeout_s is not None and request_timeout_s <= 0:
            raise ValueError(f"request_timeout_s must be > 0 or None, got {request_timeout_s}")
        urls = base_url.split(",") if isinstance(base_url, str) else list(base_url)
        urls = [u.strip().rstrip("/") for u in urls if u.strip()]
        if not urls:
            raise ValueError("base_url names no server")
        self.base_urls = [u if u.endswith("/v1") else u + "/v1" for u in urls]
        if len(set(self.base_urls)) != len(self.base_urls):
            raise ValueError(f"base_url names a server twice: {self.base_urls}")
        self.base_url = self.base_urls[0]
        self.api_key = (
            api_key or os.environ.get("MEDLAB_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        )
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.request_timeout_s = request_timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.tokenizer = tokenizer
        self.revision = revision
        self._transport = transport
        self.retries = 0  # requests retried since creation (all calls together)
        served = self._list_models(required=model_name is None)
        if model_name is None:
            if not served:
                raise OpenAIBackendError(f"{self.base_url}/models lists no model: pass model_name")
            model_name = served[0]["id"]
        self.model_name = model_name
        for url in self.base_urls[1:]:
            others = self._list_models(required=True, url=url)
            if not any(m.get("id") == model_name for m in others):
                listed = [m.get("id") for m in others]
                raise OpenAIBackendError(f"{url}/models does not list {model_name!r}: {listed}")
        entry = next((m for m in served if m.get("id") == model_name), {})
        self.server_info = {k: entry[k] for k in STABLE_MODEL_FIELDS if k in entry}
        self.context_length = int(
            context_length or entry.get("max_model_len") or entry.get("context_length") or 32768
        )
        self.name = name or f"openai:{self.base_url}#{model_name}"
        url = self.base_url if len(self.base_urls) == 1 else sorted(self.base_urls)
        described = {"url": url, "model": model_name, "server": self.server_info}
        if revision is not None:
            described["revision"] = revision
        text = json.dumps(described, sort_keys=True, default=str)
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]

    # --- protocol --------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _list_models(self, required: bool, url: str | None = None) -> list[dict[str, Any]]:
        url = url or self.base_url
        try:
            return self._run(self._alist_models(url))
        except (httpx.HTTPError, ValueError) as e:
            if required:
                raise OpenAIBackendError(f"cannot list models at {url}/models: {e}") from e
            return []

    async def _alist_models(self, url: str) -> list[dict[str, Any]]:
        async with self._client(url) as client:
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
            **({"base_urls": self.base_urls} if len(self.base_urls) > 1 else {}),
            "model_name": self.model_name,
            "fingerprint": self.fingerprint,
            "revision": self.revision,
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
        """Answer every conversation (at most ``concurrency`` requests in flight).

        Raises ``BatchError`` (one answer or error message per conversation) when some
        requests failed; when every request failed with the same error, raises that error
        (an ``OpenAIBackendError``) instead.
        """
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

    def _client(self, base_url: str | None = None) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        return httpx.AsyncClient(
            base_url=base_url or self.base_url,
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
        sem = asyncio.Semaphore(self.concurrency * len(self.base_urls))
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(self._client(u)) for u in self.base_urls]
            pool = _Servers(clients, self.base_urls)
            tasks = [
                self._request(pool, sem, as_conversation(c), params, schema) for c in conversations
            ]
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for r in results:  # cancellation, KeyboardInterrupt: not a failed request
            if isinstance(r, BaseException) and not isinstance(r, Exception):
                raise r
        errors = [_describe(r) if isinstance(r, Exception) else None for r in results]
        failed = [r for r in results if isinstance(r, Exception)]
        if not failed:
            return list(results)
        if len(failed) == len(results) and len(set(errors)) == 1:
            raise failed[0]  # one error for all: nothing to keep, raised as it is
        completions = [None if isinstance(r, Exception) else r for r in results]
        raise BatchError(completions, errors)

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
        pool: _Servers,
        sem: asyncio.Semaphore,
        conversation: Conversation,
        params: GenerationParams,
        schema: dict[str, Any] | None,
    ) -> Completion:
        body = self.payload(conversation, params, schema)
        url = self.base_url
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                async with sem, pool.least_busy() as (client, url):  # timeout starts once sent
                    return await asyncio.wait_for(
                        self._stream(client, body, conversation, url), self.request_timeout_s
                    )
            except _Retryable as e:
                error: Exception = e
                retry_after = e.retry_after
            except asyncio.TimeoutError as e:  # 3.10: not the builtin TimeoutError
                error = _Retryable(
                    None, f"no complete answer within {self.request_timeout_s} s", None
                )
                error.__cause__ = e
            except (httpx.TransportError, httpx.TimeoutException) as e:
                error = e
            if attempt == self.max_retries:
                raise OpenAIBackendError(
                    f"{url}/chat/completions failed after {attempt + 1} attempts: "
                    f"{_describe(error)}"
                ) from error
            self.retries += 1
            await asyncio.sleep(self.backoff(attempt, retry_after))
        raise AssertionError("unreachable")

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt + 1``: the server's ``Retry-After`` when it
        sent one, else ``backoff_s * 2**attempt``."""
        return retry_after if retry_after is not None else self.backoff_s * 2**attempt

    async def _stream(
        self,
        client: httpx.AsyncClient,
        body: dict[str, Any],
        conversation: Conversation,
        url: str | None = None,
    ) -> Completion:
        start = time.perf_counter()
        ttft = None
        pieces: list[str] = []
        finish = None
        done = False
        usage: dict[str, Any] = {}
        async with client.stream("POST", "/chat/completions", json=body) as r:
            if r.status_code != 200:
                detail = (await r.aread()).decode("utf-8", "replace")[:500]
                if r.status_code in RETRY_STATUS:
                    raise _Retryable(
                        r.status_code, detail, _retry_after(r.headers.get("retry-after"))
                    )
                raise OpenAIBackendError(
                    f"{url or self.base_url}/chat/completions answered {r.status_code}: {detail}"
                )
            lines = r.aiter_lines()
            async for line in lines:
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError as e:
                    raise _Retryable(None, f"malformed stream chunk {data[:200]!r}", None) from e
                if not isinstance(chunk, dict):
                    raise _Retryable(None, f"malformed stream chunk {data[:200]!r}", None)
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
            if done:  # read the body to its end: only then can the connection be reused
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(_drain(lines), DRAIN_S)
        if finish is None and not done:  # the connection closed cleanly, but too early
            raise _Retryable(
                None,
                f"the stream ended after {len(pieces)} content chunks without a finish_reason "
                "or [DONE]",
                None,
            )
        text = "".join(pieces)
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or self.count_tokens(conversation)),
            completion_tokens=int(usage.get("completion_tokens") or (len(pieces) if pieces else 0)),
            ttft_s=ttft,
            latency_s=time.perf_counter() - start,
            finish_reason=finish or "stop",
        )


class _Servers:
    """The servers of one ``agenerate`` call and their outstanding requests: each request goes
    to the least busy one, ties taken in turn (so a retry moves on from a server that failed)."""

    def __init__(self, clients: list[httpx.AsyncClient], urls: list[str]):
        self.clients, self.urls = clients, urls
        self.outstanding = [0] * len(clients)
        self.turn = 0

    @contextlib.asynccontextmanager
    async def least_busy(self) -> Any:
        n = len(self.clients)
        order = [(self.turn + k) % n for k in range(n)]
        i = min(order, key=self.outstanding.__getitem__)
        self.turn = (i + 1) % n
        self.outstanding[i] += 1
        try:
            yield self.clients[i], self.urls[i]
        finally:
            self.outstanding[i] -= 1


class _Retryable(Exception):
    """A failed attempt worth another one: an HTTP status in ``RETRY_STATUS`` (``status``), a
    timeout or a broken stream (``status`` None)."""

    def __init__(self, status: int | None, detail: str, retry_after: float | None):
        super().__init__(f"HTTP {status}: {detail}" if status is not None else detail)
        self.status = status
        self.retry_after = retry_after


async def _drain(lines: Any) -> None:
    async for _ in lines:
        pass


def _describe(error: BaseException) -> str:
    """A one-line message that names the status or the kind of failure."""
    if isinstance(error, (OpenAIBackendError, _Retryable)):
        return str(error)
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay seconds or an HTTP date), at most 30."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), 30.0)


__all__ = ["OpenAIBackend", "OpenAIBackendError", "approx_tokens"]
