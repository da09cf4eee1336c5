"""OpenAIBackend request logic: payloads, SSE parsing, retries, concurrency, sync-in-async.

Most servers here are ``httpx.MockTransport`` handlers so that failures (429, 500, dropped
connections) happen on demand; timeouts, truncated streams and the backoff timing go through a
real local HTTP server (uvicorn serving a scripted ASGI app). tests/test_serve.py points the
backend at the real ``medlab serve`` on the tiny stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import httpx
import pytest
from helpers import Served

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


# --- fingerprint --------------------------------------------------------------------------


def vllm_like_listing(request: httpx.Request) -> httpx.Response:
    """A /v1/models answer as vLLM gives it: a fresh ``created`` and permission id each time."""
    entry = {
        "id": "served-a",
        "object": "model",
        "created": int(time.time() * 1000),
        "owned_by": "vllm",
        "root": "/models/Qwen2.5-7B-Instruct",
        "parent": None,
        "max_model_len": 32768,
        "permission": [
            {
                "id": f"modelperm-{uuid.uuid4().hex}",
                "object": "model_permission",
                "created": int(time.time() * 1000),
                "allow_sampling": True,
            }
        ],
    }
    return httpx.Response(200, json={"object": "list", "data": [entry]})


def test_fingerprint_ignores_volatile_model_listing_fields():
    def make(**kw):
        return OpenAIBackend(
            "http://test.local/v1", transport=httpx.MockTransport(vllm_like_listing), **kw
        )

    a, b = make(), make()
    assert a.fingerprint == b.fingerprint  # a new connection: same weights, same fingerprint
    assert "permission" not in a.info()["server"] and "created" not in a.info()["server"]
    assert a.info()["server"]["root"] == "/models/Qwen2.5-7B-Instruct"
    pinned = make(revision="a09a35458c702b33eeacc393d103063234e8bc28")
    assert (
        pinned.fingerprint == make(revision="a09a35458c702b33eeacc393d103063234e8bc28").fingerprint
    )
    assert pinned.fingerprint not in (a.fingerprint, make(revision="other").fingerprint)
    assert pinned.info()["revision"] == "a09a35458c702b33eeacc393d103063234e8bc28"


# --- partial failures ---------------------------------------------------------------------


def by_content(request: httpx.Request) -> httpx.Response:
    """Answers by the last message: "bad" -> 400, "down" -> 500 every time, else an answer."""
    if request.url.path.endswith("/models"):
        return httpx.Response(200, json=MODELS)
    question = json.loads(request.content)["messages"][-1]["content"]
    if question.startswith("bad"):
        return httpx.Response(400, json={"error": {"message": f"{question}: bad request"}})
    if question.startswith("down"):
        return httpx.Response(500, text="upstream exploded")
    return httpx.Response(200, content=sse(f"答{question}"))


def test_one_failed_request_keeps_the_others_answers():
    from medlab.models.base import BatchError

    b = OpenAIBackend(
        "http://test.local/v1", transport=httpx.MockTransport(by_content), backoff_s=0.001
    )
    convs = [[{"role": "user", "content": q}] for q in ("q0", "bad1", "q2", "down3")]
    with pytest.raises(BatchError) as info:
        b.generate(convs)
    e = info.value
    assert [c.text if c else None for c in e.completions] == ["答q0", None, "答q2", None]
    assert e.errors[0] is None and e.errors[2] is None
    assert "400" in e.errors[1] and "bad1: bad request" in e.errors[1]
    assert "500" in e.errors[3] and "after 4 attempts" in e.errors[3]


def test_every_request_failing_alike_raises_that_error():
    from medlab.models.base import BatchError

    b = OpenAIBackend(
        "http://test.local/v1", transport=httpx.MockTransport(by_content), backoff_s=0.001
    )
    with pytest.raises(OpenAIBackendError, match="answered 400") as info:
        b.generate([[{"role": "user", "content": "bad"}]] * 3)
    assert not isinstance(info.value, BatchError)
    with pytest.raises(BatchError) as mixed:  # different errors: each keeps its own
        b.generate([[{"role": "user", "content": "bad"}], [{"role": "user", "content": "down"}]])
    assert mixed.value.completions == [None, None]
    assert "400" in mixed.value.errors[0] and "500" in mixed.value.errors[1]


# --- a real local HTTP server: timeouts, truncated streams, backoff -----------------------


class Scripted:
    """An ASGI app: lists MODELS, plays one step per chat request (then answers normally) and
    records when each chat request arrived and how many the client gave up before the end."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.arrivals: list[float] = []
        self.clients: list[tuple] = []  # (host, port) of each chat request's connection
        self.abandoned = 0  # requests whose client hung up before the answer was sent

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["path"].endswith("/models"):
            return await respond(send, 200, json.dumps(MODELS).encode())
        self.arrivals.append(time.monotonic())
        self.clients.append(tuple(scope["client"]))
        step = self.steps.pop(0) if self.steps else answer()

        async def disconnected():
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.ensure_future(step(send)), asyncio.ensure_future(disconnected())]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        self.abandoned += tasks[0] not in done  # given up, not answered
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def respond(send, status: int, body: bytes, headers: dict | None = None) -> None:
    head = [(b"content-type", b"application/json")]
    head += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def status(code: int, **headers: str):
    async def step(send):
        await respond(send, code, b'{"error": {"message": "try later"}}', headers)

    return step


def answer(*pieces: str, delay_s: float = 0.0, complete: bool = True, repeat: int = 1):
    """A 200 SSE stream of ``pieces`` (``repeat`` times, ``delay_s`` apart); without
    ``complete`` it ends after the content: no finish_reason, no [DONE]."""

    async def step(send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        events = sse(*(pieces or ("好", "的")) * repeat).decode().split("\n\n")[:-1]
        events = [e + "\n\n" for e in events]
        if not complete:
            events = [e for e in events if "finish_reason" not in e and "[DONE]" not in e]
        for event in events:
            await asyncio.sleep(delay_s)
            await send({"type": "http.response.body", "body": event.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return step


@pytest.fixture
def local():
    servers = []

    def start(*steps) -> tuple[Scripted, str]:
        app = Scripted(*steps)
        servers.append(Served(app, lifespan="off"))
        return app, servers[-1].url + "/v1"

    yield start
    for s in servers:
        s.stop()


Q = [[{"role": "user", "content": "q"}]]


def test_a_slowly_streamed_answer_times_out_as_a_whole(local):
    # a token every 50 ms for 2 s: no single read is slow, the whole answer is
    app, url = local(answer("字", delay_s=0.05, repeat=40), answer("字", delay_s=0.05, repeat=40))
    b = OpenAIBackend(url, request_timeout_s=0.4, max_retries=1, backoff_s=0.01)
    with pytest.raises(OpenAIBackendError, match="after 2 attempts.*within 0.4 s"):
        b.generate(Q)
    # the client hung up on both streams mid-way (a per-read timeout would have read them
    # whole); the server notices the last hang-up a moment after the client has moved on
    deadline = time.monotonic() + 10
    while app.abandoned < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.abandoned == 2 and len(app.arrivals) == 2 and b.retries == 1


def test_a_timed_out_attempt_is_retried(local):
    app, url = local(answer("慢", delay_s=0.05, repeat=40), answer("快"))
    b = OpenAIBackend(url, request_timeout_s=0.4, max_retries=2, backoff_s=0.01)
    [c] = b.generate(Q)
    assert c.text == "快" and b.retries == 1 and len(app.arrivals) == 2


def test_a_truncated_stream_is_retried_then_an_error(local):
    app, url = local(answer("半", complete=False))
    b = OpenAIBackend(url, max_retries=2, backoff_s=0.01)
    [c] = b.generate(Q)
    assert c.text == "好的" and b.retries == 1 and len(app.arrivals) == 2

    app, url = local(*[answer("半", "截", complete=False)] * 3)
    b = OpenAIBackend(url, max_retries=2, backoff_s=0.01)
    with pytest.raises(OpenAIBackendError, match="after 3 attempts.*without a finish_reason"):
        b.generate(Q)
    assert len(app.arrivals) == 3


def test_connections_are_reused_after_a_complete_stream(local):
    app, url = local()
    b = OpenAIBackend(url, concurrency=1)
    out = b.generate([[{"role": "user", "content": str(i)}] for i in range(4)])
    assert [c.text for c in out] == ["好的"] * 4
    assert len(set(app.clients)) == 1  # one keep-alive connection, not one per request


def test_backoff_grows_exponentially(local):
    app, url = local(status(503), status(500), status(502))
    b = OpenAIBackend(url, max_retries=3, backoff_s=0.1)
    [c] = b.generate(Q)
    assert c.text == "好的" and b.retries == 3
    gaps = [b2 - a for a, b2 in zip(app.arrivals, app.arrivals[1:])]
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps):  # 0.1, 0.2, 0.4 s (plus the round trip)
        assert gap >= 0.1 * 2**attempt - 0.01, gaps
    assert gaps[0] < 0.35, gaps  # not a fixed long wait: the first retry comes quickly


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured(local, code):
    app, url = local(status(code, **{"Retry-After": "0.4"}))
    b = OpenAIBackend(url, max_retries=1, backoff_s=0.001)  # the own backoff would be 1 ms
    [c] = b.generate(Q)
    assert c.text == "好的" and b.retries == 1
    assert app.arrivals[1] - app.arrivals[0] >= 0.39


def test_retry_after_header_forms():
    from medlab.models.openai import _retry_after

    assert _retry_after("2") == 2.0 and _retry_after("0.5") == 0.5
    assert _retry_after("600") == 30.0  # capped
    assert _retry_after(None) is None and _retry_after("soon") is None
    when = "Wed, 21 Oct 2015 07:28:05 GMT"  # an HTTP date: seconds from now
    assert _retry_after(when, now=1445412480.0) == 5.0
    assert _retry_after(when, now=1445412490.0) == 0.0


def test_several_servers_share_the_requests_least_busy_first():
    fast, slow = Server(delay_s=0.01), Server(delay_s=0.3)
    hosts = {"fast.local": fast, "slow.local": slow}

    async def route(request: httpx.Request) -> httpx.Response:
        return await hosts[request.url.host](request)

    b = OpenAIBackend(
        "http://fast.local/v1,http://slow.local",
        transport=httpx.MockTransport(route),
        concurrency=2,
    )
    assert b.base_urls == ["http://fast.local/v1", "http://slow.local/v1"]
    out = b.generate(Q * 12)
    assert [c.text for c in out] == ["好的"] * 12
    assert len(fast.bodies) + len(slow.bodies) == 12
    assert fast.max_in_flight <= 2 and slow.max_in_flight <= 2  # concurrency is per server
    assert len(slow.bodies) >= 1 and len(fast.bodies) > 2 * len(slow.bodies)
    assert b.info()["base_urls"] == b.base_urls
    assert b.fingerprint != backend(Server()).fingerprint


def test_a_retry_moves_to_the_next_server():
    broken = Server([httpx.Response(500, json={"error": "down"})] * 10)
    healthy = Server()
    hosts = {"a.local": broken, "b.local": healthy}

    async def route(request: httpx.Request) -> httpx.Response:
        return await hosts[request.url.host](request)

    b = OpenAIBackend(
        ["http://a.local/v1", "http://b.local/v1"],
        transport=httpx.MockTransport(route),
        concurrency=1,
        backoff_s=0.001,
    )
    assert [c.text for c in b.generate(Q * 4)] == ["好的"] * 4
    assert len(healthy.bodies) == 4


def test_every_server_must_serve_the_model():
    other = {"object": "list", "data": [{"id": "something-else"}]}

    async def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "b.local":
            return httpx.Response(200, json=other)
        return await Server()(request)

    with pytest.raises(OpenAIBackendError, match="b.local/v1/models does not list 'served-a'"):
        OpenAIBackend("http://a.local/v1,http://b.local/v1", transport=httpx.MockTransport(route))
    with pytest.raises(ValueError, match="twice"):
        OpenAIBackend("http://a.local/v1,http://a.local", transport=httpx.MockTransport(route))
