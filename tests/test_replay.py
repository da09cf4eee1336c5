"""Replaying a recorded run re-scores its answers without generating anything."""

from __future__ import annotations

import pytest

from medlab import GenerationParams
from medlab.models import load_model
from medlab.runner import run_eval


@pytest.fixture(scope="module")
def recorded(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run = run_eval(
        tiny_model,
        prompts=["gp_assistant@v1"],
        eval_sets=["triage_zh"],
        params=GenerationParams(temperature=0.7, max_new_tokens=6, seed=3),
        structured=False,
        limit=3,
        cache="off",
        out_dir=out,
        progress=False,
    )
    return run, out


def test_replay_returns_recorded_answers_and_rescoring_matches(recorded):
    run, out = recorded
    replay = load_model(f"replay:{run.path}")
    assert replay.fingerprint.startswith("replay:")
    again = run_eval(
        replay, prompts=["gp_assistant@v1"], eval_sets=["triage_zh"],
        params=GenerationParams(temperature=0.7, max_new_tokens=6, seed=3),
        structured=False, limit=3, cache="off", out_dir=out, progress=False,
    )  # fmt: skip
    a, b = run.samples.set_index("item_id"), again.samples.set_index("item_id")
    assert list(a.index) == list(b.index)
    assert (a["text"] == b["text"]).all()
    assert (a["referral_level"] == b["referral_level"]).all()
    assert (a["latency_s"] == b["latency_s"]).all()  # original timings kept


def test_replay_refuses_a_conversation_it_never_saw(recorded):
    run, _ = recorded
    replay = load_model(f"replay:{run.path}")
    with pytest.raises(LookupError, match="no recorded answer"):
        replay.generate([[{"role": "user", "content": "一个从未问过的问题"}]])


def test_replay_of_a_missing_run_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run"):
        load_model(f"replay:{tmp_path / 'nope'}")
