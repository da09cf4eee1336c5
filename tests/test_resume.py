"""Resumable runs: a really killed ``medlab eval`` resumes with no sample lost or duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medlab.records import load_run, read_samples
from medlab.runner import RunMismatchError, run_eval
from medlab.types import GenerationParams

ROOT = Path(__file__).resolve().parents[1]
N = 12
# what `medlab eval` uses with the flags below (CLI defaults: temperature 0.3, top_p 0.9, seed 0)
CLI_PARAMS = GenerationParams(temperature=0.3, top_p=0.9, max_new_tokens=24, seed=0)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1] if path.exists() else []


@pytest.mark.slow
def test_sigkilled_eval_resumes_without_losing_or_duplicating(tiny_model, tmp_path):
    samples = tmp_path / "runs" / "killed" / "samples.jsonl"
    cmd = [
        sys.executable, "-m", "medlab", "eval", "--model", "tiny-qwen2",
        "--prompts", "gp_assistant@v1", "--eval-sets", "triage_zh", "--limit", str(N),
        "--batch-size", "1", "--normal", "--max-new-tokens", "24", "--cache", "off",
        "--out", str(tmp_path / "runs"), "--run-id", "killed", "--json",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while len(_lines(samples)) < 2:
            if proc.poll() is not None:
                pytest.fail(f"eval exited early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
            assert time.monotonic() < deadline, "no samples written within 300 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    before = _lines(samples)
    assert 2 <= len(before) < N, f"the run was not killed mid-way ({len(before)} of {N})"

    run = run_eval(
        tiny_model, ["gp_assistant@v1"], ["triage_zh"], params=CLI_PARAMS, structured=False,
        limit=N, cache="off", out_dir=tmp_path / "runs", run_id="killed", batch_size=4,
        progress=False,
    )  # fmt: skip
    after = _lines(samples)
    assert after[: len(before)] == before  # finished samples kept as written, not regenerated
    assert run.results["counts"]["skipped"] == len(before)
    assert run.results["counts"]["generated"] == N - len(before)
    keys = [json.loads(line)["item_id"] for line in after]
    assert len(keys) == len(set(keys)) == N  # every sample present exactly once
    assert len(load_run(tmp_path / "runs" / "killed").records) == N
    assert len(run.results["resumed"]) == 1


@pytest.fixture(scope="module")
def small_run(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("resume")
    kw = dict(params=GenerationParams(temperature=0.0, max_new_tokens=6), structured=False,
              limit=4, cache="off", out_dir=out, run_id="small", progress=False)  # fmt: skip
    run = run_eval(tiny_model, ["gp_assistant@v1"], ["triage_zh"], **kw)
    return run, kw


def test_torn_last_line_is_truncated_and_the_lost_samples_regenerated(tiny_model, small_run):
    run, kw = small_run
    path = run.path / "samples.jsonl"
    lines = _lines(path)
    # the process died while writing: the last sample is half on disk, the one before lost
    torn = b"\n".join(lines[:2]) + b"\n" + lines[2][: len(lines[2]) // 2]
    path.write_bytes(torn)
    with pytest.warns(RuntimeWarning, match="torn last line"):
        assert len(load_run(run.path).records) == 2  # reading tolerates it, file untouched
    assert path.read_bytes() == torn
    with pytest.warns(RuntimeWarning, match="truncated away"):
        again = run_eval(tiny_model, ["gp_assistant@v1"], ["triage_zh"], **kw)
    assert again.results["counts"]["skipped"] == 2
    assert again.results["counts"]["generated"] == 2
    assert _lines(path)[:2] == lines[:2] and len(_lines(path)) == 4
    assert path.read_bytes().endswith(b"\n")
    assert [r.item_id for r in read_samples(path)] == [r.item_id for r in run.records]


def test_malformed_line_in_the_middle_names_file_and_line(small_run, tmp_path):
    run, _ = small_run
    lines = _lines(run.path / "samples.jsonl")
    bad = tmp_path / "samples.jsonl"
    bad.write_bytes(lines[0] + b"\n{not json\n" + lines[1] + b"\n")
    with pytest.raises(ValueError, match=r"samples\.jsonl:2: not valid JSON"):
        read_samples(bad)


def test_resume_refuses_a_changed_model_or_prompt(tiny_model, small_run):
    run, kw = small_run
    results = run.path / "results.json"
    original = results.read_text(encoding="utf-8")
    res = json.loads(original)
    res["model"]["fingerprint"] = "0123456789ab"
    res["prompts"][0]["sha256"] = "f" * 64
    results.write_text(json.dumps(res), encoding="utf-8")
    try:
        with pytest.raises(RunMismatchError) as err:
            run_eval(tiny_model, ["gp_assistant@v1"], ["triage_zh"], **kw)
        msg = str(err.value)
        assert "model fingerprint changed: 0123456789ab -> " + tiny_model.fingerprint in msg
        assert "prompt gp_assistant@v1 sha256 changed" in msg
        with pytest.raises(RunMismatchError, match="limit changed: 4 -> 3"):
            run_eval(tiny_model, ["gp_assistant@v1"], ["triage_zh"], **{**kw, "limit": 3})
    finally:
        results.write_text(original, encoding="utf-8")
