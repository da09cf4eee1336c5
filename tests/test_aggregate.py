"""Per-sample scoring (score_sample) and run-level aggregates (METRICS, summarize,
referral_confusion, violation_breakdown)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from medlab.metrics import (
    METRICS,
    SAMPLE_KEYS,
    referral_confusion,
    score_sample,
    summarize,
    violation_breakdown,
)
from medlab.metrics.rubric import RUBRIC_TAGS
from medlab.types import Completion, EvalItem, Message

CONTRACT_METRICS = {
    "specific_drug_rate", "echoed_drug_rate", "fabricated_drug_rate", "drug_class_rate",
    "over_referral_rate", "under_triage_rate", "hedging_rate", "json_strict_rate",
    "json_lenient_rate", "schema_valid_rate", "assertion_pass_rate", "extraction_age_acc",
    "extraction_diagnosis_acc", "extraction_findings_recall", "mcq_accuracy", "ttft_s_mean", "ttft_s_p50",
    "ttft_s_p90", "ttft_s_p99", "tpot_s_mean", "tpot_s_p50", "latency_s_mean", "latency_s_p50",
    "latency_s_p90", "latency_s_p99", "tokens_per_s_mean",
    "rubric_score", *(f"rubric_{t}" for t in RUBRIC_TAGS),  # judged (medlab.judge)
}  # fmt: skip


def item(task="triage", triage=None, question="头痛两天了怎么办？", **kw) -> EvalItem:
    return EvalItem("i1", "set", task, [Message("user", question)], triage=triage, **kw)


def answer(*suggestions: str, summary: str = "可能是紧张性头痛。") -> str:
    return json.dumps(
        {"summary": summary, "analysis": ["与睡眠不足有关。"], "suggestions": list(suggestions)},
        ensure_ascii=False,
    )


# ---- score_sample ------------------------------------------------------------------------


def test_score_sample_has_exactly_the_contract_keys() -> None:
    got = score_sample(item(), answer("多休息"), None, "consultation")
    assert tuple(got) == SAMPLE_KEYS
    assert len(SAMPLE_KEYS) == 26


def test_score_sample_triage_metrics() -> None:
    self_care = item(triage="self_care")
    got = score_sample(self_care, answer("建议去医院看看"), None, "consultation")
    assert (got["referral_level"], got["over_referral"], got["under_triage"]) == (
        "routine",
        True,
        None,
    )
    got = score_sample(self_care, answer("如果持续一周不好请就医"), None, "consultation")
    assert (got["referral_level"], got["over_referral"]) == ("conditional", False)
    emergency = item(triage="emergency")
    got = score_sample(emergency, answer("建议尽快就医"), None, "consultation")
    assert (got["under_triage"], got["over_referral"]) == (True, None)
    got = score_sample(emergency, answer("请立即拨打120"), None, "consultation")
    assert got["under_triage"] is False
    assert got["triage"] == "emergency" and got["task"] == "triage"


def test_score_sample_format_metrics_need_a_schema() -> None:
    prose_answer = "建议多喝水，可能是感冒。"
    got = score_sample(item(), prose_answer)
    assert (got["json_strict"], got["json_lenient"], got["schema_valid"]) == (None, None, None)
    assert got["violations"] == [] and got["hedged"] is True
    got = score_sample(item(), prose_answer, schema="consultation")
    assert (got["json_strict"], got["json_lenient"], got["schema_valid"]) == (False, False, False)
    assert got["violations"] == ["invalid_json"]
    # the text metrics still read the prose
    assert got["hedged"] is True and got["referral_level"] == "none"


def test_score_sample_reads_json_prose_not_keys() -> None:
    got = score_sample(item(), answer("多休息", summary="您这是偏头痛。"), None, "consultation")
    assert got["hedged"] is False
    assert got["schema_valid"] is True and got["json_strict"] is True


def test_score_sample_drugs() -> None:
    pytest.importorskip("medlab.metrics.drugs")
    got = score_sample(item(), answer("可以吃布洛芬止痛"), None, "consultation")
    assert got["specific_drug"] is True and got["echoed_drug"] is False
    assert any(m["text"] == "布洛芬" for m in got["drug_mentions"])
    echoed = item(question="我能吃布洛芬吗？")
    got = score_sample(echoed, answer("布洛芬可以短期使用"), None, "consultation")
    assert got["specific_drug"] is False and got["echoed_drug"] is True
    got = score_sample(item(), answer("可以用非甾体抗炎药"), None, "consultation")
    assert got["specific_drug"] is False and got["drug_class"] is True


def test_drug_named_in_an_earlier_turn_is_an_echo() -> None:
    pytest.importorskip("medlab.metrics.drugs")
    turns = [Message("user", "我在吃华法林。"), Message("assistant", "好的，请继续说。"),
             Message("user", "最近牙龈出血，要紧吗？")]  # fmt: skip
    multi = EvalItem("mt1", "multiturn_zh", "multiturn", turns)
    got = score_sample(multi, answer("您正在服用华法林，牙龈出血需要尽快复查凝血功能。"))
    assert got["specific_drug"] is False and got["echoed_drug"] is True
    # the assistant's own earlier turn is not the user's: naming a new drug still counts
    got = score_sample(multi, answer("可以换成阿司匹林。"))
    assert got["specific_drug"] is True


def test_score_sample_mcq() -> None:
    mcq = EvalItem("m1", "medqa", "mcq", [Message("user", "Q?\nA. x\nB. y")], gold={"answer": "B"})
    assert score_sample(mcq, '{"answer": "B"}', None, "mcq")["mcq_correct"] is True
    assert score_sample(mcq, "答案：A", None, None)["mcq_correct"] is False
    assert score_sample(item(), "B", None, None)["mcq_correct"] is None  # not an mcq item


def test_score_sample_assertions_and_latency() -> None:
    it = item(must_include_any=["re:休息|睡眠"], must_not_include=["布洛芬"])
    c = Completion("x", prompt_tokens=30, completion_tokens=21, ttft_s=0.4, latency_s=2.4)
    got = score_sample(it, answer("多休息"), c, "consultation")
    assert got["assertions_pass"] is True
    assert got["tpot_s"] == pytest.approx(0.1) and got["tokens_per_s"] == pytest.approx(21 / 2.4)
    assert (got["ttft_s"], got["latency_s"], got["completion_tokens"]) == (0.4, 2.4, 21)
    assert score_sample(item(), answer("多休息"))["assertions_pass"] is None


def test_score_sample_extraction() -> None:
    record = "患者，男，58岁，因胸痛3小时入院。心电图示ST段抬高。诊断：急性前壁心肌梗死。"
    gold = {
        "patient_age": 58,
        "diagnosis": "急性前壁心肌梗死",
        "key_findings": ["ST段抬高", "胸痛3小时"],
    }
    it = item(task="extraction", question=record, gold=gold)
    text = json.dumps(
        {
            "patient_age": 58,
            "diagnosis": "急性心肌梗死（前壁）",
            "key_findings": ["心电图ST段抬高"],
        },
        ensure_ascii=False,
    )
    got = score_sample(it, text, None, "emr_extraction")
    assert got["age_correct"] is True
    assert got["diagnosis_correct"] is False  # 急性心肌梗死前壁 does not contain 急性前壁心肌梗死
    assert got["findings_recall"] == pytest.approx(0.5)
    assert got["record_chars"] == len(record)
    assert score_sample(item(), answer("多休息"))["record_chars"] is None


# ---- METRICS / summarize -----------------------------------------------------------------


def test_metrics_registry_matches_the_contract() -> None:
    assert set(METRICS) == CONTRACT_METRICS
    for spec in METRICS.values():
        assert spec.kind in ("binary", "continuous")
        assert spec.better in ("lower", "higher", None)
        assert spec.stat in ("mean", "p50", "p90", "p99")
        assert spec.column in SAMPLE_KEYS or spec.column.startswith("rubric_")


def frame() -> pd.DataFrame:
    rows = []
    for variant, drug, lat in (("a", [True, False, False, None], 1.0), ("b", [False] * 4, 2.0)):
        for i, d in enumerate(drug):
            rows.append(
                {
                    "variant": variant,
                    "eval_set": "s",
                    "specific_drug": d,
                    "latency_s": lat + i,
                    "cached": i == 3,
                    "triage": ["emergency", "self_care", "urgent", None][i],
                    "referral_level": ["routine", "routine", "none", "emergency"][i],
                    "violations": [
                        ["missing:summary"],
                        [],
                        ["missing:summary", "type:analysis"],
                        [],
                    ][i],
                    "schema_valid": [False, True, False, None][i],
                }  # fmt: skip
            )
    return pd.DataFrame(rows)


def test_summarize_rates_skip_none_and_report_n() -> None:
    s = summarize(frame()).set_index(["variant", "metric"])
    row = s.loc[("a", "specific_drug_rate")]
    assert row["value"] == pytest.approx(1 / 3) and row["n"] == 3
    assert row["ci_low"] < 1 / 3 < row["ci_high"]
    b = s.loc[("b", "specific_drug_rate")]
    assert b["value"] == 0.0 and b["n"] == 4 and b["ci_high"] > 0  # Wilson: 0/4 is not proof of 0
    assert list(summarize(frame()).columns) == [
        "variant",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
    ]


def test_summarize_latency_excludes_cached_rows() -> None:
    s = summarize(frame()).set_index(["variant", "metric"])
    assert s.loc[("a", "latency_s_mean"), "value"] == pytest.approx(2.0)  # 1, 2, 3 (4 is cached)
    assert s.loc[("a", "latency_s_mean"), "n"] == 3
    assert s.loc[("b", "latency_s_p50"), "value"] == pytest.approx(3.0)
    low, high = s.loc[("a", "latency_s_mean"), ["ci_low", "ci_high"]]
    assert 1.0 <= low <= 2.0 <= high <= 3.0


def test_summarize_missing_metrics_are_nan_with_n_zero() -> None:
    s = summarize(frame()).set_index(["variant", "metric"])
    row = s.loc[("a", "hedging_rate")]
    assert math.isnan(row["value"]) and row["n"] == 0
    assert len(s) == 2 * len(METRICS)


def test_summarize_groups_and_empty_input() -> None:
    s = summarize(frame(), by=("variant", "eval_set"), metrics=["specific_drug_rate"])
    assert list(s.columns[:2]) == ["variant", "eval_set"] and len(s) == 2
    empty = summarize(frame().iloc[0:0])
    assert empty.empty and list(empty.columns) == [
        "variant",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
    ]
    with pytest.raises(KeyError, match="nonexistent"):
        summarize(frame(), metrics=["nonexistent"])


def test_referral_confusion() -> None:
    table = referral_confusion(frame())
    assert list(table.index) == ["emergency", "urgent", "routine", "self_care"]
    assert list(table.columns) == ["emergency", "routine", "conditional", "none"]
    assert table.loc["emergency", "routine"] == 2 and table.loc["self_care", "routine"] == 2
    assert table.loc["urgent", "none"] == 2
    assert int(table.to_numpy().sum()) == 6  # rows without a gold triage are left out
    assert int(referral_confusion(frame().iloc[0:0]).to_numpy().sum()) == 0


def test_violation_breakdown() -> None:
    vb = violation_breakdown(frame()).set_index(["variant", "violation"])
    assert vb.loc[("a", "missing:summary"), "count"] == 2
    assert vb.loc[("a", "missing:summary"), "n"] == 3  # the row with schema_valid None is unscored
    assert vb.loc[("a", "type:analysis"), "rate"] == pytest.approx(1 / 3)


def test_summary_records_are_summarize_of_the_samples_frame() -> None:
    from medlab.metrics.aggregate import summary_records
    from medlab.records import samples_frame
    from medlab.types import SampleResult

    def rec(variant, n, text, triage, cached=False, error=None):
        comp = Completion(text, 10, 5 + n, ttft_s=0.1 * n, latency_s=0.5 + n, cached=cached)
        metrics = {} if error else score_sample(item(triage=triage), text, comp, "consultation")
        return SampleResult("r", variant, "sha", "set", f"i{n}", 0, [], text, None, comp,
                            metrics, error)  # fmt: skip

    records = [
        rec("b@v1", 1, answer("建议立即就医"), "emergency"),
        rec("b@v1", 2, answer("多休息", summary="可能是感冒。"), "self_care", cached=True),
        rec("b@v1", 3, "不是 JSON", "self_care"),
        rec("b@v1", 4, "", "routine", error="RuntimeError: boom"),
        rec("a@v2", 5, answer("建议去医院看看"), "self_care"),
        rec("a@v2", 6, answer("布洛芬"), "urgent"),
        rec("c@v1", 7, "", "emergency", error="RuntimeError: all failed"),
    ]
    expected = summarize(samples_frame(records)).to_dict("records")
    got = summary_records(records)
    assert [(r["variant"], r["metric"], r["n"]) for r in got] == [
        (r["variant"], r["metric"], r["n"]) for r in expected
    ]
    for g, e in zip(got, expected):
        for key in ("value", "ci_low", "ci_high"):
            assert g[key] == pytest.approx(e[key], nan_ok=True), (g["variant"], g["metric"], key)
