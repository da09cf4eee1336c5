"""run_eval on the real tiny-qwen2 stand-in: the matrix, run records, scoring, cache, errors."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from medlab.evalsets import eval_set_sha256, load_items
from medlab.metrics import SAMPLE_KEYS
from medlab.prompts import load_prompt, prompts_dir
from medlab.records import BASE_COLUMNS, load_run, read_samples
from medlab.runner import prompt_applies, run_eval
from medlab.types import GenerationParams

GREEDY = GenerationParams(temperature=0.0, max_new_tokens=8, seed=0)
V12 = ["gp_assistant@v1", "gp_assistant@v2"]


@pytest.fixture(scope="module")
def first_run(tiny_model, tmp_path_factory):
    """Two variants x (3 triage items + 2 multi-turn items), free-text mode, own SQLite cache."""
    tmp = tmp_path_factory.mktemp("run")
    run = run_eval(
        tiny_model, V12, ["triage_zh", "multiturn_zh"], params=GREEDY, structured=False,
        limit=3, cache=str(tmp / "cache.sqlite"), out_dir=tmp / "runs", progress=False,
    )  # fmt: skip
    multiturn = load_items("multiturn_zh", limit=3)
    return run, tmp, multiturn


def test_matrix_covers_every_variant_item_and_repeat_once(first_run):
    run, _, multiturn = first_run
    keys = [r.key for r in run.records]
    assert len(keys) == len(set(keys)) == 2 * (3 + len(multiturn))
    assert {k[0] for k in keys} == set(V12)
    assert {(k[1], k[2]) for k in keys} == {
        *(("triage_zh", it.id) for it in load_items("triage_zh", limit=3)),
        *(("multiturn_zh", it.id) for it in multiturn),
    }
    assert run.results["counts"]["generated"] == len(keys)
    assert run.results["status"] == "finished"


def test_conversation_is_system_prompt_plus_item_messages(first_run):
    run, _, multiturn = first_run
    by_key = {r.key: r for r in run.records}
    for ref in V12:
        prompt = load_prompt(ref)
        for item in multiturn:
            rec = by_key[(ref, "multiturn_zh", item.id, 0)]
            assert rec.messages[0] == {"role": "system", "content": prompt.render()}
            assert rec.messages[1:] == [m.to_dict() for m in item.messages]
            assert rec.prompt_sha256 == prompt.sha256
            assert len(rec.messages) >= 3  # really multi-turn


def test_every_sample_is_scored_with_every_metric(first_run):
    run, _, _ = first_run
    for rec in run.records:
        assert set(SAMPLE_KEYS) <= set(rec.metrics)
        assert rec.error is None and rec.parsed is None  # free-text mode parses nothing
        assert rec.metrics["schema_valid"] is None
        assert rec.metrics["task"] in ("triage", "multiturn")
        assert rec.completion.completion_tokens <= GREEDY.max_new_tokens
    frame = run.samples
    assert list(frame.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS
    assert set(SAMPLE_KEYS) <= set(frame.columns)
    assert len(frame) == len(run.records)


def test_run_records_on_disk(first_run, tiny_model):
    run, _, _ = first_run
    lines = (run.path / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(run.records)
    assert json.loads(lines[0])["item_id"] == run.records[0].item_id
    res = json.loads((run.path / "results.json").read_text(encoding="utf-8"))
    assert res["run_id"] == run.run_id == run.path.name
    assert res["config"]["params"] == GREEDY.to_dict() and res["config"]["structured"] is False
    assert res["config"]["limit"] == 3 and res["config"]["repeats"] == 1 and res["seed"] == 0
    assert res["model"]["fingerprint"] == tiny_model.fingerprint
    assert res["model"]["name"] == "tiny-qwen2" and "revision" in res["model"]
    assert [p["ref"] for p in res["prompts"]] == V12
    assert res["prompts"][1]["sha256"] == load_prompt(V12[1]).sha256
    sets = {s["name"]: s for s in res["eval_sets"]}
    assert sets["triage_zh"]["sha256"] == eval_set_sha256("triage_zh")
    assert sets["triage_zh"]["items"] == 3
    assert res["versions"]["torch"] and res["versions"]["transformers"]
    assert set(res["git"]) == {"commit", "dirty"}
    assert res["hardware"]["torch_threads"] >= 1 and res["hardware"]["cpu_count"] >= 1
    assert res["started"] <= res["finished"]
    summary = {(r["variant"], r["metric"]): r for r in res["summary"]}
    row = summary[("gp_assistant@v1", "under_triage_rate")]
    assert set(row) >= {"value", "ci_low", "ci_high", "n"}
    assert row["n"] == sum(it.triage == "emergency" for it in load_items("triage_zh", limit=3))
    # read back
    back = load_run(run.path)
    assert [r.to_dict() for r in back.records] == [r.to_dict() for r in run.records]
    assert back.results["summary"] == res["summary"]
    assert set(run.summary()["variant"]) == set(V12)


def test_unchanged_rerun_is_served_from_cache_with_original_timings(first_run, tiny_model):
    run, tmp, _ = first_run
    again = run_eval(
        tiny_model, V12, ["triage_zh", "multiturn_zh"], params=GREEDY, structured=False,
        limit=3, cache=str(tmp / "cache.sqlite"), out_dir=tmp / "runs", progress=False,
    )  # fmt: skip
    assert again.run_id != run.run_id
    assert again.results["counts"]["cached"] == len(run.records)
    assert again.results["counts"]["generated"] == 0
    before = {r.key: r.completion for r in run.records}
    for rec in again.records:
        c = rec.completion
        assert c.cached is True
        assert (c.text, c.ttft_s, c.latency_s) == (
            before[rec.key].text, before[rec.key].ttft_s, before[rec.key].latency_s,
        )  # fmt: skip
    # latency statistics leave cached answers out; quality metrics keep them
    summary = again.summary().set_index(["variant", "metric"])
    assert summary.loc[("gp_assistant@v1", "latency_s_mean"), "n"] == 0
    assert summary.loc[("gp_assistant@v1", "under_triage_rate"), "n"] >= 1


def test_changing_one_prompt_variant_regenerates_only_that_variant(
    tiny_model, tmp_path, monkeypatch
):
    shutil.copytree(prompts_dir() / "gp_assistant", tmp_path / "prompts" / "gp_assistant")
    monkeypatch.setenv("MEDLAB_PROMPTS_DIR", str(tmp_path / "prompts"))
    kw = dict(
        params=GREEDY, structured=False, limit=2, cache=str(tmp_path / "c.sqlite"),
        out_dir=tmp_path / "runs", progress=False,
    )  # fmt: skip
    first = run_eval(tiny_model, V12, ["triage_zh"], **kw)
    assert first.results["counts"]["generated"] == 4
    v2 = tmp_path / "prompts" / "gp_assistant" / "v2.md"
    v2.write_text(v2.read_text(encoding="utf-8") + "\n请尽量简短。\n", encoding="utf-8")
    second = run_eval(tiny_model, V12, ["triage_zh"], **kw)
    cached = {r.variant: [] for r in second.records}
    for r in second.records:
        cached[r.variant].append(r.completion.cached)
    assert cached == {"gp_assistant@v1": [True, True], "gp_assistant@v2": [False, False]}


@pytest.mark.parametrize(
    ("prompt", "task", "applies"),
    [("gp_assistant@v1", "triage", True), ("gp_assistant@v1", "multiturn", True),
     ("gp_assistant@v1", "extraction", False), ("emr_extractor@v1", "extraction", True),
     ("emr_extractor@v1", "triage", False), ("gp_assistant_en@v1", "drug_pressure", True),
     ("gp_assistant@v1", "mcq", False), ("mcq_answer@v1", "mcq", True),
     ("mcq_answer@v1", "triage", False), ("emr_extractor@v1", "mcq", False)],
)  # fmt: skip
def test_prompt_applies_to_the_items_of_its_task(prompt, task, applies):
    assert prompt_applies(load_prompt(prompt), task) is applies


def test_extraction_sets_run_only_with_the_extraction_prompt(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="emr_extraction"):
        run_eval(tiny_model, ["emr_extractor@v1"], ["triage_zh"], limit=1, out_dir=tmp_path)
    run = run_eval(
        tiny_model, ["gp_assistant@v1", "emr_extractor@v1"], ["triage_zh", "emr_extraction_zh"],
        params=GREEDY, structured=False, limit=1, cache="off", out_dir=tmp_path, progress=False,
    )  # fmt: skip
    assert sorted((r.variant, r.eval_set) for r in run.records) == [
        ("emr_extractor@v1", "emr_extraction_zh"), ("gp_assistant@v1", "triage_zh"),
    ]  # fmt: skip
    ext = next(r for r in run.records if r.eval_set == "emr_extraction_zh")
    assert ext.metrics["record_chars"] > 0 and ext.metrics["task"] == "extraction"


def test_truncated_structured_answer_is_scored_as_malformed(tiny_model, tmp_path):
    """max_new_tokens=6 cuts the constrained JSON short: scored, not crashed."""
    run = run_eval(
        tiny_model, ["gp_assistant@v1"], ["triage_zh"], structured=True, limit=2, cache="off",
        params=GenerationParams(temperature=0.0, max_new_tokens=6), out_dir=tmp_path,
        progress=False,
    )  # fmt: skip
    for rec in run.records:
        assert rec.error is None and rec.completion.finish_reason == "length"
        assert rec.text.startswith("{")
        assert rec.metrics["json_strict"] is False and rec.metrics["schema_valid"] is False
        assert rec.metrics["violations"]


def test_repeats_are_separate_samples_with_their_own_seed(tiny_model, tmp_path):
    run = run_eval(
        tiny_model, ["gp_assistant@v1"], ["triage_zh"], repeats=2, limit=2, structured=False,
        params=GenerationParams(temperature=1.0, max_new_tokens=8, seed=5), cache="off",
        out_dir=tmp_path, progress=False,
    )  # fmt: skip
    assert sorted((r.item_id, r.repeat) for r in run.records) == sorted(
        (it.id, rep) for it in load_items("triage_zh", limit=2) for rep in (0, 1)
    )
    texts = {(r.item_id, r.repeat): r.text for r in run.records}
    assert any(texts[(i, 0)] != texts[(i, 1)] for i, _ in texts)  # different seeds, sampled


class FailOnce:
    """The real tiny model, except that its first generate call fails (a fault injection)."""

    def __init__(self, model):
        self.model, self.failed = model, False
        self.name, self.fingerprint = model.name, model.fingerprint
        self.context_length, self.batch_size = model.context_length, 2

    def info(self):
        return self.model.info()

    def generate(self, conversations, params=None, schema=None):
        if not self.failed:
            self.failed = True
            raise RuntimeError("CUDA out of memory (injected)")
        return self.model.generate(conversations, params, schema=schema)


def test_backend_error_becomes_error_samples_then_is_retried_on_resume(tiny_model, tmp_path):
    kw = dict(params=GREEDY, structured=False, limit=4, cache="off", out_dir=tmp_path,
              run_id="flaky", progress=False)  # fmt: skip
    run = run_eval(FailOnce(tiny_model), ["gp_assistant@v1"], ["triage_zh"], **kw)
    errors = [r for r in run.records if r.error]
    assert len(run.records) == 4 and len(errors) == 2
    assert "out of memory" in errors[0].error and errors[0].metrics == {}
    assert run.results["status"] == "finished_with_errors"
    resumed = run_eval(tiny_model, ["gp_assistant@v1"], ["triage_zh"], **kw)
    assert resumed.results["counts"]["skipped"] == 2
    assert resumed.results["counts"]["generated"] == 2
    assert resumed.results["status"] == "finished"
    back = load_run(tmp_path / "flaky")
    assert len(back.records) == 4 and all(r.error is None for r in back.records)
    assert len(read_samples(tmp_path / "flaky" / "samples.jsonl")) == 6  # appended, never rewritten


def test_unreachable_redis_warns_and_the_run_continues_uncached(tiny_model, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.warns(RuntimeWarning, match="unreachable"):
        run = run_eval(
            tiny_model, ["gp_assistant@v1"], ["triage_zh"], params=GREEDY, structured=False,
            limit=2, cache=f"redis://127.0.0.1:{port}/0", out_dir=tmp_path, progress=False,
        )  # fmt: skip
    assert run.results["counts"]["generated"] == 2 and run.results["status"] == "finished"
    assert Path(run.path, "samples.jsonl").exists()


def test_same_configuration_in_the_same_second_gets_a_new_run(tmp_path):
    from medlab.runner import _fresh_run_id

    assert _fresh_run_id(tmp_path, "20261201-080000-abcd1234") == "20261201-080000-abcd1234"
    assert _fresh_run_id(tmp_path, "20261201-080000-abcd1234") == "20261201-080000-abcd1234-2"
    assert _fresh_run_id(tmp_path, "20261201-080000-abcd1234") == "20261201-080000-abcd1234-3"
    assert sorted(p.name for p in tmp_path.iterdir())[-1].endswith("-3")


class FailsEverySecond(FailOnce):
    """Answers every other conversation of a call, as an HTTP backend whose requests fail."""

    def generate(self, conversations, params=None, schema=None):
        from medlab.models.base import BatchError

        answers = self.model.generate(conversations, params, schema=schema)
        errors = [None if i % 2 == 0 else "HTTP 503 (injected)" for i in range(len(answers))]
        raise BatchError([a if e is None else None for a, e in zip(answers, errors)], errors)


def test_a_partly_failed_batch_keeps_its_answers(tiny_model, tmp_path):
    kw = dict(params=GREEDY, structured=False, limit=4, cache=str(tmp_path / "c.sqlite"),
              out_dir=tmp_path, run_id="partial", progress=False)  # fmt: skip
    backend = FailsEverySecond(tiny_model)
    backend.batch_size = 4
    run = run_eval(backend, ["gp_assistant@v1"], ["triage_zh"], **kw)
    by_item = {r.item_id: r for r in run.records}
    ok = [r for r in by_item.values() if r.error is None]
    failed = [r for r in by_item.values() if r.error]
    assert len(ok) == 2 and len(failed) == 2
    assert all(r.error == "HTTP 503 (injected)" and r.metrics == {} for r in failed)
    assert all(r.metrics and r.completion.completion_tokens > 0 for r in ok)
    resumed = run_eval(tiny_model, ["gp_assistant@v1"], ["triage_zh"], **kw)
    assert resumed.results["counts"]["skipped"] == 2  # the answers already paid for are kept
    assert resumed.results["counts"]["generated"] == 2


def test_plan_lays_out_samples_pairs_and_unfit_items_without_generating(tiny_model):
    """plan_run: prompt x repeat x set x the items the prompt applies to, in run order, the
    pairs per (variant, set), and the items too long for the context; start_manifest records
    it before anything runs."""
    from helpers import Scripted

    from medlab.runner import plan_run, start_manifest

    prompts = ["gp_assistant@v1", "emr_extractor@v1"]
    sets = ["triage_zh", "emr_extraction_zh"]
    model = Scripted()
    plan = plan_run(model, prompts, sets, repeats=2, limit=2)
    assert model.calls == []
    triage, emr = (load_items(s, limit=2) for s in sets)
    assert [t.key for t in plan.samples] == [
        (p, it.eval_set, it.id, r)
        for p, items in zip(prompts, (triage, emr))
        for r in range(2)
        for it in items
    ]
    assert [(p.variant, p.eval_set, p.items) for p in plan.pairs] == [
        ("gp_assistant@v1", "triage_zh", 2), ("gp_assistant@v1", "emr_extraction_zh", 0),
        ("emr_extractor@v1", "triage_zh", 0), ("emr_extractor@v1", "emr_extraction_zh", 2),
    ]  # fmt: skip
    assert plan.counts == {"planned": 8, "unfit": 0}
    assert plan.todo({plan.samples[0].key}) == list(plan.samples[1:])

    manifest = start_manifest(plan, model, GREEDY, structured=False, cache="off")
    assert manifest.status == "planned" and manifest.seed == GREEDY.seed
    assert [p.sha256 for p in manifest.prompts] == [load_prompt(p).sha256 for p in prompts]
    assert [s.sha256 for s in manifest.eval_sets] == [eval_set_sha256(s) for s in sets]
    assert manifest.config.repeats == 2 and manifest.config.limit == 2

    # a model that counts tokens exactly: the extraction records do not fit 600 tokens
    small = tiny_model.__class__.__new__(tiny_model.__class__)
    small.__dict__.update(tiny_model.__dict__, context_length=600)
    unfit = plan_run(small, prompts, sets, limit=2).unfit
    assert {k[1] for k in unfit} == {"emr_extraction_zh"} and len(unfit) == 2
    assert all("no room in the 600-token context" in msg for msg in unfit.values())
