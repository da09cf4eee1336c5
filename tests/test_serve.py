"""``medlab serve`` on the tiny stand-in: the reference client unchanged, the official openai
client (plain and streamed), medlab's own OpenAI backend, batching, limits and clear errors."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests
from fastapi.testclient import TestClient
from helpers import Served

from medlab.chatbot import MedicalChatbot
from medlab.models.base import BatchError
from medlab.models.openai import OpenAIBackend, OpenAIBackendError
from medlab.serve import _params, _parse, create_app
from medlab.types import Completion, GenerationParams, Message, as_conversation

CAP = 12  # max_tokens cap: the random-weight stand-in only needs to emit a few tokens


@pytest.fixture(scope="module")
def bot_server(tiny_model):
    bot = MedicalChatbot(tiny_model, params=GenerationParams(max_new_tokens=CAP))
    served = Served(create_app(bot, max_tokens_cap=CAP))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def raw_server(tiny_model):
    served = Served(create_app(tiny_model, max_tokens_cap=CAP, batch_window_s=0.05))
    yield served
    served.stop()


def test_reference_client_runs_unchanged(bot_server):
    # --- the reference client, as users have it (only the port differs) ---
    url = f"{bot_server.url}/v1/chat/completions"
    headers = {"Content-Type": "application/json"}
    payload = {
        "model": "qwen2.5-7b-chat",
        "messages": [
            {"role": "system", "content": "你是一名专业的全科医生助手，请用 JSON 回答。"},
            {"role": "user", "content": "我最近头痛，晚上睡不好，怎么办？"},
        ],
        "response_format": {"type": "json_object"},
        "temperature": 0.3,
        "max_tokens": 8192,
    }
    response = requests.post(url, headers=headers, data=json.dumps(payload))
    result = json.loads(response.json()["choices"][0]["message"]["content"])
    # --- end of the reference client ---
    assert response.status_code == 200
    assert set(result) == {"summary", "analysis", "suggestions"}
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "qwen2.5-7b-chat"
    assert (
        body["usage"]["total_tokens"]
        == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert body["medlab"]["referral_level"] in ("emergency", "routine", "conditional", "none")


def test_official_openai_client_plain_and_streamed(bot_server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{bot_server.url}/v1", api_key="unused")
    messages = [{"role": "user", "content": "孩子发烧38度，精神还好，需要去医院吗？"}]
    r = client.chat.completions.create(
        model="qwen2.5-7b-chat",
        messages=messages,
        response_format={"type": "json_object"},
        temperature=0.3,
        max_tokens=64,
    )
    assert json.loads(r.choices[0].message.content)["summary"]
    assert r.usage.prompt_tokens > 0
    stream = client.chat.completions.create(
        model="qwen2.5-7b-chat",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        response_format={"type": "json_object"},
        max_tokens=64,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(text)["summary"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert [m.id for m in client.models.list().data] == ["qwen2.5-7b-chat"]


def test_medlab_openai_backend_against_the_served_stand_in(raw_server, tiny_model):
    backend = OpenAIBackend(f"{raw_server.url}/v1", concurrency=4)
    assert backend.model_name == "qwen2.5-7b-chat"
    assert backend.context_length == tiny_model.context_length
    convs = [[{"role": "user", "content": f"问题{i}"}] for i in range(4)]
    out = backend.generate(convs, GenerationParams(temperature=0.7, max_new_tokens=8, seed=1))
    assert len(out) == 4
    for c in out:
        assert 1 <= c.completion_tokens <= 8 and c.latency_s > 0
        assert c.prompt_tokens == tiny_model.count_tokens(convs[0])
        assert c.ttft_s is None or c.ttft_s <= c.latency_s


def test_concurrent_requests_share_a_batch_and_max_tokens_is_clamped(raw_server):
    queue = raw_server.app.state.queue
    before = len(queue.batches)
    payload = {
        "messages": [{"role": "user", "content": "你好"}],
        "max_tokens": 8192,
        "temperature": 0,
    }

    def post(_):
        return requests.post(
            f"{raw_server.url}/v1/chat/completions", json=payload, timeout=300
        ).json()

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(post, range(6)))
    assert all(r["usage"]["completion_tokens"] <= CAP for r in results)
    assert max(queue.batches[before:]) > 1  # at least two requests went through one generate call


@pytest.fixture(scope="module")
def client(tiny_model):
    app = create_app(tiny_model, api_key="secret", max_request_bytes=2000, max_tokens_cap=CAP)
    return TestClient(app)


AUTH = {"Authorization": "Bearer secret"}


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ("{not json", 400, "not valid JSON"),
        ("[1, 2]", 400, "JSON object"),
        ({"model": "qwen2.5-7b-chat"}, 400, "messages"),
        ({"messages": []}, 400, "messages"),
        ({"messages": [{"role": "doctor", "content": "hi"}]}, 400, "messages.0.role"),
        ({"messages": [{"role": "user"}]}, 400, "messages.0.content"),
        ({"messages": [{"role": "user", "content": "hi"}], "temperature": -1}, 400, "temperature"),
        ({"messages": [{"role": "user", "content": "hi"}], "n": 2}, 400, "n"),
        (
            {"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml"}},
            400,
            "response_format",
        ),
        (
            {
                "messages": [{"role": "user", "content": "hi"}],
                "response_format": {"type": "json_schema"},
            },
            400,
            "json_schema",
        ),
        ({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}, 404, "gpt-4"),
        (
            {
                "messages": [{"role": "user", "content": "hi"}],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "a", "schema": {"type": "strin"}},
                },
            },
            400,
            "not a valid JSON Schema",
        ),
        ({"messages": [{"role": "user", "content": "x" * 3000}]}, 413, "limit"),
    ],
)
def test_bad_requests_get_clear_openai_errors(client, body, status, needle):
    data = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/v1/chat/completions", content=data, headers=AUTH)
    assert r.status_code == status
    error = r.json()["error"]
    assert needle in error["message"] and error["type"]


def test_api_key(client):
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    assert client.post("/v1/chat/completions", json=body).status_code == 401
    assert (
        client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    assert client.get("/v1/models").status_code == 401
    assert client.get("/health").json()["status"] == "ok"  # health needs no key
    r = client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] <= 2


def test_chatbot_server_needs_a_user_message_last(tiny_model):
    bot = MedicalChatbot(tiny_model, params=GenerationParams(max_new_tokens=4))
    r = TestClient(create_app(bot)).post(
        "/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]}
    )
    assert r.status_code == 400 and "last message" in r.json()["error"]["message"]


def test_batch_queue_groups_by_key_and_propagates_errors():
    import asyncio

    from medlab.serve import BatchQueue

    calls = []

    def run(key, payloads):
        calls.append((key, list(payloads)))
        if key == "bad":
            raise ValueError("too long")
        return [p * 10 for p in payloads]

    queue = BatchQueue(run, window_s=0.05, max_batch=3)

    async def main():
        jobs = [
            queue.submit("a", 1),
            queue.submit("b", 2),
            queue.submit("a", 3),
            queue.submit("a", 4),
            queue.submit("a", 5),
            queue.submit("bad", 6),
        ]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(main())
    assert results[:5] == [10, 20, 30, 40, 50]
    assert isinstance(results[5], ValueError)
    assert ("a", [1, 3]) in calls and ("b", [2]) in calls  # first batch: 3 requests, two keys
    assert all(len(p) <= 3 for _, p in calls)


# --- near the context limit ---------------------------------------------------------------

LONG_QUESTION = "我最近头痛，晚上睡不好，白天也没有精神。" * 2150  # ~25.8K Qwen2.5 tokens


def test_long_question_with_the_reference_payload_is_clamped_not_refused(tiny_model):
    bot = MedicalChatbot(tiny_model)  # no --max-tokens-cap: max_tokens 8192 must be clamped
    served = Served(create_app(bot))
    try:
        payload = {
            "model": "qwen2.5-7b-chat",
            "messages": [
                {"role": "system", "content": "你是一名专业的全科医生助手，请用 JSON 回答。"},
                {"role": "user", "content": LONG_QUESTION},
            ],
            "response_format": {"type": "json_object"},
            "temperature": 0.3,
            "max_tokens": 8192,
        }
        response = requests.post(
            f"{served.url}/v1/chat/completions",
            headers={"Content-Type": "application/json"},
            data=json.dumps(payload),
            timeout=600,
        )
        assert response.status_code == 200, response.text[:500]
        result = json.loads(response.json()["choices"][0]["message"]["content"])
        assert set(result) == {"summary", "analysis", "suggestions"}
        assert response.json()["usage"]["prompt_tokens"] > 25_000
    finally:
        served.stop()


@pytest.mark.parametrize("ground", [False, True])
def test_max_tokens_leaves_room_for_the_prompt_the_chatbot_really_sends(tiny_model, ground):
    bot = MedicalChatbot(tiny_model, ground=ground)
    caller = "请用 JSON 回答，并说明需要注意的危险信号。" * 400  # ~5.2K tokens
    question = "我爸爸突然口角歪斜，说话不清楚，" * 2000  # ~22K tokens
    body = {
        "messages": [{"role": "system", "content": caller}, {"role": "user", "content": question}],
        "max_tokens": 8192,
    }
    messages = [Message("system", caller), Message("user", question)]
    params = _params(_parse(json.dumps(body).encode()), bot, tiny_model, messages, None)
    sent = [Message("system", bot.system_prompt(question, caller)), Message("user", question)]
    assert params.max_new_tokens < 8192  # clamped
    assert tiny_model.count_tokens(sent) + params.max_new_tokens <= tiny_model.context_length
    assert bot.trim(sent, bot.budget(params)) == sent  # what respond_batch does: it fits


# --- request size ---------------------------------------------------------------------------


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(tiny_model):
    served = Served(create_app(tiny_model, max_request_bytes=2000, max_tokens_cap=CAP))
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=20) as conn:
            conn.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b'{"messages": [{"role": "user", "content": "' + b"x" * 3000
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            # the body is not finished (no last chunk): the answer must not wait for it
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                data = conn.recv(65536)
                if not data:
                    break
                reply += data
            reply = reply.decode("latin-1")
        assert reply.startswith("HTTP/1.1 413"), reply[:200]
        assert "2000-byte limit" in reply and '"error"' in reply
    finally:
        served.stop()


# --- failures inside the server ---------------------------------------------------------------


@dataclass
class Stub:
    """A backend answering "答<question>", or failing as ``fail(conversations)`` decides."""

    fail: object = None
    name: str = "stub"
    fingerprint: str = "stub"
    context_length: int = 4096
    calls: list = field(default_factory=list)

    def count_tokens(self, conversation) -> int:
        return 8 + sum(len(m.content) for m in as_conversation(conversation))

    def generate(self, conversations, params=None, schema=None):
        self.calls.append(len(conversations))
        if self.fail is not None:
            self.fail(conversations)
        return [
            Completion(
                text=f"答{as_conversation(c)[-1].content}",
                prompt_tokens=self.count_tokens(c),
                completion_tokens=2,
                ttft_s=0.0,
                latency_s=0.0,
            )
            for c in conversations
        ]


def raise_(error):
    def fail(conversations):
        raise error

    return fail


def ask(content: str, **more) -> dict:
    return {"messages": [{"role": "user", "content": content}], **more}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("CUDA out of memory"), 500, "internal_error"),
        (ValueError("an internal check failed"), 500, "internal_error"),  # not the client's
        (OpenAIBackendError("http://gpu/v1/chat/completions answered 503"), 502, "upstream_error"),
    ],
)
def test_backend_failures_get_openai_shaped_5xx(error, status, code):
    client = TestClient(create_app(Stub(fail=raise_(error))))
    r = client.post("/v1/chat/completions", json=ask("头痛"))
    assert r.status_code == status
    body = r.json()["error"]
    assert body["type"] == "server_error" and body["code"] == code
    assert str(error) in body["message"]


def test_an_unexpected_error_outside_the_model_is_a_json_500():
    class Broken(Stub):
        def count_tokens(self, conversation):
            raise KeyError("tokenizer state")

    client = TestClient(create_app(Broken()), raise_server_exceptions=False)
    r = client.post("/v1/chat/completions", json=ask("头痛"))
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert (
        r.json()["error"]["type"] == "server_error" and "KeyError" in r.json()["error"]["message"]
    )


def test_unknown_routes_get_openai_shaped_errors():
    client = TestClient(create_app(Stub()))
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    r = client.get("/v1/chat/completions")
    assert r.status_code == 405 and r.json()["error"]["message"]


def post_together(served, bodies: list[dict]) -> list[requests.Response]:
    url = f"{served.url}/v1/chat/completions"
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda b: requests.post(url, json=b, timeout=60), bodies))


def test_raw_batch_with_one_failed_upstream_request_answers_the_others():
    def fail(conversations):
        questions = [as_conversation(c)[-1].content for c in conversations]
        if "坏" in questions:
            if len(questions) == 1:
                raise OpenAIBackendError("answered 400: bad request")
            ok = [Completion(f"答{q}", 1, 2, 0.0, 0.0) if q != "坏" else None for q in questions]
            errors = [None if q != "坏" else "answered 400: bad request" for q in questions]
            raise BatchError(ok, errors)

    stub = Stub(fail=fail)
    served = Served(create_app(stub, batch_window_s=0.5))
    try:
        good, bad = post_together(served, [ask("好"), ask("坏")])
    finally:
        served.stop()
    assert stub.calls[0] == 2  # both went through one generate call
    assert good.status_code == 200 and good.json()["choices"][0]["message"]["content"] == "答好"
    assert bad.status_code == 502 and "answered 400: bad request" in bad.json()["error"]["message"]


def test_chatbot_batch_with_one_failing_request_answers_the_others():
    def fail(conversations):
        if any("炸" in as_conversation(c)[-1].content for c in conversations):
            raise RuntimeError("this prompt breaks the model")

    stub = Stub(fail=fail)
    bot = MedicalChatbot(stub, mode="normal", knowledge=False)
    served = Served(create_app(bot, batch_window_s=0.5))
    try:
        good, bad = post_together(served, [ask("头痛怎么办"), ask("炸")])
    finally:
        served.stop()
    assert stub.calls == [2, 1, 1]  # the batch failed, then each request alone
    assert (
        good.status_code == 200
        and good.json()["choices"][0]["message"]["content"] == "答头痛怎么办"
    )
    assert bad.status_code == 500 and "breaks the model" in bad.json()["error"]["message"]


def test_a_json_schema_is_answered_in_its_own_field_order(client):
    schema = {"type": "object", "properties": {"zeta": {"type": "string", "maxLength": 5},
              "alpha": {"type": "string", "maxLength": 5}}, "required": ["zeta", "alpha"]}  # fmt: skip
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}}  # fmt: skip
    r = client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"].startswith('{"zeta"')
