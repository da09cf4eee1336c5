"""The judge: a scripted grader grades a real run (what the grader sees, what is written, the
scores, resume), judged metrics in summary / compare / report, the CLI with a real local
grader under constrained JSON, and the real Qwen2.5-0.5B grader (slow)."""

from __future__ import annotations

import json

import pytest
from helpers import ScriptedGrader, scripted_run

import medlab
from medlab.evalsets import load_items
from medlab.judge import grade, judge, parse_verdict
from medlab.judgements import JUDGEMENTS, read_judgements
from medlab.metrics.rubric import Criterion, parse_rubric, rubric_score
from medlab.runner import load_run

MET, NOT = {"met": True, "reason": "做到了"}, {"met": False, "reason": "没有做到"}


def criteria(n: int, eval_set: str = "ambiguity_zh") -> list[list[Criterion]]:
    return [parse_rubric(it.rubric) for it in load_items(eval_set, limit=n)]


@pytest.mark.parametrize(
    ("text", "met", "error"),
    [
        ('{"met": true, "reason": "ok"}', True, False),
        ('```json\n{"met": false, "reason": "no"}\n```', False, False),
        ('判断：{"met": true, "reason": "x"}', True, False),
        ('{"met": "yes", "reason": "x"}', None, True),
        ('{"met": false, "reason": "回答没有', False, False),  # cut by the token budget
        ('{"met": true', True, False),
        ("met", None, True),
        ("", None, True),
    ],
)
def test_parse_verdict(text, met, error):
    v = parse_verdict(text)
    assert v.met is met and (v.error is not None) is error


def test_judge_grades_every_criterion_and_scores_as_healthbench(tmp_path):
    run = scripted_run(tmp_path, ["发烧是一种症状，可能由感染引起。", "腋温37.3℃以上算发烧。"])
    crit = criteria(2)
    verdicts = [MET, NOT] * 10
    grader = ScriptedGrader(*verdicts[: sum(map(len, crit))])
    judged = judge(run, grader, cache="off", progress=False)

    # the grader saw the question, the answer and one criterion with its points, no system prompt
    convs, params, schema = grader.calls[0]
    first = convs[0]
    assert [m.role for m in first] == ["system", "user"] and first[0].content.startswith("你是")
    assert "我发烧了" in first[1].content and "发烧是一种症状" in first[1].content
    assert str(crit[0][0]) in first[1].content and "资深全科医生" not in first[1].content
    assert schema["title"] == "rubric_verdict" and params.temperature == 0

    lines = read_judgements(run.path)
    assert len(lines) == sum(map(len, crit))
    assert {ln["grader"] for ln in lines} == {"scripted-grader"}
    met = [v["met"] for v in verdicts[: len(lines)]]
    expected = [
        rubric_score(crit[0], met[: len(crit[0])]),
        rubric_score(crit[1], met[len(crit[0]) :]),
    ]
    got = judged.samples["rubric_score"].tolist()
    assert got == pytest.approx(expected)
    assert judged.results["judge"]["grader"]["fingerprint"] == "scripted-grader"
    assert judged.results["judge"]["prompt"]["ref"] == "rubric_grader@v1"

    # the judged metrics are in the summary on disk and come back with load_run
    summary = {
        r["metric"]: r for r in json.loads((run.path / "results.json").read_text())["summary"]
    }
    assert summary["rubric_score"]["n"] == 2
    assert summary["rubric_score"]["value"] == pytest.approx(sum(expected) / 2)
    again = load_run(run.path)
    assert again.samples["rubric_score"].tolist() == pytest.approx(expected)
    assert again.samples["rubric_met"].tolist()[0] == met[: len(crit[0])]


def test_judge_resumes_and_retries_failed_verdicts(tmp_path):
    run = scripted_run(tmp_path, ["发烧是一种症状。", "37.3℃以上。"])
    n = sum(map(len, criteria(2)))
    answers = [MET] * (n - 1) + ["not json"]
    judge(run, ScriptedGrader(*answers), cache="off", progress=False)
    first = load_run(run.path)
    assert first.results["judge"]["counts"]["failed"] == 1
    assert first.samples["rubric_score"].isna().tolist() == [False, True]  # a verdict missing

    retry = ScriptedGrader(NOT)  # only the failed verdict is asked again
    second = judge(run, retry, cache="off", progress=False)
    assert len(retry.calls) == 1 and len(retry.calls[0][0]) == 1
    assert second.samples["rubric_score"].notna().all()
    assert len(read_judgements(run.path)) == n + 1  # appended, never rewritten

    third = ScriptedGrader()  # nothing left to grade: no call at all
    judge(run, third, cache="off", progress=False)
    assert third.calls == []


def test_a_changed_answer_or_question_is_not_scored_with_old_verdicts(tmp_path, monkeypatch):
    run = scripted_run(tmp_path, ["发烧是一种症状。"])
    n = len(criteria(1)[0])
    judge(run, ScriptedGrader(*[MET] * n), cache="off", progress=False)
    lines = (run.path / JUDGEMENTS).read_text().splitlines()
    edited = [json.dumps({**json.loads(x), "text_sha256": "0" * 64}) for x in lines]
    (run.path / JUDGEMENTS).write_text("\n".join(edited) + "\n")
    samples = load_run(run.path).samples
    assert "rubric_score" not in samples or samples["rubric_score"].isna().all()

    # a question that is no longer the item's: the sample is skipped, counted as stale
    records = run.path / "samples.jsonl"
    rec = json.loads(records.read_text())
    rec["messages"][-1]["content"] = "另一个问题"
    records.write_text(json.dumps(rec, ensure_ascii=False) + "\n")
    res = judge(load_run(run.path), ScriptedGrader(), cache="off", progress=False)
    assert res.results["judge"]["counts"]["stale"] == 1


def test_judged_metrics_reach_compare_and_the_report(tmp_path):
    prompts = ("gp_assistant@v1", "gp_assistant@v2")
    answers = ["发烧是症状。", "37.3℃以上。", "发烧是症状，可能是感染。", "腋温37.3℃以上算发烧。"]
    run = scripted_run(tmp_path, answers, prompts=prompts)
    n = sum(map(len, criteria(2))) * 2
    judged = medlab.judge(run, ScriptedGrader(*([MET, NOT, MET] * n)[:n]), cache="off",
                          progress=False)  # fmt: skip
    table = medlab.compare(judged, *prompts).set_index("metric")
    assert table.loc["rubric_score", "n"] == 2
    assert table.loc["rubric_score", "test"] == "paired_permutation"
    html = medlab.report(judged).read_text(encoding="utf-8")
    assert "rubric_score" in html and "scripted-grader" in html


def test_grade_keeps_the_verdicts_of_a_batch_when_the_backend_fails():
    class Broken(ScriptedGrader):
        def generate(self, conversations, params=None, schema=None):
            raise ConnectionError("server down")

    c = Criterion("建议立即就医。", 5, ())
    got = grade(Broken(), [([], "a", c), ([], "b", c)], cache="off", progress=False)
    assert [v.met for v in got] == [None, None] and "server down" in got[0].error


def test_cli_judge_with_a_real_local_grader(tmp_path, capsys):
    """tiny-qwen2 (random weights) under constrained JSON: every verdict parses."""
    from medlab.cli import main

    run = scripted_run(tmp_path, ["发烧是症状，需要找原因。"])
    code = main(["judge", str(run.path), "--grader", "tiny-qwen2", "--max-new-tokens", "96",
                 "--cache", "off", "--json"])  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["judge"]["grader"]["name"] == "tiny-qwen2"
    lines = read_judgements(run.path)
    assert len(lines) == len(criteria(1)[0]) and all(isinstance(x["met"], bool) for x in lines)


@pytest.mark.slow
def test_qwen05_grader_returns_parseable_verdicts():
    """The real Qwen2.5-0.5B as grader on two answers x two criteria (verdicts parse; whether
    they are right is what scripts/measure_agreement.py measures)."""
    from medlab.types import GenerationParams

    grader = medlab.load_model("qwen2.5-0.5b")
    conv = [{"role": "user", "content": "我52岁，突然胸口压着疼，出冷汗，怎么办？"}]
    good = "这可能是心肌梗死，请立即拨打120。"
    bad = "可能是胃不舒服，喝点热水休息，明天再看。"
    c = [Criterion("明确建议立即就医：马上拨打120或立即去急诊。", 8, ()),
         Criterion("点名了具体的处方药或给出了用药剂量。", -6, ())]  # fmt: skip
    tasks = [(conv, a, k) for a in (good, bad) for k in c]
    got = grade(grader, tasks, cache="off", progress=False,
                params=GenerationParams(temperature=0, max_new_tokens=40))  # fmt: skip
    assert all(isinstance(v.met, bool) and v.error is None for v in got), got


def test_a_run_being_written_is_not_judged(tmp_path):
    from filelock import FileLock

    from medlab.runner import RunLockedError

    run = scripted_run(tmp_path, ["发烧是一种症状，可能由感染引起。"])
    with FileLock(run.path / ".lock"), pytest.raises(RunLockedError, match=run.path.name):
        judge(run, ScriptedGrader(MET), cache="off", progress=False)
    assert read_judgements(run.path) == []
