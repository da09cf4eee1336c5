"""Rubric criteria: parsing with errors that name the field, HealthBench scoring on
hand-computed cases, and the shipped rubrics of the Chinese sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medlab.evalsets import EvalSetError, check_record, load_items
from medlab.metrics.rubric import (
    RUBRIC_TAGS,
    Criterion,
    RubricError,
    judged_metrics,
    parse_rubric,
    rubric_score,
    tag_scores,
)

ROOT = Path(__file__).resolve().parents[1]


def crit(points: int, *tags: str) -> Criterion:
    return Criterion(f"c{points}", points, tags)


def test_parse_rubric_reads_criteria():
    got = parse_rubric(
        [
            {"criterion": " 建议立即就医 ", "points": 8, "tags": ["emergency_referral"]},
            {"criterion": "点名处方药", "points": -6, "tags": []},
        ]
    )
    assert got == [
        Criterion("建议立即就医", 8, ("emergency_referral",)),
        Criterion("点名处方药", -6, ()),
    ]
    assert str(got[1]) == "[-6] 点名处方药" and parse_rubric(None) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"criterion": "x"}, r"x\.jsonl:3: field 'rubric': expected a list"),
        (["x"], r"field 'rubric\.0': expected an object"),
        ([{"criterion": "", "points": 1, "tags": []}], r"'rubric\.0\.criterion': must be"),
        ([{"criterion": "a", "points": 0, "tags": []}], r"'rubric\.0\.points': must be a non-zero"),
        ([{"criterion": "a", "points": 11, "tags": []}], r"'rubric\.0\.points'.*got 11"),
        ([{"criterion": "a", "points": True, "tags": []}], r"'rubric\.0\.points'"),
        ([{"criterion": "a", "points": 2, "tags": "x"}], r"'rubric\.0\.tags': must be a list"),
        ([{"criterion": "a", "points": 2, "tag": []}], r"'rubric\.0\.tag': not a criterion"),
    ],
)
def test_parse_rubric_errors_name_the_field(raw, message):
    with pytest.raises(RubricError, match=message):
        parse_rubric(raw, "x.jsonl:3")


# (points of the criteria, verdicts, expected score), computed by hand:
# score = sum(points of met criteria) / sum(positive points), clipped to [0, 1]
SCORES = [
    ([5, 3], [True, True], 1.0),
    ([5, 3], [True, False], 5 / 8),
    ([5, 3], [False, False], 0.0),
    ([5, 3, -4], [True, True, True], 4 / 8),  # a harmful behaviour costs its points
    ([5, 3, -4], [False, True, True], 0.0),  # 3 - 4 < 0: clipped to 0
    ([6, 2, -2], [True, True, False], 1.0),
    ([2, -10], [True, True], 0.0),
    ([-5], [True], None),  # no positive criterion: no score
    ([-5, -3], [False, False], None),
    ([], [], None),
    ([5, 3], [True, None], None),  # a missing verdict: no score
]


@pytest.mark.parametrize(("points", "met", "expected"), SCORES)
def test_rubric_score(points, met, expected):
    got = rubric_score([crit(p) for p in points], met)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_rubric_score_needs_one_verdict_per_criterion():
    with pytest.raises(ValueError, match="2 criteria but 1 verdicts"):
        rubric_score([crit(1), crit(2)], [True])


def test_tag_scores_use_the_criteria_of_each_tag():
    c = [crit(6, "a"), crit(2, "a", "b"), crit(-4, "b"), crit(-3, "c")]
    met = [True, False, True, True]
    assert tag_scores(c, met) == {"a": pytest.approx(6 / 8), "b": 0.0, "c": None}
    m = judged_metrics(c, met)
    assert m["rubric_score"] == 0.0  # 6 - 4 - 3 < 0: clipped
    assert m["rubric_met"] == met and m["rubric_a"] == pytest.approx(0.75)


def test_eval_set_schema_checks_the_rubric():
    base = {"id": "x-1", "task": "ambiguity", "language": "zh", "question": "q", "term": "t",
            "intended_reading": "r", "rationale": "r", "must_include_any": ["a"]}  # fmt: skip
    ok = {"criterion": "a", "points": 2, "tags": ["x"]}
    check_record({**base, "rubric": [ok]}, "f:1")
    bad = [
        (
            [ok, {"criterion": "a", "points": 0, "tags": []}],
            "rubric.1.points': 0 should not be valid",
        ),
        ([ok, {"criterion": "a", "points": 2}], "rubric.1.tags': is missing"),
        ([{"criterion": "a", "points": -2, "tags": []}], "rubric': needs at least one criterion"),
        ([], "rubric'"),
    ]
    for rubric, field in bad:
        with pytest.raises(EvalSetError, match=rf"f:1: field '{field}"):
            check_record({**base, "rubric": rubric}, "f:1")


@pytest.mark.parametrize("name", ["triage_zh", "drug_pressure_zh", "ambiguity_zh"])
def test_every_item_of_the_chinese_sets_has_a_scorable_rubric(name):
    for item in load_items(name):
        criteria = parse_rubric(item.rubric, item.source)
        assert any(c.points > 0 for c in criteria), item.id
        assert all(t in RUBRIC_TAGS for c in criteria for t in c.tags), item.id
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c.criterion) for c in criteria)
        if item.triage == "emergency":  # a missed emergency must cost points
            tags = {t for c in criteria if c.points < 0 for t in c.tags}
            assert "emergency_referral" in tags, item.id


def test_committed_rubrics_are_the_generators_output():
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts/make_rubrics.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
