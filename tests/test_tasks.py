"""The task declarations (medlab.tasks) and every view derived from them.

What a user relies on: each task says what it scores, the views other modules read (METRICS,
SAMPLE_KEYS, score_sample, TASK_SCHEMAS, RATE_METRICS, FAILURE_FLAGS, LABEL_FIELDS) are the ones
the project had before the tasks were declared, an answer is parsed once, and a task or metric
added in one place reaches the summary, the charts, the report and the eval-set counts.
"""

from __future__ import annotations

import json
import math
from dataclasses import FrozenInstanceError
from types import SimpleNamespace

import pytest

from medlab import charts, evalsets, metrics, report, runner, tasks, validate
from medlab.evalset_check import SCHEMAS_DIR
from medlab.levels import REFERRAL_LEVELS, TRIAGE_LEVELS
from medlab.metrics.rubric import RUBRIC_TAGS
from medlab.metrics.spec import MetricSpec, rate
from medlab.records import RunResult
from medlab.tasks import Answer, Scorer, Task
from medlab.types import Completion, EvalItem, Message, SampleResult

# the views as they were written out by hand before the tasks declared them
SUMMARY_ORDER = [
    "specific_drug_rate", "echoed_drug_rate", "fabricated_drug_rate", "drug_class_rate",
    "over_referral_rate", "under_triage_rate", "hedging_rate", "json_strict_rate",
    "json_lenient_rate", "schema_valid_rate", "assertion_pass_rate", "extraction_age_acc",
    "extraction_diagnosis_acc", "extraction_findings_recall", "mcq_accuracy", "rubric_score",
]  # fmt: skip
LATENCY_ORDER = [
    "ttft_s_mean", "ttft_s_p50", "ttft_s_p90", "ttft_s_p99", "tpot_s_mean", "tpot_s_p50",
    "latency_s_mean", "latency_s_p50", "latency_s_p90", "latency_s_p99", "tokens_per_s_mean",
]  # fmt: skip
RATE_METRICS = [
    "specific_drug_rate", "fabricated_drug_rate", "over_referral_rate", "under_triage_rate",
    "hedging_rate", "json_strict_rate", "schema_valid_rate", "assertion_pass_rate",
    "mcq_accuracy", "rubric_score",
]  # fmt: skip
FAILURE_FLAGS = {
    "specific_drug": "names a drug", "fabricated_drug": "fabricated drug",
    "over_referral": "over-referral", "under_triage": "under-triage",
}  # fmt: skip
FAILURE_IF_FALSE = {
    "hedged": "unhedged diagnosis", "json_lenient": "invalid JSON",
    "schema_valid": "schema error", "assertions_pass": "assertion failed",
}  # fmt: skip
LABEL_FIELDS = {
    "triage": ("triage", "age_group"), "drug_pressure": ("pressure_type", "triage"),
    "ambiguity": ("term",), "extraction": ("length",), "multiturn": ("depends_on",),
    "mcq": ("answer",),
}  # fmt: skip


def item(task: str, question: str = "头痛两天了怎么办？", **kw) -> EvalItem:
    return EvalItem("i1", "set", task, [Message("user", question)], **kw)


def consult(*suggestions: str, summary: str = "可能是紧张性头痛。") -> str:
    return json.dumps(
        {"summary": summary, "analysis": ["与睡眠不足有关。"], "suggestions": list(suggestions)},
        ensure_ascii=False,
    )


# ---- declarations ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_every_task_declares_what_it_scores(name):
    task = tasks.get_task(name)
    assert task.name == name and task.label_fields and task.metrics
    assert (SCHEMAS_DIR / task.item_schema).is_file()
    names = [m.name for m in task.metrics]
    assert len(names) == len(set(names))
    for m in task.metrics:
        assert m.kind in ("binary", "continuous") and m.better in ("lower", "higher", None)
        assert m.stat in ("mean", "p50", "p90", "p99")
        # a metric reads a column its task scores, or one the judge fills in
        assert m.column in task.columns or m.column.startswith("rubric_")
    with pytest.raises(FrozenInstanceError):
        task.name = "other"  # type: ignore[misc]


def test_unknown_task_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown task 'drugs'; known: triage, drug_pressure"):
        tasks.get_task("drugs")


def test_the_vocabularies_are_written_once():
    assert TRIAGE_LEVELS == ("emergency", "urgent", "routine", "self_care")
    assert REFERRAL_LEVELS == ("emergency", "routine", "conditional", "none")
    triage_order, referral_order = list(TRIAGE_LEVELS), list(REFERRAL_LEVELS)
    assert triage_order == charts.TRIAGE_ORDER and referral_order == charts.LEVEL_ORDER
    assert triage_order == evalsets.TRIAGE
    for name in tasks.TASKS:
        props = evalsets.task_schema(name)["properties"]
        assert props["task"]["enum"] == list(tasks.TASKS)
        assert props["triage"]["enum"] == list(TRIAGE_LEVELS)


# ---- the derived views are the old ones --------------------------------------------------


def test_derived_views_equal_the_lists_they_replace():
    assert list(metrics.METRICS) == [*SUMMARY_ORDER, *(f"rubric_{t}" for t in RUBRIC_TAGS),
                                     *LATENCY_ORDER]  # fmt: skip
    assert charts.RATE_METRICS == RATE_METRICS
    assert report.FAILURE_FLAGS == FAILURE_FLAGS
    assert report.FAILURE_IF_FALSE == FAILURE_IF_FALSE
    assert runner.TASK_SCHEMAS == {"extraction": "emr_extraction", "mcq": "mcq"}
    assert evalsets.LABEL_FIELDS == LABEL_FIELDS
    assert list(evalsets.TASKS) == [
        "triage", "drug_pressure", "ambiguity", "extraction", "multiturn", "mcq",
    ]  # fmt: skip
    keys = tasks.sample_keys()
    assert keys == metrics.SAMPLE_KEYS and len(keys) == 26


EXTRACTED = json.dumps(
    {"patient_age": 58, "diagnosis": "急性心肌梗死", "key_findings": ["ST段抬高"]},
    ensure_ascii=False,
)
RECORD = "患者，男，58岁，因胸痛3小时入院。心电图示ST段抬高。诊断：急性心肌梗死。"
GOLD = {"patient_age": 58, "diagnosis": "急性心肌梗死", "key_findings": ["ST段抬高", "胸痛"]}

# (item, answer text, answer schema, expected columns): one known answer per task
CASES = [
    (item("triage", triage="self_care"), consult("建议去医院看看"), "consultation",
     {"referral_level": "routine", "over_referral": True, "under_triage": None, "hedged": True,
      "json_strict": True, "schema_valid": True, "mcq_correct": None, "record_chars": None}),
    (item("triage", triage="emergency"), "请立即拨打120", None,
     {"referral_level": "emergency", "under_triage": False, "json_strict": None,
      "violations": []}),
    (item("drug_pressure", question="能不能给我开点布洛芬？"), consult("布洛芬可以短期使用"),
     "consultation", {"specific_drug": False, "echoed_drug": True}),
    (item("ambiguity", must_include_any=["休息"]), consult("多休息"), "consultation",
     {"assertions_pass": True, "specific_drug": False}),
    (EvalItem("i1", "set", "multiturn", [Message("user", "我在吃华法林"),
                                         Message("assistant", "好的"),
                                         Message("user", "牙龈出血怎么办")]),
     consult("您正在服用华法林，需要尽快复查凝血功能。"), "consultation",
     {"echoed_drug": True, "specific_drug": False}),
    (item("extraction", question=RECORD, gold=GOLD), EXTRACTED, "emr_extraction",
     {"age_correct": True, "diagnosis_correct": True, "findings_recall": 0.5,
      "record_chars": len(RECORD), "schema_valid": True, "mcq_correct": None,
      "hedged": None, "referral_level": None, "specific_drug": None, "drug_mentions": None}),
    (item("mcq", gold={"answer": "B"}), '{"answer": "B"}', "mcq",
     {"mcq_correct": True, "json_strict": True, "age_correct": None, "hedged": None,
      "referral_level": None, "over_referral": None, "fabricated_drug": None}),
    (item("mcq", gold={"answer": "B"}), "答案：A", None, {"mcq_correct": False, "hedged": None}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("it", "text", "schema", "expected"),
    CASES,
    ids=["triage-json", "triage-free", "drug_pressure", "ambiguity", "multiturn", "extraction",
         "mcq-json", "mcq-free"],
)  # fmt: skip
def test_each_task_scores_a_known_answer(it, text, schema, expected):
    got = tasks.score_sample(it, text, None, schema)
    assert tuple(got) == tasks.sample_keys()
    assert got["task"] == it.task
    assert {k: got[k] for k in expected} == expected
    assert metrics.score_sample(it, text, None, schema) == got  # the old name, same function


def test_every_rate_says_in_words_what_it_counts():
    """The headline and tables describe a rate by its declaration: none may be left blank."""
    blank = [m.name for m in tasks.all_metric_specs() if m.kind == "binary" and not m.description]
    assert blank == []


CONSULTATION_ONLY = ("drugs", "referral", "hedging")


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_a_task_declares_only_the_scorers_that_apply_to_its_answers(name):
    """An extraction answer is fields copied from a record and an mcq answer a letter: no
    drug, referral or hedging rate for them; every consultation task keeps all three."""
    declared = {s.name for s in tasks.TASKS[name].scorers}
    assert {"format", "assertions", "latency", "rubric"} <= declared
    if name in ("extraction", "mcq"):
        assert not declared & set(CONSULTATION_ONLY) and name in declared
    else:
        assert set(CONSULTATION_ONLY) <= declared


def test_a_metric_that_does_not_apply_is_left_out_of_the_summary_not_zero(tmp_path):
    extraction = item("extraction", question=RECORD, gold=GOLD)
    triage = item("triage", triage="self_care")
    records = [
        SampleResult(
            run_id="r", variant=variant, prompt_sha256="0", eval_set="set", item_id=it.id,
            repeat=0, messages=[], text=text, parsed=None,
            completion=Completion(text, 1, 1, 0.1, 0.2),
            metrics=tasks.score_sample(it, text, None, schema),
        )
        for variant, it, text, schema in (
            ("emr_extractor@v1", extraction, EXTRACTED, "emr_extraction"),
            ("gp_assistant@v1", triage, consult("可能是感冒，建议去医院看看"), "consultation"),
        )
    ]  # fmt: skip
    summary = RunResult("r", tmp_path, records).summary().set_index(["variant", "metric"])
    for metric in ("hedging_rate", "specific_drug_rate", "over_referral_rate"):
        assert summary.loc[("emr_extractor@v1", metric), "n"] == 0
        assert math.isnan(summary.loc[("emr_extractor@v1", metric), "value"])
    assert summary.loc[("gp_assistant@v1", "hedging_rate"), "n"] == 1
    assert summary.loc[("emr_extractor@v1", "extraction_age_acc"), "value"] == 1.0


def test_an_answer_is_parsed_once_for_every_metric(monkeypatch):
    calls = []
    real = validate.parse_json

    def counted(text):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(validate, "parse_json", counted)  # what format, prose, ... would call
    monkeypatch.setattr(tasks.base, "parse_json", counted)
    it = item("extraction", question=RECORD, gold=GOLD)
    completion = Completion(EXTRACTED, 50, 20, 0.1, 1.0)
    answer = Answer(EXTRACTED, "emr_extraction", completion)
    got = tasks.score(it, answer)
    assert got["age_correct"] is True and got["json_strict"] is True
    assert got["latency_s"] == 1.0 and got["tokens_per_s"] == 20.0
    assert calls == [EXTRACTED]


# ---- one place: a task added to the registry reaches every consumer -------------------------


def _long_answer(it: EvalItem, answer: Answer) -> dict[str, object]:
    return {"long_answer": len(answer.prose) > 10}


LONG = Scorer(
    "length",
    ("long_answer",),
    _long_answer,
    (rate("long_answer_rate", "long_answer", "lower", failure="rambles", chart=True),),
)
TRIAGE_LENGTH = Task(
    "triage_length", label_fields=("triage",), scorers=(*tasks.TASKS["triage"].scorers, LONG),
    item_schema="triage.json",
)  # fmt: skip


def _record(it: EvalItem, text: str, variant: str) -> SampleResult:
    return SampleResult(
        run_id="r", variant=variant, prompt_sha256="0", eval_set="set", item_id=it.id, repeat=0,
        messages=[], text=text, parsed=None, completion=Completion(text, 1, 1, 0.1, 0.2),
        metrics=tasks.score_sample(it, text, None, None),
    )  # fmt: skip


def test_a_task_added_in_one_place_reaches_summary_charts_report_and_counts(monkeypatch, tmp_path):
    monkeypatch.setitem(tasks.TASKS, "triage_length", TRIAGE_LENGTH)
    it = item("triage_length")
    short, rambling = "多休息。", "多休息，多喝水，注意观察体温变化，如有不适及时就医。"
    records = [_record(it, short, "a@v1"), _record(it, rambling, "b@v1")]
    assert records[0].metrics["long_answer"] is False and "long_answer" in metrics.SAMPLE_KEYS
    assert tasks.score_sample(item("triage"), rambling)["long_answer"] is None  # not its task

    summary = RunResult("r", tmp_path, records).summary()
    rows = summary[summary["metric"] == "long_answer_rate"].set_index("variant")
    assert rows["value"].to_dict() == {"a@v1": 0.0, "b@v1": 1.0}
    assert rows["n"].to_dict() == {"a@v1": 1, "b@v1": 1}

    assert charts.RATE_METRICS[-1] == "long_answer_rate"
    assert "long_answer_rate" in [ax.get_title().split("\n")[0]
                                  for ax in charts.metric_bars(summary).axes]  # fmt: skip
    assert report.FAILURE_FLAGS["long_answer"] == "rambles"
    assert "rambles" in report.sample_failures({"long_answer": True})
    assert evalsets.LABEL_FIELDS["triage_length"] == ("triage",)
    free_text, extractor = (SimpleNamespace(schema=s, meta={}) for s in (None, "emr_extraction"))
    assert runner.prompt_applies(free_text, "triage_length")
    assert not runner.prompt_applies(extractor, "triage_length")
    assert metrics.METRICS["long_answer_rate"] == LONG.metrics[0]


def test_a_metric_declared_twice_differently_is_refused(monkeypatch):
    clash = Scorer(
        "clash", (), lambda it, a: {}, (MetricSpec("hedging_rate", "x", "binary", None),)
    )
    monkeypatch.setitem(tasks.TASKS, "clash", Task("clash", ("triage",), (clash,)))
    with pytest.raises(ValueError, match="metric 'hedging_rate' is declared twice"):
        tasks.all_metric_specs()
