"""Extraction metrics: exact age, normalised diagnosis match, fuzzy key-finding recall."""

from __future__ import annotations

import pytest

from medlab.metrics.extraction import (
    age_correct,
    diagnosis_correct,
    extraction_metrics,
    findings_recall,
    normalize,
)


@pytest.mark.parametrize(
    "pred,gold,expected",
    [
        (45, 45, True),
        ("45岁", 45, True),
        (45.0, 45, True),
        ("４５", 45, True),
        (46, 45, False),
        (True, 1, False),
        (None, 45, False),
        ("45-50", 45, False),
        (45, None, None),
    ],
)
def test_age_correct(pred, gold, expected) -> None:
    assert age_correct(pred, gold) is expected


@pytest.mark.parametrize(
    "pred,gold,expected",
    [
        ("2型糖尿病", "2型糖尿病", True),
        ("疑似急性阑尾炎", "急性阑尾炎", True),
        ("阑尾炎", "急性阑尾炎", True),  # containment either way counts
        ("急性化脓性阑尾炎", "急性阑尾炎", False),
        ("社区获得性肺炎。", "社区获得性肺炎", True),
        ("Ｔ２ＤＭ", "t2dm", True),
        ("Possible community-acquired pneumonia", "community acquired pneumonia", True),
        ("胃炎", "急性胆囊炎", False),
        ("炎", "肺炎", False),  # one character is not a diagnosis
        ("", "肺炎", False),
        (None, "肺炎", False),
        ("高血压", ["原发性高血压", "高血压病"], True),
        ("肺炎", None, None),
    ],
)
def test_diagnosis_correct(pred, gold, expected) -> None:
    assert diagnosis_correct(pred, gold) is expected


def test_normalize() -> None:
    assert normalize(" 初步诊断：疑似 急性胃肠炎！") == "急性胃肠炎"
    assert normalize("Suspected: Acute Gastritis.") == "acutegastritis"


def test_findings_recall_is_fuzzy_per_gold_finding() -> None:
    gold = ["右下腹压痛", "白细胞升高", "体温38.5℃"]
    # contained in a longer finding; spacing/punctuation differ; a reworded finding is missed
    pred = ["右下腹压痛及反跳痛", "白细胞计数升高", "体温 38.5 ℃。"]
    assert findings_recall(pred, gold) == pytest.approx(2 / 3)
    assert findings_recall(["白细胞升高", "右下腹压痛", "体温38.5℃"], gold) == 1.0
    assert findings_recall([], gold) == 0.0
    assert findings_recall("not a list", gold) == 0.0
    assert findings_recall(["x"], []) is None


def test_findings_recall_threshold() -> None:
    gold = ["白细胞升高"]
    assert findings_recall(["白细胞计数升高"], gold, threshold=70) == 1.0
    assert findings_recall(["血红蛋白降低"], gold, threshold=80) == 0.0


def test_extraction_metrics_of_unparsed_answer_are_wrong_not_missing() -> None:
    gold = {"patient_age": 60, "diagnosis": "心房颤动", "key_findings": ["心律绝对不齐"]}
    assert extraction_metrics(None, gold) == {
        "age_correct": False,
        "diagnosis_correct": False,
        "findings_recall": 0.0,
    }
    value = {"patient_age": 60, "diagnosis": "房颤（心房颤动）", "key_findings": ["心律绝对不齐"]}
    assert extraction_metrics(value, gold) == {
        "age_correct": True,
        "diagnosis_correct": True,
        "findings_recall": 1.0,
    }


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("急性化脓性阑尾炎", "阑尾炎", True),  # a qualifier more
        ("高血压、2型糖尿病、急性阑尾炎、冠心病", "急性阑尾炎", False),  # main diagnosis is first
        ("急性阑尾炎、高血压", "急性阑尾炎", True),
        ("1. 急性阑尾炎 2. 高血压", "急性阑尾炎", True),
        ("患者因转移性右下腹痛入院，查体麦氏点压痛，血常规白细胞升高，诊断急性阑尾炎，行手术治疗",
         "急性阑尾炎", False),  # a pasted paragraph
    ],
)  # fmt: skip
def test_diagnosis_cannot_be_won_by_listing_or_pasting(pred, gold, expected):
    assert diagnosis_correct(pred, gold) is expected


def test_findings_cannot_be_won_by_pasting_the_record():
    gold = ["白细胞升高", "麦氏点压痛", "发热38.5℃"]
    record = "患者三天前出现腹痛，查体麦氏点压痛，体温发热38.5℃，血常规示白细胞升高，" * 3
    assert findings_recall([record], gold) == 0.0
    assert findings_recall(["麦氏点压痛", "血常规：白细胞升高"], gold) == pytest.approx(2 / 3)
    # only the schema's first 10 findings count
    padded = [f"无关{i}" for i in range(10)] + gold
    assert findings_recall(padded, gold) == 0.0
