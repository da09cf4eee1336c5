"""CachedBackend on the real tiny-qwen2 stand-in and a real SQLite cache: hits and misses, the
same answers back from the cache, one backend call for the misses, the runner and the chatbot
served from the same cache entries, and a cache closed only by whoever opened it."""

from __future__ import annotations

import pytest

from medlab.cache import SQLiteCache
from medlab.chatbot import MedicalChatbot
from medlab.evalsets import load_items
from medlab.models.base import BatchError
from medlab.models.cached import CachedBackend, cache_key
from medlab.runner import run_eval
from medlab.types import Completion, GenerationParams

GREEDY = GenerationParams(temperature=0.0, max_new_tokens=8, seed=0)
PROMPT = "gp_assistant@v1"


def conv(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


class Recording:
    """The real model, recording how many conversations each generate call was given."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def generate(self, conversations, params=None, schema=None):
        self.calls.append(len(conversations))
        return self.model.generate(conversations, params, schema=schema)


class CountingCache(SQLiteCache):
    """A real SQLite cache that counts how often it was closed."""

    closes = 0

    def close(self) -> None:
        self.closes += 1
        super().close()


def test_hits_and_misses_and_the_same_answers_back(tiny_model, tmp_path):
    model = Recording(tiny_model)
    cached = CachedBackend(model, SQLiteCache(tmp_path / "c.sqlite"))
    first = cached.generate([conv("头痛"), conv("发烧"), conv("咳嗽")], GREEDY)
    assert (cached.hits, cached.misses, model.calls) == (0, 3, [3])
    assert [c.cached for c in first] == [False] * 3
    again = cached.generate([conv("发烧"), conv("腹泻"), conv("头痛")], GREEDY)
    assert (cached.hits, cached.misses, model.calls) == (2, 4, [3, 1])  # only the miss generated
    assert [c.cached for c in again] == [True, False, True]
    for old, new in ((first[1], again[0]), (first[0], again[2])):
        assert (new.text, new.completion_tokens, new.latency_s) == (
            old.text, old.completion_tokens, old.latency_s,
        )  # fmt: skip


def test_the_key_holds_params_schema_and_repeat(tiny_model, tmp_path):
    cached = CachedBackend(tiny_model, SQLiteCache(tmp_path / "c.sqlite"))
    cached.generate([conv("头痛")], GREEDY)
    cached.generate([conv("头痛")], GREEDY, repeat=1)  # another repeat: another answer
    cached.generate([conv("头痛")], GenerationParams(temperature=0.0, max_new_tokens=8, seed=1))
    assert (cached.hits, cached.misses) == (0, 3)
    [c] = cached.generate([conv("头痛")], GREEDY, repeat=[1])
    assert c.cached and (cached.hits, cached.misses) == (1, 3)
    key = cache_key(tiny_model.fingerprint, conv("头痛"), GREEDY, None, 1)
    assert cached.cache.get(key).text == c.text


def test_without_a_cache_every_conversation_is_generated(tiny_model):
    model = Recording(tiny_model)
    cached = CachedBackend(model, None)
    cached.generate([conv("头痛")], GREEDY)
    cached.generate([conv("头痛")], GREEDY)
    assert model.calls == [1, 1] and cached.misses == 2 and cached.name == tiny_model.name


class HalfFails:
    """A backend on which every request about 发烧 fails, the others are answered (as an HTTP
    server answers requests one by one)."""

    name, fingerprint = "half", "half-fails"

    def generate(self, conversations, params=None, schema=None):
        failed = ["发烧" in c[-1]["content"] for c in conversations]
        raise BatchError([None if f else Completion("答", 3, 1, 0.01, 0.02) for f in failed],
                         ["HTTP 503" if f else None for f in failed])  # fmt: skip


def test_a_partly_failed_call_keeps_and_stores_what_came_back(tmp_path):
    cache = SQLiteCache(tmp_path / "c.sqlite")
    cache.put(cache_key("half-fails", conv("早"), GREEDY, None), Completion("早安", 2, 1, 0.1, 0.2))
    cached = CachedBackend(HalfFails(), cache)
    convs = [conv("早"), conv("头痛"), conv("发烧")]
    with pytest.raises(BatchError) as raised:  # one entry per conversation, the cached one too
        cached.generate(convs, GREEDY)
    assert [c and c.text for c in raised.value.completions] == ["早安", "答", None]
    assert raised.value.errors == [None, None, "HTTP 503"]
    answers, errors = cached.answer(convs, GREEDY)  # the stored answer is a hit now
    assert [c and c.text for c in answers] == ["早安", "答", None]
    assert errors == [None, None, "HTTP 503"] and cached.hits == 3


def test_runner_and_chatbot_share_the_cache_entries(tiny_model, tmp_path):
    cache = CountingCache(tmp_path / "shared.sqlite")
    runs = tmp_path / "runs"
    first = run_eval(tiny_model, [PROMPT], ["triage_zh"], params=GREEDY, structured=False,
                     limit=2, cache=cache, out_dir=runs, progress=False)  # fmt: skip
    assert first.results["counts"]["generated"] == 2
    assert cache.closes == 0  # the caller's cache: run_eval leaves it open
    model = Recording(tiny_model)
    bot = MedicalChatbot(model, prompt=PROMPT, mode="normal", params=GREEDY, cache=cache,
                         knowledge=False)  # fmt: skip
    [item] = load_items("triage_zh", limit=1)
    [answer] = bot.respond_batch([[m.to_dict() for m in item.messages]])
    # the runner's answer to this item is the chatbot's first answer, from the cache
    assert answer.completions[0].cached
    assert answer.completions[0].text == first.records[0].completion.text
    assert model.calls == [1] * (len(answer.completions) - 1)  # at most the repair generated
    again = run_eval(tiny_model, [PROMPT], ["triage_zh"], params=GREEDY, structured=False,
                     limit=2, cache=cache, out_dir=runs, progress=False)  # fmt: skip
    assert again.results["counts"]["cached"] == 2 and again.results["counts"]["generated"] == 0
    bot.close()
    assert cache.closes == 0  # nor does the chatbot close a cache it was given
    cache.close()


def test_a_cache_opened_from_a_spec_is_closed_by_its_opener(tiny_model, tmp_path, monkeypatch):
    closed: list[str] = []
    real_close = SQLiteCache.close

    def close(self):
        closed.append(self.path.name)
        real_close(self)

    monkeypatch.setattr(SQLiteCache, "close", close)
    run_eval(tiny_model, [PROMPT], ["triage_zh"], params=GREEDY, structured=False, limit=1,
             cache=str(tmp_path / "run.sqlite"), out_dir=tmp_path / "runs", progress=False)  # fmt: skip
    assert closed == ["run.sqlite"]
    bot = MedicalChatbot(tiny_model, prompt=PROMPT, cache=str(tmp_path / "bot.sqlite"),
                         knowledge=False)  # fmt: skip
    bot.close()
    assert closed == ["run.sqlite", "bot.sqlite"]
