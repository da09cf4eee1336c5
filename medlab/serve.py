"""``medlab serve``: an OpenAI-compatible ``/v1/chat/completions`` server (FastAPI + uvicorn).

It serves either the guarded chatbot (``MedicalChatbot``: system prompt, history trimming,
post-checks, repair and fallback) or a raw backend (``--raw``). Requests that arrive within a
few milliseconds of each other with the same generation settings are grouped into one
``generate`` call (``BatchQueue``), so concurrent clients share a batch instead of queueing one
by one. Streaming sends the checked answer as server-sent events once it is ready: the guarded
pipeline cannot release tokens before the post-check has passed them.

Rules: ``max_tokens`` is clamped to the model's budget (context length - prompt tokens, and the
server's ``max_tokens_cap``, 1024 by default: one request cannot hold the model for long);
``response_format`` ``json_object`` constrains the answer to the
chatbot's schema (raw: any JSON object), ``json_schema`` to the given schema, ``text`` turns
structured output off. Over a chatbot, a system message from the caller is appended to the
chatbot's system prompt (``MedicalChatbot(client_system="merge")``; "ignore" or "replace" are
the other choices); the budget counts the system prompt the chatbot really sends. Errors use
the OpenAI error shape: 400 bad request (the client's fault: bad fields, a prompt too long for
the context), 401 missing or wrong API key, 404 unknown model or route, 413 body too large
(counted while it is read), 500 a failure inside the server, 502 a failure of the upstream
OpenAI-compatible server the model runs on.

Hardening: a client that disconnects before its answer is ready is dropped from its batch, and a
batch whose clients have all gone stops generating at the next decoding step
(``medlab.models.cancel``). Limits, each a 400 that names it, with the keep-alive connection
kept: a body nested deeper than ``MAX_JSON_DEPTH``, a ``json_schema`` deeper than
``MAX_SCHEMA_DEPTH`` or larger than ``MAX_SCHEMA_BYTES``, more than ``MAX_STOP`` stop strings,
an empty one or one longer than ``MAX_STOP_CHARS``. With an API key, ``/docs``, ``/redoc`` and
``/openapi.json`` need it too. A chatbot answer to a caller's own ``json_schema`` that had to
fall back to the safe consultation answer, which does not match that schema, is a 500
(``no_valid_answer``), never a 200 with the wrong shape.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from medlab import webui
from medlab.defaults import BATCH_SIZE
from medlab.models.base import BatchError
from medlab.models.openai import OpenAIBackendError
from medlab.prompts import PromptError
from medlab.types import GenerationParams, Message

JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}
DEFAULT_MAX_TOKENS_CAP = 1024  # new tokens per request unless the server says otherwise
MAX_JSON_DEPTH = 64  # nesting of a request body
MAX_SCHEMA_DEPTH = 32  # nesting of a response_format json_schema
MAX_SCHEMA_BYTES = 32_768  # size of a response_format json_schema (compact JSON)
MAX_STOP, MAX_STOP_CHARS = 4, 64  # stop strings per request, characters per stop string
DISCONNECT_POLL_S = 0.25  # how often a waiting request checks that its client is still there
log = logging.getLogger("medlab.serve")


class BatchQueue:
    """Groups submissions and runs each group of equal keys as one call of
    ``run(key, payloads) -> results`` in a single worker thread (one model, one batch at a time).

    A batch closes when ``max_batch`` requests are in, when no new request came for
    ``window_s``, or ``4 * window_s`` after its first request. ``run`` may put an exception in
    place of a result: it fails that submission only. A submission may carry ``gone``, an event
    set when nobody waits for it any more: it is left out of its batch if set before the batch
    starts, and a batch stops generating once every one of its submissions is gone."""

    def __init__(
        self,
        run: Callable[[Any, list[Any]], list[Any]],
        window_s: float = 0.05,
        max_batch: int = BATCH_SIZE,
    ):
        self.run = run
        self.window_s = window_s
        self.max_batch = max_batch
        self.batches: list[int] = []  # size of every batch run, for inspection
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="medlab-generate")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None

    async def submit(self, key: Hashable, payload: Any, gone: threading.Event | None = None) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop (test clients make one each)
            self._loop, self._queue = loop, asyncio.Queue()
            loop.create_task(self._worker(self._queue))
        future = loop.create_future()
        await self._queue.put((key, (payload, gone or threading.Event()), future))
        return await future

    def _run_scoped(self, key: Hashable, payloads: list[Any], gone: list[threading.Event]):
        from medlab.models.cancel import cancel_scope

        with cancel_scope(lambda: all(g.is_set() for g in gone)):
            return self.run(key, payloads)

    async def _worker(self, queue: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + 4 * self.window_s  # never hold the first request longer
            while len(batch) < self.max_batch:
                # wait up to window_s after each arrival: clients released by the previous batch
                # send their next requests a few ms apart, and they should share the next batch
                timeout = min(self.window_s, deadline - loop.time())
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), timeout))
                except (asyncio.TimeoutError, TimeoutError):
                    break
            groups: dict[Hashable, list[tuple[Any, asyncio.Future]]] = {}
            for key, (payload, gone), future in batch:
                if gone.is_set() or future.done():  # its client left while it waited
                    continue
                groups.setdefault(key, []).append(((payload, gone), future))
            for key, items in groups.items():
                self.batches.append(len(items))
                try:
                    results = await loop.run_in_executor(
                        self._executor,
                        self._run_scoped,
                        key,
                        [p for (p, _), _ in items],
                        [g for (_, g), _ in items],
                    )
                except Exception as e:  # the whole group fails together
                    for _, future in items:
                        if not future.done():
                            future.set_exception(e)
                    continue
                for (_, future), result in zip(items, results):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)


# --- request model ------------------------------------------------------------------------


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = []
        for part in self.content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ValueError("only text content parts are supported")
            parts.append(part["text"])
        return "".join(parts)


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    response_format: ResponseFormat | None = None
    medlab: dict[str, Any] | None = None  # non-standard: {"prompt": "gp_assistant@v2"}


class APIError(Exception):
    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def response(self) -> JSONResponse:
        return _error_response(self.status, self.message, self.param, self.code)


class UpstreamError(RuntimeError):
    """The OpenAI-compatible server the model runs on failed this request (answered 502)."""


def _error_response(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    if status >= 500:
        kind = "server_error"
    else:
        kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}
        kind = kind.get(status, "rate_limit_error" if status == 429 else "invalid_request_error")
    error = {"message": message, "type": kind, "param": param, "code": code}
    return JSONResponse({"error": error}, status_code=status)


def _is_upstream(error: BaseException) -> bool:
    """A failure of the remote server behind an ``openai:`` backend (or of some of its
    requests), as opposed to a failure inside this one."""
    return isinstance(error, (UpstreamError, BatchError, OpenAIBackendError))


def _as_api_error(error: BaseException) -> APIError:
    """The response to a failure of the model or the pipeline: never the client's fault."""
    detail = f"{type(error).__name__}: {error}"[:1000]
    if _is_upstream(error):
        return APIError(502, f"the model server failed: {detail}", code="upstream_error")
    return APIError(500, f"the server failed to answer: {detail}", code="internal_error")


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes (a declared
    ``Content-Length`` over the limit is refused before reading anything)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise APIError(413, f"request body of {declared} bytes is over the {limit}-byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise APIError(413, f"request body is over the {limit}-byte limit")
    return bytes(body)


def _depth(obj: Any, limit: int) -> int:
    """Nesting depth of a JSON value, counted without recursion and up to ``limit + 1``."""
    deepest, level = 0, [(obj, 1)]
    while level and deepest <= limit:
        node, d = level.pop()
        deepest = max(deepest, d)
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        level.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def _parse(body: bytes) -> ChatRequest:
    too_deep = APIError(400, f"request body is nested deeper than the {MAX_JSON_DEPTH}-level limit")
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise APIError(400, f"request body is not valid JSON: {e}") from e
    except RecursionError:
        raise too_deep from None
    if _depth(obj, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise too_deep
    if not isinstance(obj, dict):
        raise APIError(400, "request body must be a JSON object")
    try:
        return ChatRequest.model_validate(obj)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise APIError(400, f"{where}: {err['msg']}", param=where) from e


# --- the app ------------------------------------------------------------------------------


def create_app(
    backend_or_bot: Any,
    served_name: str = "qwen2.5-7b-chat",
    api_key: str | None = None,
    max_request_bytes: int = 1_000_000,
    max_tokens_cap: int | None = DEFAULT_MAX_TOKENS_CAP,
    batch_window_s: float = 0.05,
    max_batch: int = BATCH_SIZE,
) -> FastAPI:
    """The FastAPI app over a ``MedicalChatbot`` or a raw backend. ``max_tokens_cap`` bounds
    the new tokens of one request (None: only the context length does)."""
    from medlab.chatbot import MedicalChatbot

    bot = backend_or_bot if isinstance(backend_or_bot, MedicalChatbot) else None
    model = bot.model if bot else backend_or_bot
    created = int(time.time())
    bots: dict[str, Any] = {bot.prompt.ref: bot} if bot else {}  # by prompt (medlab.prompt)

    def run(key: tuple, conversations: list[list[Message]]) -> list[Any]:
        """One batch; a failure fails only the requests it concerns (results hold exceptions)."""
        kind, mode, schema_json, params = key
        schema = json.loads(schema_json) if schema_json else None

        def answer(convs: list[list[Message]]) -> list[Any]:
            if bot is not None:
                return bots[kind].respond_batch(convs, params=params, mode=mode, schema=schema)
            return model.generate(convs, params, schema=schema)

        try:
            return answer(conversations)
        except BatchError as e:  # an openai: backend where only some requests failed
            if bot is None:
                return [
                    c if c is not None else UpstreamError(err or "no answer")
                    for c, err in zip(e.completions, e.errors)
                ]
            failure: Exception = e
        except Exception as e:
            failure = e
        if len(conversations) == 1 or (
            _is_upstream(failure) and not isinstance(failure, BatchError)
        ):
            raise failure  # the same failure for every request of the batch
        log.warning(
            "a batch of %d failed (%s); answering its requests one by one",
            len(conversations),
            failure,
        )
        results: list[Any] = []
        for conv in conversations:  # find the request(s) that failed, answer the others
            try:
                results.extend(answer([conv]))
            except Exception as e:
                results.append(e)
        return results

    queue = BatchQueue(run, window_s=batch_window_s, max_batch=max_batch)
    docs = {} if api_key is None else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="medlab", version="0.1.0", **docs)
    app.state.queue = queue
    app.state.model = model
    app.state.bot = bot
    webui.install(app, bot, served_name)

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        return _as_api_error(exc).response()  # the traceback goes to the server log

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(token.encode(), api_key.encode()):
            raise APIError(
                401,
                "missing or invalid API key (Authorization: Bearer ...)",
                code="invalid_api_key",
            )

    if api_key is not None:  # the API description is behind the key too
        from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

        @app.get("/openapi.json", include_in_schema=False)
        async def openapi(request: Request) -> JSONResponse:
            authorize(request)
            return JSONResponse(app.openapi())

        @app.get("/docs", include_in_schema=False)
        async def swagger(request: Request) -> Any:
            authorize(request)
            return get_swagger_ui_html(openapi_url="/openapi.json", title="medlab")

        @app.get("/redoc", include_in_schema=False)
        async def redoc(request: Request) -> Any:
            authorize(request)
            return get_redoc_html(openapi_url="/openapi.json", title="medlab")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        sizes = queue.batches
        return {
            "status": "ok",
            "model": served_name,
            "mode": "chatbot" if bot else "raw",
            "batches": len(sizes),
            "batched_requests": sum(sizes),
            "recent_batches": sizes[-32:],
        }

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        authorize(request)
        entry = {
            "id": served_name,
            "object": "model",
            "created": created,
            "owned_by": "medlab",
            "root": model.name,
            "max_model_len": model.context_length,
        }
        return {"object": "list", "data": [entry]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        authorize(request)
        req = _parse(await _read_body(request, max_request_bytes))
        if req.model and req.model not in (served_name, model.name):
            raise APIError(
                404,
                f"model {req.model!r} is not served here; use {served_name!r}",
                param="model",
                code="model_not_found",
            )
        try:
            messages = [
                Message("system" if m.role == "developer" else m.role, m.text())
                for m in req.messages
            ]
        except ValueError as e:
            raise APIError(400, f"messages: {e}", param="messages") from e
        chosen = await asyncio.to_thread(_variant, req, bot, bots)
        if bot is not None and messages[-1].role != "user":
            raise APIError(
                400, "messages: the last message must have role 'user'", param="messages"
            )
        # off the event loop: the first schema compiles a grammar (about 1.5 s with the
        # Qwen2.5 vocabulary), and the room for max_tokens may need a knowledge-base search
        mode, schema = await asyncio.to_thread(_output, req, chosen, model)
        params = await asyncio.to_thread(_params, req, chosen, model, messages, max_tokens_cap)
        key = (
            chosen.prompt.ref if chosen else "raw",
            mode,
            json.dumps(schema) if schema else "",  # key order kept: it is the field order
            params,
        )
        gone = threading.Event()
        waiting = asyncio.ensure_future(queue.submit(key, messages, gone))
        while not waiting.done():  # a client that leaves frees its share of the model
            await asyncio.wait({waiting}, timeout=DISCONNECT_POLL_S)
            if not waiting.done() and await request.is_disconnected():
                gone.set()
                waiting.cancel()
                log.info("client went away; its request is dropped")
                return _error_response(499, "the client closed the request")
        try:
            result = waiting.result()
        except Exception as e:  # the request itself was checked above: not the client's fault
            log.error("request failed: %s: %s", type(e).__name__, e, exc_info=e)
            raise _as_api_error(e) from e
        own_schema = req.response_format is not None and req.response_format.type == "json_schema"
        if bot is not None and own_schema and result.fallback:
            from medlab.validate import validate_answer

            if validate_answer(result.text, schema):
                raise APIError(
                    500,
                    "the model's answers failed the chatbot's checks twice, and its safe "
                    "fallback answer does not match the requested json_schema",
                    code="no_valid_answer",
                )
        if bot is not None:
            text, finish = result.text, result.finish_reason
            usage = (result.prompt_tokens, result.completion_tokens)
            extra = {
                "medlab": {
                    "violations": [v.code for v in result.violations],
                    "repaired": result.repaired,
                    "fallback": result.fallback,
                    "referral_level": result.referral_level,
                    "kb_flags": [f.reason for f in result.kb_flags],
                    "cached": result.cached,
                }
            }
        else:
            text, finish = result.text, result.finish_reason
            usage, extra = (result.prompt_tokens, result.completion_tokens), {}
        # what the guard found, for the web page (OpenAI clients ignore the extra field)
        found = await asyncio.to_thread(webui.findings, result, messages, params, mode, chosen)
        extra["medlab"] = extra.get("medlab", {}) | found
        head = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "created": int(time.time()),
            "model": served_name,
            "system_fingerprint": model.fingerprint,
        }
        usage_d = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        }
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            return StreamingResponse(
                _sse(head, text, finish, usage_d if include_usage else None, extra),
                media_type="text/event-stream",
            )
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
        }
        return {**head, "object": "chat.completion", "choices": [choice], "usage": usage_d, **extra}

    return app


def _variant(req: ChatRequest, bot: Any, bots: dict[str, Any]) -> Any:
    """The chatbot for the request's ``medlab.prompt`` (the web page's prompt picker), made
    once per prompt; the server's own chatbot when the request names none."""
    ref = (req.medlab or {}).get("prompt")
    if ref is None:
        return bot
    if bot is None:
        raise APIError(400, "medlab.prompt: the server runs the bare model (--raw)", "medlab")
    if not isinstance(ref, str):
        raise APIError(400, "medlab.prompt must be a reference such as 'gp_assistant@v2'", "medlab")
    if ref in bots:  # the page sends full references: no prompt file read, no chatbot built
        return bots[ref]
    try:
        variant = webui.chatbot_for_prompt(bot, ref)
    except PromptError as e:
        raise APIError(400, f"medlab.prompt: {e}", param="medlab") from e
    return bots.setdefault(variant.prompt.ref, variant)


def _output(req: ChatRequest, bot: Any, model: Any = None) -> tuple[str, dict[str, Any] | None]:
    """(mode, schema) the request asks for: response_format first, else the chatbot's mode."""
    fmt = req.response_format
    if fmt is None:
        return (
            (bot.mode, bot.schema if bot.mode == "structured" else None)
            if bot
            else ("normal", None)
        )
    if fmt.type == "text":
        return "normal", None
    if fmt.type == "json_object":
        return "structured", bot.schema if bot else JSON_OBJECT_SCHEMA
    schema = (fmt.json_schema or {}).get("schema")
    if not isinstance(schema, dict):
        raise APIError(
            400,
            "response_format.json_schema.schema must be a JSON Schema object",
            param="response_format",
        )
    if _depth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH:
        raise APIError(
            400,
            f"response_format.json_schema.schema is nested deeper than the "
            f"{MAX_SCHEMA_DEPTH}-level limit",
            param="response_format",
        )
    size = len(json.dumps(schema, separators=(",", ":")).encode())
    if size > MAX_SCHEMA_BYTES:
        raise APIError(
            400,
            f"response_format.json_schema.schema takes {size} bytes, over the "
            f"{MAX_SCHEMA_BYTES}-byte limit",
            param="response_format",
        )
    _check_schema(schema, model)
    return "structured", schema


def _check_schema(schema: dict[str, Any], model: Any) -> None:
    """400 for a schema that is not a valid JSON Schema, or (a local model) one that
    constrained decoding cannot compile: found here, not halfway through a batch."""
    from jsonschema import SchemaError, validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except RecursionError:
        raise APIError(
            400, "response_format.json_schema.schema is nested too deeply", param="response_format"
        ) from None
    except SchemaError as e:
        raise APIError(
            400,
            f"response_format.json_schema.schema is not a valid JSON Schema: {e.message}",
            param="response_format",
        ) from e
    tokenizer, n_vocab = getattr(model, "tokenizer", None), getattr(model, "_n_vocab", None)
    if tokenizer is None or not isinstance(n_vocab, int):  # decoded elsewhere (openai:)
        return
    from medlab.models.constrained import compile_schema

    try:
        compile_schema(schema, tokenizer, n_vocab)  # compiled once, kept for the batch
    except ValueError as e:
        raise APIError(400, f"response_format.json_schema: {e}", param="response_format") from e


def _params(
    req: ChatRequest, bot: Any, model: Any, messages: list[Message], cap: int | None
) -> GenerationParams:
    base = bot.params if bot else GenerationParams()
    prompt_tokens = _prompt_tokens(bot, model, messages)
    room = model.context_length - prompt_tokens
    if room < 1:
        raise APIError(
            400,
            f"the messages take {prompt_tokens} tokens: no room left in the "
            f"{model.context_length}-token context",
            param="messages",
            code="context_length_exceeded",
        )
    budget = getattr(bot, "max_history_tokens", None)
    if budget and prompt_tokens > budget:
        raise APIError(
            400,
            f"the system prompt and the last message take {prompt_tokens} tokens, over the "
            f"chatbot's prompt budget of {budget}",
            param="messages",
            code="context_length_exceeded",
        )
    wanted = req.max_completion_tokens or req.max_tokens or base.max_new_tokens
    limit = min(wanted, room, cap or wanted)
    stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
    if len(stop) > MAX_STOP or any(not s or len(s) > MAX_STOP_CHARS for s in stop):
        raise APIError(
            400,
            f"stop: at most {MAX_STOP} stop strings, each of 1 to {MAX_STOP_CHARS} characters",
            param="stop",
        )
    try:
        return GenerationParams(
            temperature=base.temperature if req.temperature is None else req.temperature,
            top_p=base.top_p if req.top_p is None else req.top_p,
            max_new_tokens=limit,
            seed=base.seed if req.seed is None else req.seed,
            stop=tuple(stop),
        )
    except ValueError as e:
        raise APIError(400, str(e)) from e


def _prompt_tokens(bot: Any, model: Any, messages: list[Message]) -> int:
    """Tokens of the smallest prompt the model will get for these messages.

    Raw: the messages as they are. Chatbot: what ``MedicalChatbot`` sends once it has dropped
    every older turn: its system prompt as built for this request (the caller's system
    messages merged in or put in its place, knowledge-base notes when grounded) and the last
    user message.
    """
    if bot is None:
        return model.count_tokens(messages)
    return model.count_tokens(bot.minimal_prompt(messages))


async def _sse(
    head: dict[str, Any],
    text: str,
    finish: str,
    usage: dict[str, int] | None,
    extra: dict[str, Any] | None = None,
):
    def event(delta: dict[str, Any], finish_reason: str | None, **more: Any) -> str:
        chunk = {
            **head,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **more,
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""}, None)
    for i in range(0, len(text), 16):
        yield event({"content": text[i : i + 16]}, None)
    yield event({}, finish, **(extra or {}))  # the last chunk carries the medlab findings
    if usage is not None:
        chunk = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"
