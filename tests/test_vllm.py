"""The vLLM engine backend against a real ``vllm serve`` on the qwen2.5-0.5b stand-in.

One server per module (start-up is the expensive part); ``make vllm`` installs the engine
(CI does), and the tests skip without it. The last tests kill the engine and close it.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from medlab.models.vllm import (
    VLLMBackend,
    VLLMError,
    engine_args_to_cli,
    find_engine,
    startup_failure_reason,
)
from medlab.runner import run_eval
from medlab.schemas import SCHEMAS
from medlab.types import GenerationParams
from medlab.validate import validate_answer

GREEDY = GenerationParams(temperature=0, max_new_tokens=24)
QUESTIONS = ["头痛三天了怎么办？", "我发烧38.5度，需要去医院吗？", "血压160/100，头晕，要紧吗？"]


def _engine_or_skip() -> None:
    try:
        find_engine()
    except VLLMError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize(
    ("args", "flags"),
    [
        ({"gpu_memory_utilization": 0.85}, ["--gpu-memory-utilization", "0.85"]),
        ({"enforce_eager": True, "enable_prefix_caching": False},
         ["--enforce-eager", "--no-enable-prefix-caching"]),
        ({"max_num_seqs": None}, []),
        ({"allowed_origins": ["a", "b"]}, ["--allowed-origins", "a", "b"]),
        ({"hf_overrides": {"rope_theta": 1e6}}, ["--hf-overrides", '{"rope_theta": 1000000.0}']),
    ],
)  # fmt: skip
def test_engine_args_become_flags(args, flags):
    assert engine_args_to_cli(args) == flags


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        ("OSError: [Errno 98] Address already in use", "port 8000 is in use"),
        ("ValueError: To serve at least one request with the models's max seq len (32768), "
         "(0.38 GiB KV cache is needed, which is larger than the available KV cache memory "
         "(0.01 GiB).", "the model does not fit"),
        ("ValueError: No available memory for the cache blocks.", "the model does not fit"),
        ("torch.OutOfMemoryError: CUDA out of memory.", "the model does not fit"),
        ("INFO Using LBHNC KV cache layout.\nRuntimeError: boom", "the engine exited"),
    ],
)  # fmt: skip
def test_a_failed_start_names_its_reason(log, reason):
    assert startup_failure_reason(log, 8000).startswith(reason)


def test_a_missing_engine_says_how_to_install_it(tmp_path, monkeypatch):
    with pytest.raises(VLLMError, match="no vLLM installed at"):
        find_engine(tmp_path)
    monkeypatch.setenv("MEDLAB_VLLM_ENGINE", str(tmp_path / "nowhere"))
    with pytest.raises(VLLMError, match="MEDLAB_VLLM_ENGINE"):
        VLLMBackend("qwen2.5-0.5b")


def test_a_busy_port_is_named():
    _engine_or_skip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(VLLMError, match=f"port {port} on 127.0.0.1 is in use"):
            VLLMBackend("qwen2.5-0.5b", port=port)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    _engine_or_skip()
    log = tmp_path_factory.mktemp("vllm") / "vllm.log"
    # eager: no torch.compile at start-up (minutes on 2 cores), the tests generate little
    model = VLLMBackend("qwen2.5-0.5b", log_path=log, enforce_eager=True, max_retries=1)
    yield model
    model.close()


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    members.append(int(entry))
            except ProcessLookupError:
                continue
    return members


@pytest.mark.slow
def test_greedy_answers_agree_with_transformers(engine):
    from medlab.models import load_model

    conversations = [[{"role": "user", "content": q}] for q in QUESTIONS]
    served = engine.generate(conversations, GREEDY)
    hf = load_model("qwen2.5-0.5b")
    local = hf.generate(conversations, GREEDY)
    assert [c.text for c in served] == [c.text for c in local]
    assert [c.completion_tokens for c in served] == [c.completion_tokens for c in local]
    # constrained JSON too: both engines write it as json.dumps does (", " and ": ")
    schema = SCHEMAS["consultation"]
    served_json = engine.generate(conversations, GREEDY, schema)
    local_json = hf.generate(conversations, GREEDY, schema)
    assert [c.text for c in served_json] == [c.text for c in local_json]
    assert all(c.text.startswith('{"summary": "') for c in served_json)
    assert all(c.ttft_s is not None and c.ttft_s <= c.latency_s for c in served)
    assert engine.info()["backend"] == "vllm" and engine.fingerprint.startswith("vllm-")


@pytest.mark.slow
def test_structured_answers_are_schema_valid(engine):
    # the consultation schema, bounded so that every answer ends within the token budget
    schema = SCHEMAS["consultation"]
    props = {
        "summary": {**schema["properties"]["summary"], "maxLength": 12},
        "analysis": {**schema["properties"]["analysis"], "maxItems": 1,
                     "items": {"type": "string", "minLength": 1, "maxLength": 10}},
        "suggestions": {**schema["properties"]["suggestions"], "maxItems": 1,
                        "items": {"type": "string", "minLength": 1, "maxLength": 10}},
    }  # fmt: skip
    tight = {**schema, "properties": props}
    from medlab.evalsets import load_items

    items = load_items("triage_zh", limit=20)
    answers = engine.generate(
        [it.messages for it in items], GenerationParams(temperature=0, max_new_tokens=96), tight
    )
    assert len(answers) == 20
    assert [validate_answer(a.text, schema=tight) for a in answers] == [[]] * 20
    assert [validate_answer(a.text, schema="consultation") for a in answers] == [[]] * 20


def _kill_engine_core(model: VLLMBackend) -> None:
    pgid = model._proc.pid
    for pid in _group_members(pgid):
        try:
            name = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if name.startswith(b"VLLM::EngineCore"):
            os.kill(pid, signal.SIGKILL)
            return
    raise AssertionError(f"no EngineCore process in group {pgid}")


class _KillsOnSecondBatch:
    """The real engine, killed just before the runner's second batch."""

    def __init__(self, model: VLLMBackend):
        self.model, self.calls = model, 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def generate(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 2:
            _kill_engine_core(self.model)
            deadline = time.time() + 60
            while self.model.alive() and time.time() < deadline:
                time.sleep(0.2)
        return self.model.generate(*args, **kwargs)


@pytest.mark.slow
def test_a_killed_engine_leaves_error_samples_that_a_resume_finishes(engine, tmp_path):
    kw = dict(prompts=["gp_assistant@v1"], eval_sets=["triage_zh"], limit=4, batch_size=2,
              params=GenerationParams(temperature=0, max_new_tokens=8), cache="off",
              out_dir=tmp_path, progress=False)  # fmt: skip
    first = run_eval(_KillsOnSecondBatch(engine), **kw)
    errors = first.samples["error"].dropna().tolist()
    assert len(errors) == 2 and "vLLM engine exited" in errors[0], errors
    assert not engine.alive()
    old_group = engine._proc.pid
    engine.restart()
    assert not _group_members(old_group)
    resumed = run_eval(engine, run_id=first.run_id, **kw)
    assert resumed.samples["error"].isna().all() and len(resumed.samples) == 4
    assert resumed.results["counts"]["generated"] == 2  # only the failed ones ran again


@pytest.mark.slow
def test_no_process_is_left_after_close(engine):
    pgid = engine._proc.pid
    assert len(_group_members(pgid)) >= 3  # guard, API server, EngineCore (and its workers)
    engine.close()
    assert _group_members(pgid) == [] and not engine.alive()
    engine.close()  # idempotent
