"""Probes of a careless or hostile user (issue 17): one request must not stall the server, one
bad item must not fail its batch, a damaged cache must not crash a run, and no user mistake
ends in a traceback. Each test failed on the code before the fix."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import warnings
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from helpers import Scripted, Served

from medlab.cache import SQLiteCache
from medlab.chatbot import MedicalChatbot
from medlab.cli import main as medlab_main
from medlab.evalsets import EvalSetError, load_items
from medlab.models.cancel import GenerationCancelled, cancel_scope
from medlab.prompts import PromptError, load_prompt
from medlab.records import samples_frame
from medlab.report import _sample_rows, sample_failures
from medlab.runner import RunLockedError, run_eval
from medlab.serve import BatchQueue, create_app
from medlab.types import Completion, GenerationParams, Message, SampleResult

ITEM = {"id": "a-1", "task": "triage", "language": "zh", "question": "发烧38度，怎么办？",
        "triage": "self_care", "red_flags": [], "rationale": "A mild fever.",
        "specialty": "general", "age_group": "adult"}  # fmt: skip
TINY = GenerationParams(temperature=0, max_new_tokens=2)


def write_set(path: Path, *records: dict, raw: str = "") -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + raw)
    return path


def chat(**body):
    return {"messages": [{"role": "user", "content": "头痛怎么办？"}], **body}


# --- serve: one request cannot hold the model -----------------------------------------------


def test_max_tokens_has_a_default_cap():
    backend = Scripted("好的")
    client = TestClient(create_app(backend))
    r = client.post("/v1/chat/completions", json=chat(max_tokens=1_000_000_000))
    assert r.status_code == 200
    assert backend.calls[0][1].max_new_tokens == 1024  # not the whole 4096-token context


def test_generation_stops_once_nobody_waits(tiny_model):
    steps = []

    def check() -> bool:
        steps.append(1)
        return len(steps) > 3

    conv = [Message("user", "头痛")]
    with cancel_scope(check), pytest.raises(GenerationCancelled):
        tiny_model.generate([conv], GenerationParams(temperature=0, max_new_tokens=5000))
    assert len(steps) < 10  # stopped at the next step, not after 5000
    assert tiny_model.generate([conv], TINY)[0].completion_tokens <= 2  # no scope: unaffected


class Watched:
    """The tiny model, noting which of its generate calls were cancelled."""

    def __init__(self, model):
        self.model, self.cancelled = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def generate(self, conversations, params=None, schema=None):
        try:
            return self.model.generate(conversations, params, schema=schema)
        except GenerationCancelled:
            self.cancelled.append(params.max_new_tokens)
            raise


def test_a_client_that_leaves_frees_the_model_for_the_next(tiny_model):
    watched = Watched(tiny_model)
    served = Served(create_app(watched, max_tokens_cap=None, batch_window_s=0.01))
    try:
        with pytest.raises(requests.Timeout):  # ~10 minutes of tokens if it ran to the end
            requests.post(
                f"{served.url}/v1/chat/completions", json=chat(max_tokens=10**9), timeout=1.5
            )
        r = requests.post(f"{served.url}/v1/chat/completions", json=chat(max_tokens=2), timeout=120)
        assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] <= 2
        assert watched.cancelled and watched.cancelled[0] > 30_000
    finally:
        served.stop()


def test_a_submission_whose_client_left_is_not_generated():
    import asyncio

    seen = []
    queue = BatchQueue(lambda key, payloads: seen.extend(payloads) or payloads, window_s=0.01)

    async def go():
        gone = threading.Event()
        gone.set()
        left = asyncio.ensure_future(queue.submit("k", "left", gone))
        kept = await queue.submit("k", "kept")
        left.cancel()
        return kept

    assert asyncio.run(go()) == "kept" and seen == ["kept"]


# --- serve: client mistakes are 400s naming the limit, on a connection that stays open -------


def nested(depth: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def json_schema(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}


BIG_SCHEMA = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(2000)}}
MISTAKES = [
    (json.dumps(chat(stop=[""])), "stop strings"),
    (json.dumps(chat(stop=["a", "b", "c", "d", "e"])), "at most 4 stop strings"),
    (json.dumps(chat(stop=["x" * 65])), "1 to 64 characters"),
    (json.dumps(chat(response_format=json_schema(nested(200)))), "64-level limit"),
    (json.dumps(chat(response_format=json_schema(nested(20)))), "32-level limit"),
    (json.dumps(chat(response_format=json_schema(BIG_SCHEMA))), "32768-byte limit"),
    ('{"messages": ' + "[" * 2000 + "]" * 2000 + "}", "64-level limit"),
]


@pytest.fixture(scope="module")
def scripted_server():
    served = Served(create_app(Scripted(*["好的"] * 10)))
    yield served
    served.stop()


@pytest.mark.parametrize(("body", "needle"), MISTAKES)
def test_client_mistakes_are_400s_and_the_connection_stays_usable(scripted_server, body, needle):
    conn = http.client.HTTPConnection("127.0.0.1", scripted_server.port, timeout=30)
    conn.auto_open = 0  # a closed connection raises instead of silently reconnecting
    conn.connect()
    headers = {"Content-Type": "application/json"}
    conn.request("POST", "/v1/chat/completions", body=body.encode(), headers=headers)
    r = conn.getresponse()
    error = json.loads(r.read())["error"]
    assert r.status == 400 and needle in error["message"], error
    conn.request("POST", "/v1/chat/completions", body=json.dumps(chat()), headers=headers)
    ok = conn.getresponse()
    assert ok.status == 200 and json.loads(ok.read())["choices"][0]["message"]["content"]
    conn.close()


def test_the_api_description_needs_the_key_when_one_is_set():
    client = TestClient(create_app(Scripted(), api_key="sekret"))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer sekret"}).status_code == 200
    assert TestClient(create_app(Scripted())).get("/openapi.json").status_code == 200


def test_a_callers_schema_is_never_answered_with_the_consultation_fallback():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    bot = MedicalChatbot(Scripted("不是JSON", "还不是"), knowledge=False)
    r = TestClient(create_app(bot)).post(
        "/v1/chat/completions", json=chat(response_format=json_schema(schema))
    )
    assert r.status_code == 500 and r.json()["error"]["code"] == "no_valid_answer"
    bot = MedicalChatbot(Scripted("不是JSON", "还不是"), knowledge=False)  # its own shape: fine
    r = TestClient(create_app(bot)).post(
        "/v1/chat/completions", json=chat(response_format={"type": "json_object"})
    )
    assert r.status_code == 200 and r.json()["medlab"]["fallback"] is True


def test_a_template_cannot_build_a_huge_prompt(tmp_path, monkeypatch):
    front = load_prompt("gp_assistant@v1").path.read_text(encoding="utf-8").split("---")[1]
    front = front.replace("name: gp_assistant", "name: demo")
    monkeypatch.setenv("MEDLAB_PROMPTS_DIR", str(tmp_path))
    path = tmp_path / "demo" / "v1.md"
    path.parent.mkdir()
    for body in ("{{ 'x' * 400000000 }}", "{{ 'x'.ljust(400000000) }}",
                 "{% for i in range(100000) %}{{ 'x' * 4000 }}{% endfor %}"):  # fmt: skip
        path.write_text(f"---{front}---\n{body}\n", encoding="utf-8")
        with pytest.raises(PromptError, match="limit"):
            load_prompt("demo@v1")


# --- runner: one bad item fails alone; the run folder has one writer ------------------------


def test_an_item_too_long_for_the_context_fails_alone_before_generation(tiny_model, tmp_path):
    long = {
        **ITEM,
        "id": "a-2",
        "question": "7" * (tiny_model.context_length + 100),
    }  # 1 token/digit
    path = write_set(tmp_path / "set.jsonl", ITEM, long)
    run = run_eval(tiny_model, "gp_assistant@v1", str(path), params=TINY, cache="off",
                   out_dir=tmp_path / "runs", progress=False)  # fmt: skip
    errors = {r.item_id: r.error for r in run.records}
    assert errors["a-1"] is None
    assert "set.jsonl:2" in errors["a-2"] and "context" in errors["a-2"]
    assert run.results["counts"]["generated"] == 1


def test_eval_set_lines_have_a_size_limit_and_a_depth_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_MAX_LINE_BYTES", "1000")
    path = write_set(tmp_path / "s.jsonl", ITEM, {**ITEM, "id": "a-2", "question": "x" * 2000})
    with pytest.raises(EvalSetError, match=r"s\.jsonl:2: line longer than the 1000-byte limit"):
        load_items(path)
    monkeypatch.delenv("MEDLAB_MAX_LINE_BYTES")
    deep = '{"id": "a-3", "task": "triage", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    path = write_set(tmp_path / "d.jsonl", ITEM, raw=deep)
    with pytest.raises(EvalSetError, match=r"d\.jsonl:2: JSON nested too deeply"):
        load_items(path)


def test_an_empty_eval_set_says_so(tmp_path, tiny_model):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match="has no items"):
        run_eval(tiny_model, "gp_assistant@v1", str(tmp_path / "empty.jsonl"), cache="off",
                 out_dir=tmp_path / "runs", progress=False)  # fmt: skip


def test_a_second_writer_of_a_run_gets_a_clear_error(tiny_model, tmp_path):
    from filelock import FileLock

    path = write_set(tmp_path / "set.jsonl", ITEM)
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    with FileLock(tmp_path / "runs" / "r1" / ".lock"), pytest.raises(RunLockedError, match="r1"):
        run_eval(tiny_model, "gp_assistant@v1", str(path), params=TINY, cache="off",
                 out_dir=tmp_path / "runs", run_id="r1", progress=False)  # fmt: skip
    assert not (tmp_path / "runs" / "r1" / "samples.jsonl").exists()


# --- cache: damaged files and rows -----------------------------------------------------------


def test_a_file_that_is_not_a_database_turns_the_cache_off_once(tmp_path, tiny_model):
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(bytes(range(256)) * 64)
    path = write_set(tmp_path / "set.jsonl", ITEM)
    with pytest.warns(RuntimeWarning, match=str(bad)) as caught:
        run = run_eval(tiny_model, "gp_assistant@v1", str(path), params=TINY, cache=str(bad),
                       out_dir=tmp_path / "runs", progress=False)  # fmt: skip
    assert sum(str(bad) in str(w.message) for w in caught) == 1
    assert run.results["status"] == "finished" and run.results["counts"]["generated"] == 1


def test_a_damaged_page_and_a_bad_row_are_misses(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = SQLiteCache(path)
    done = Completion("答", 1, 1, 0.1, 0.1)
    for i in range(200):
        cache.put(f"k{i}", done)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE responses SET value = 'not json' WHERE key = 'k0'")
    cache.close()
    with pytest.warns(RuntimeWarning, match="treated as a miss"):
        assert SQLiteCache(path).get("k0") is None
    cache = SQLiteCache(path)
    assert cache.get("k1").text == "答"
    cache.close()
    with sqlite3.connect(path) as conn:  # fold the WAL in, then damage a page of the table
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096 + 8 : 4096 + 4000] = b"\xff" * 3992
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = SQLiteCache(path)
        got = [cache.get(f"k{i}") for i in range(200)]
        cache.put("new", done)
    assert None in got
    assert sum(str(path) in str(w.message) for w in caught) == 1


# --- report -----------------------------------------------------------------------------------


def test_only_failed_samples_are_flagged_and_nothing_reads_nan():
    def record(item_id: str, error: str | None) -> SampleResult:
        c = Completion("好的" if error is None else "", 5, 2, 0.1, 0.2)
        metrics = {"triage": "self_care", "referral_level": "none"} if error is None else {}
        return SampleResult(run_id="r", variant="v@v1", prompt_sha256="0", eval_set="s",
                            item_id=item_id, repeat=0, messages=[], text=c.text, parsed=None,
                            completion=c, error=error, metrics=metrics)  # fmt: skip

    rows = samples_frame([record("ok", None), record("bad", "ValueError: boom")])
    assert [bool(sample_failures(r)) for r in rows.to_dict("records")] == [False, True]
    shown = _sample_rows(rows)
    assert shown[1]["triage"] == "" and shown[1]["level"] == ""


# --- prompts and the command line -------------------------------------------------------------


@pytest.fixture
def edited_prompts(tmp_path, monkeypatch):
    from medlab.prompts import lock_prompts

    root = tmp_path / "prompts"
    source = load_prompt("gp_assistant@v1").path
    (root / "gp_assistant").mkdir(parents=True)
    copy = root / "gp_assistant" / "v1.md"
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("MEDLAB_PROMPTS_DIR", str(root))
    lock_prompts(root)
    copy.write_text(copy.read_text(encoding="utf-8") + "\n另外：回答要简短。\n", encoding="utf-8")
    return root


def test_an_edited_published_prompt_is_refused_unless_allowed(edited_prompts, tmp_path, tiny_model):
    path = write_set(tmp_path / "set.jsonl", ITEM)
    kw = {"params": TINY, "cache": "off", "out_dir": tmp_path / "runs", "progress": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(PromptError, match="edited after it was published"):
            run_eval(tiny_model, "gp_assistant@v1", str(path), **kw)
        assert not (tmp_path / "runs").exists()
        run = run_eval(tiny_model, "gp_assistant@v1", str(path), allow_edited_prompts=True, **kw)
    assert run.results["prompts"][0]["edited"] is True


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["report", "no-such-run"], "no run 'no-such-run'"),
        (["eval", "--prompts", "gp_assistant@v1", "--eval-sets", "{bad}", "--cache", "off"],
         "bad.jsonl:2: field 'triage'"),
        (["eval", "--prompts", "gp_assistant@v1", "--eval-sets", "{empty}", "--cache", "off"],
         "has no items"),
        (["eval", "--prompts", "gp_assistant@v1", "--eval-sets", "{edited}", "--cache", "off"],
         "edited after it was published"),
    ],
)  # fmt: skip
def test_user_mistakes_print_one_line_and_exit_2(argv, needle, tmp_path, capsys, request):
    files = {
        "bad": write_set(tmp_path / "bad.jsonl", ITEM, {**ITEM, "id": "a-2", "triage": "later"}),
        "empty": write_set(tmp_path / "empty.jsonl"),
        "edited": write_set(tmp_path / "ok.jsonl", ITEM),
    }
    if "{edited}" in argv:
        request.getfixturevalue("edited_prompts")
    argv = [a.format(**files) for a in argv] + ["--out", str(tmp_path / "runs")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert medlab_main(argv) == 2
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]  # (model loading may draw a progress bar above)
        assert needle in last and last.startswith(f"medlab {argv[0]}: "), err
        assert "Traceback" not in err
        if argv[0] == "report":  # (cheap to repeat) --debug: the exception itself
            with pytest.raises(FileNotFoundError, match=needle):
                medlab_main([*argv, "--debug"])
