"""The detectors on the project's labelled answers (tests/data/labelled_answers.jsonl).

Goals: referral accuracy >= 0.90 with each level's recall >= 0.85, hedging accuracy >= 0.90,
specific-drug F1 >= 0.95 (generic + brand names, echoes included). ``benchmarks/detectors.py``
prints the full table and the answers each detector gets wrong; ``benchmarks/scoring.py`` and
``benchmarks/detectors.py --speed`` time the detectors (no timing here: a shared machine's load
would make it flaky).
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest
from detector_accuracy import drug_match, evaluate

from medlab.metrics.referral import LEVELS

DATA = Path(__file__).resolve().parent / "data" / "labelled_answers.jsonl"

FIELDS = {"id", "language", "format", "text", "referral", "hedging", "specific_drugs", "classes",
          "fabricated", "echo"}  # fmt: skip


def load() -> list[dict]:
    rows = []
    with open(DATA, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            missing = FIELDS - set(rec)
            assert not missing, f"{DATA.name}:{n}: missing field(s) {sorted(missing)}"
            rows.append(rec)
    return rows


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return load()


@pytest.fixture(scope="module")
def result(records: list[dict]) -> dict:
    """The detectors scored on the whole set, once for the module."""
    return evaluate(records)


def test_the_set_is_large_varied_and_well_formed(records: list[dict]) -> None:
    assert len(records) >= 220
    assert len({r["id"] for r in records}) == len(records)
    assert len({r["text"] for r in records}) == len(records)
    langs = Counter(r["language"] for r in records)
    assert 0.55 <= langs["zh"] / len(records) <= 0.65 and langs["en"] + langs["zh"] == len(records)
    formats = Counter(r["format"] for r in records)
    assert formats["json"] >= 40 and formats["prose"] >= 100
    for r in records:
        assert r["referral"] in LEVELS, r["id"]
        assert r["hedging"] in (True, False, None), r["id"]
        if r["format"] == "json":
            assert set(json.loads(r["text"])) == {"summary", "analysis", "suggestions"}, r["id"]
        for name in r["echo"]:
            assert name in r.get("question", ""), f"{r['id']}: echo {name!r} not in the question"
        for name in r["specific_drugs"]:
            assert name.casefold() in r["text"].casefold(), f"{r['id']}: {name!r} not in the text"
    levels = Counter(r["referral"] for r in records)
    assert min(levels.values()) >= 30, levels
    assert min(Counter(r["hedging"] for r in records).values()) >= 30


def test_referral_accuracy_and_recall_per_level(result: dict) -> None:
    ref = result["referral"]
    assert ref["accuracy"] >= 0.90
    for level, _p, recall, _f1, n in ref["per_level"]:
        assert recall >= 0.85, f"{level}: recall {recall:.2f} over {n}"


def test_hedging_accuracy(result: dict) -> None:
    assert result["hedging"]["accuracy"] >= 0.90


def test_specific_drug_f1(result: dict) -> None:
    if importlib.util.find_spec("medlab.metrics.drugs") is None:
        pytest.skip("medlab.metrics.drugs is not available")
    precision, recall, f1 = result["drugs"]["prf"]
    assert f1 >= 0.95, f"specific-drug F1 {f1:.3f} (P {precision:.2f}, R {recall:.2f})"


@pytest.mark.parametrize(
    "gold,found,expected",
    [
        (["布洛芬"], ["布洛芬"], (1, 0, 0)),
        (["布洛芬缓释胶囊"], ["布洛芬"], (1, 0, 0)),
        (["Advil"], ["advil", "ADVIL"], (1, 0, 0)),
        (["布洛芬", "美林"], ["美林"], (1, 0, 1)),
        ([], ["头孢"], (0, 1, 0)),
        # labels span every occurrence; names count once, as found names do
        (["西地地平", "西地地平片", "西地地平片"], ["西地地平"], (1, 0, 0)),
        (["西地地平片", "痛舒宁", "痛舒宁"], ["西地地平"], (1, 0, 1)),
        (["西地地平", "西地地平片"], ["西地地平", "西地地平片"], (1, 0, 0)),
    ],
)
def test_drug_match(gold, found, expected) -> None:
    assert drug_match(gold, found) == expected
