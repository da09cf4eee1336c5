"""Response cache: keys, SQLite (concurrent processes), Redis (TTL, server going away)."""

from __future__ import annotations

import multiprocessing
import shutil
import socket
import subprocess
import time
import uuid
import warnings

import pytest

from medlab.cache import RedisCache, SQLiteCache, cache_key, open_cache
from medlab.types import Completion, GenerationParams, Message

MSGS = [Message("system", "你是全科医生助手。"), Message("user", "我头痛三天了怎么办？")]
PARAMS = GenerationParams(temperature=0.3, top_p=0.9, max_new_tokens=64, seed=0)
SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}}
BASE = ("fp-abc", MSGS, PARAMS, SCHEMA, 0)


def _completion(text: str = '{"summary": "可能是紧张性头痛"}') -> Completion:
    return Completion(text, prompt_tokens=31, completion_tokens=12, ttft_s=0.125, latency_s=0.5)


@pytest.mark.parametrize(
    "changed",
    [
        ("fp-abd", MSGS, PARAMS, SCHEMA, 0),
        ("fp-abc", [MSGS[0], Message("user", "我头痛四天了怎么办？")], PARAMS, SCHEMA, 0),
        ("fp-abc", [Message("system", "v2"), MSGS[1]], PARAMS, SCHEMA, 0),
        ("fp-abc", MSGS, GenerationParams(temperature=0.7, max_new_tokens=64), SCHEMA, 0),
        ("fp-abc", MSGS, GenerationParams(max_new_tokens=65), SCHEMA, 0),
        ("fp-abc", MSGS, GenerationParams(max_new_tokens=64, seed=1), SCHEMA, 0),
        ("fp-abc", MSGS, PARAMS, None, 0),
        ("fp-abc", MSGS, PARAMS, {"type": "object"}, 0),
        ("fp-abc", MSGS, PARAMS, SCHEMA, 1),
    ],
    ids=[
        "fingerprint",
        "user",
        "system",
        "temperature",
        "max_tokens",
        "seed",
        "no-schema",
        "other-schema",
        "repeat",
    ],  # fmt: skip
)
def test_cache_key_changes_with_every_component(changed):
    assert cache_key(*changed) != cache_key(*BASE)


def test_cache_key_follows_the_order_of_the_fields():
    # constrained decoding writes the fields in schema order: another order, another answer
    two = {"type": "object", "properties": {"summary": {"type": "string"}, "analysis": {}}}
    swapped = {**two, "properties": dict(reversed(two["properties"].items()))}
    assert cache_key("fp", MSGS, PARAMS, two) != cache_key("fp", MSGS, PARAMS, swapped)
    nested = {"type": "object", "properties": {"x": two}}
    inner = {"type": "object", "properties": {"x": swapped}}
    assert cache_key("fp", MSGS, PARAMS, nested) != cache_key("fp", MSGS, PARAMS, inner)
    assert cache_key("fp", MSGS, PARAMS, two) == cache_key("fp", MSGS, PARAMS, dict(two))


def test_cache_key_is_stable_and_canonical():
    key = cache_key(*BASE)
    assert len(key) == 64 and int(key, 16) >= 0
    as_dicts = [m.to_dict() for m in MSGS]
    reordered_schema = {"properties": {"summary": {"type": "string"}}, "type": "object"}
    assert cache_key("fp-abc", as_dicts, PARAMS.to_dict(), reordered_schema, 0) == key


def test_sqlite_roundtrip_keeps_timings_and_flags_cached(tmp_path):
    cache = SQLiteCache(tmp_path / "c.sqlite")
    key = cache_key(*BASE)
    assert cache.get(key) is None
    original = _completion()
    cache.put(key, original)
    got = cache.get(key)
    assert got is not None and got.cached is True
    assert (got.text, got.ttft_s, got.latency_s, got.completion_tokens) == (
        original.text, 0.125, 0.5, 12,
    )  # fmt: skip
    assert original.cached is False  # the caller's object is not touched
    mode = cache._conn().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    # another process (another connection) sees it
    assert SQLiteCache(tmp_path / "c.sqlite").get(key).text == original.text


def _writer(path: str, worker: int, n: int) -> None:
    cache = SQLiteCache(path)
    for i in range(n):
        cache.put(f"{worker}-{i}", _completion(f"answer {worker}-{i}"))
        assert cache.get(f"{worker}-{i}").text == f"answer {worker}-{i}"


def test_sqlite_is_safe_for_concurrent_processes(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = multiprocessing.get_context("spawn")  # separate processes, like two notebooks
    procs = [ctx.Process(target=_writer, args=(path, w, 150)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    cache = SQLiteCache(path)
    assert len(cache) == 450
    assert cache.get("2-149").text == "answer 2-149"


@pytest.mark.parametrize(
    ("spec", "kind"),
    [(None, None), ("off", None), (False, None), ("sqlite", SQLiteCache),
     ("{tmp}/x.sqlite", SQLiteCache), ("redis://127.0.0.1:1/0", RedisCache)],
)  # fmt: skip
def test_open_cache_specs(spec, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    if isinstance(spec, str):
        spec = spec.format(tmp=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nothing listens on port 1
        cache = open_cache(spec)
    assert (cache is None) if kind is None else isinstance(cache, kind)
    if spec == "sqlite":
        assert cache.path == tmp_path / "home" / "cache.sqlite"


def test_open_cache_rejects_unknown_specs():
    with pytest.raises(ValueError, match="memcached://"):
        open_cache("memcached://localhost")
    with pytest.raises(ValueError, match="cache spec"):
        open_cache(42)


@pytest.mark.redis
def test_redis_roundtrip_and_ttl(redis_url):
    cache = RedisCache(redis_url, ttl_s=1, prefix=f"medlab-test-{uuid.uuid4().hex}:")
    key = cache_key(*BASE)
    assert cache.get(key) is None
    cache.put(key, _completion())
    got = cache.get(key)
    assert got.cached is True and got.ttft_s == 0.125 and got.latency_s == 0.5
    assert 0 < cache._client.pttl(cache.prefix + key) <= 1000
    time.sleep(1.2)
    assert cache.get(key) is None  # expired


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _own_redis_server() -> tuple[subprocess.Popen, str]:
    """A redis-server of this test's own on a free port (stopping it affects no one else)."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):  # wait until the server accepts connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, f"redis://127.0.0.1:{port}/0"


@pytest.mark.redis
def test_redis_server_going_away_warns_once_and_continues_uncached():
    server, url = _own_redis_server()
    try:
        cache = RedisCache(url, ttl_s=60)
        assert cache.available
        cache.put("k1", _completion())
        assert cache.get("k1").cached is True
    finally:
        server.terminate()  # only the server this test started
        server.wait(10)
    with pytest.warns(RuntimeWarning, match="unreachable") as record:
        assert cache.get("k1") is None
        cache.put("k2", _completion())
        assert cache.get("k2") is None
    assert len(record) == 1
    assert cache.available is False


FAST = GenerationParams(temperature=0.0, max_new_tokens=4)


def _eval(model, cache, tmp_path, **kw):
    from medlab.runner import run_eval

    return run_eval(
        model, ["gp_assistant@v1"], ["triage_zh"], params=FAST, structured=False, limit=3,
        cache=cache, out_dir=tmp_path / "runs", progress=False, **kw,
    )  # fmt: skip


@pytest.mark.redis
def test_eval_rerun_is_served_from_the_real_redis_server(redis_url, tiny_model, tmp_path):
    cache = RedisCache(redis_url, ttl_s=600, prefix=f"medlab-test-{uuid.uuid4().hex}:")
    first = _eval(tiny_model, cache, tmp_path)
    again = _eval(tiny_model, cache, tmp_path)
    assert first.results["counts"]["generated"] == 3 and first.results["counts"]["cached"] == 0
    assert again.results["counts"]["cached"] == 3 and again.results["counts"]["generated"] == 0
    assert list(again.samples["text"]) == list(first.samples["text"])
    assert again.samples["cached"].all()


class _StopsServerAfterFirstBatch:
    """The stand-in, but the Redis server is stopped as soon as the first batch is answered."""

    def __init__(self, inner, server):
        self.inner, self.server, self.calls = inner, server, 0
        self.name, self.fingerprint = inner.name, inner.fingerprint
        self.context_length, self.batch_size = inner.context_length, 1

    def generate(self, conversations, params=None, schema=None):
        out = self.inner.generate(conversations, params, schema=schema)
        self.calls += 1
        if self.calls == 1:
            self.server.terminate()
            self.server.wait(10)
        return out

    def count_tokens(self, conversation):
        return self.inner.count_tokens(conversation)

    def info(self):
        return self.inner.info()


@pytest.mark.redis
def test_eval_continues_uncached_when_redis_goes_away_mid_run(tiny_model, tmp_path):
    server, url = _own_redis_server()
    try:
        cache = RedisCache(url, ttl_s=60)
        model = _StopsServerAfterFirstBatch(tiny_model, server)
        with pytest.warns(RuntimeWarning, match="unreachable"):
            run = _eval(model, cache, tmp_path)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(10)
    assert model.calls == 3  # one batch per item: the run went on after the server died
    assert run.results["counts"]["generated"] == 3 and run.results["counts"]["errors"] == 0
    assert run.samples["error"].isna().all() and not run.samples["cached"].any()
