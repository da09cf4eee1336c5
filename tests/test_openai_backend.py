"""OpenAIBackend request logic: payloads, SSE parsing, retries, concurrency, sync-in-async.

The HTTP server here is an ``httpx.MockTransport`` handler so that failures (429, 500, dropped
connections) happen on demand; tests/test_serve.py points the backend at the real
``medlab serve`` on the tiny stand-in.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from medlab.models import load_model
from medlab.models.openai import OpenAIBackend, OpenAIBackendError, approx_tokens
from medlab.schemas import SCHEMAS
from medlab.types import GenerationParams

MODELS = {"object": "list", "data": [{"id": "served-a", "max_model_len": 4096}, {"id": "served-b"}]}


def sse(*pieces: str, finish: str = "stop", usage: dict | None = None) -> bytes:
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if usage:
        chunks.append({"choices": [], "usage": usage})
    lines = [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


class Server:
    """A scripted server: ``script`` is a list of responses (or exceptions) for chat calls."""

    def __init__(self, script=None, delay_s: float = 0.0):
        self.script = list(script or [])
        self.delay_s = delay_s
        self.bodies: list[dict] = []
        self.headers: list[httpx.Headers] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json=MODELS)
        self.bodies.append(json.loads(request.content))
        self.headers.append(request.headers)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            step = (
                self.script.pop(0) if self.script else httpx.Response(200, content=sse("好", "的"))
            )
            if isinstance(step, Exception):
                raise step
            return step
        finally:
            self.in_flight -= 1


def backend(server: Server, **kw) -> OpenAIBackend:
    kw.setdefault("backoff_s", 0.001)
    return OpenAIBackend("http://test.local/v1", transport=httpx.MockTransport(server), **kw)


def test_model_listing_context_and_fingerprint():
    b = backend(Server())
    assert b.model_name == "served-a" and b.context_length == 4096
    assert b.base_url == "http://test.local/v1"
    other = backend(Server(), model_name="served-b")
    assert other.context_length == 32768 and other.fingerprint != b.fingerprint
    assert b.info()["model_name"] == "served-a"


def test_streamed_answer_usage_and_payload():
    server = Server(
        [
            httpx.Response(
                200,
                content=sse(
                    '{"a"',
                    ": 1}",
                    finish="length",
                    usage={"prompt_tokens": 11, "completion_tokens": 5},
                ),
            )
        ]
    )
    b = backend(server, api_key="k-123")
    params = GenerationParams(temperature=0.3, top_p=0.8, max_new_tokens=64, seed=7, stop=("END",))
    [c] = b.generate(
        [[{"role": "user", "content": "头痛"}]], params, schema=SCHEMAS["consultation"]
    )
    assert c.text == '{"a": 1}' and c.finish_reason == "length"
    assert (c.prompt_tokens, c.completion_tokens) == (11, 5)
    assert c.ttft_s is not None and 0 <= c.ttft_s <= c.latency_s
    body = server.bodies[0]
    assert body["model"] == "served-a" and body["stream"] is True
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"], body["stop"]) == (
        0.3,
        0.8,
        64,
        7,
        ["END"],
    )
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == SCHEMAS["consultation"]
    assert server.headers[0]["authorization"] == "Bearer k-123"


def test_no_usage_falls_back_to_estimates():
    b = backend(Server([httpx.Response(200, content=sse("a", "b", "c"))]))
    [c] = b.generate([[{"role": "user", "content": "你好"}]])
    assert c.completion_tokens == 3 and c.prompt_tokens == b.count_tokens(
        [{"role": "user", "content": "你好"}]
    )
    assert "response_format" not in b.server_info


@pytest.mark.parametrize(
    "failures",
    [
        [httpx.Response(429, text="slow down")],
        [httpx.Response(503), httpx.Response(500)],
        [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ],
)
def test_retries_on_429_5xx_and_transport_errors(failures):
    server = Server(failures)
    b = backend(server, max_retries=3)
    [c] = b.generate([[{"role": "user", "content": "q"}]])
    assert c.text == "好的"
    assert len(server.bodies) == len(failures) + 1 and b.retries == len(failures)


def test_retries_are_bounded():
    server = Server([httpx.Response(500)] * 10)
    b = backend(server, max_retries=2)
    with pytest.raises(OpenAIBackendError, match="after 3 attempts"):
        b.generate([[{"role": "user", "content": "q"}]])
    assert len(server.bodies) == 3


def test_client_errors_are_not_retried():
    server = Server([httpx.Response(400, json={"error": {"message": "messages: bad role"}})])
    b = backend(server)
    with pytest.raises(OpenAIBackendError, match="400.*bad role"):
        b.generate([[{"role": "user", "content": "q"}]])
    assert len(server.bodies) == 1


def test_concurrency_limit_is_respected():
    server = Server(delay_s=0.02)
    b = backend(server, concurrency=4)
    out = b.generate([[{"role": "user", "content": str(i)}] for i in range(16)])
    assert len(out) == 16 and server.max_in_flight == 4


def test_generate_works_inside_a_running_event_loop():
    b = backend(Server())

    async def notebook_cell():  # what Jupyter does: a loop is already running
        return b.generate([[{"role": "user", "content": "q"}]])

    [c] = asyncio.run(notebook_cell())
    assert c.text == "好的"


def test_load_model_dispatches_openai_urls():
    b = load_model(
        "openai:http://test.local", model_name="served-b", transport=httpx.MockTransport(Server())
    )
    assert isinstance(b, OpenAIBackend) and b.model_name == "served-b"


def test_unreachable_server_without_model_name_is_a_clear_error():
    with pytest.raises(OpenAIBackendError, match="cannot list models"):
        OpenAIBackend("http://127.0.0.1:9/v1", timeout_s=2)


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("头痛", 2), ("abcd", 1), ("abcde", 2), ("头痛 ok", 3)]
)
def test_approx_tokens(text, tokens):
    assert approx_tokens(text) == tokens
