"""The detectors on held-out answers (tests/data/heldout_answers.jsonl).

These answers were written and labelled from the definitions (DESIGN.md, docs/readme/metrics.md)
before the detectors' rules were read, to check that the rules generalise beyond the set they
were tuned on. Goals as for the labelled set: referral accuracy >= 0.90 with each level's
recall >= 0.85, hedging accuracy >= 0.90, specific-drug F1 >= 0.95.
``python benchmarks/detectors.py --data tests/data/heldout_answers.jsonl --errors`` prints the
table and the answers each detector gets wrong.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from medlab.metrics.referral import LEVELS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "heldout_answers.jsonl"
LABELLED = ROOT / "tests" / "data" / "labelled_answers.jsonl"
sys.path.insert(0, str(ROOT / "benchmarks"))
from detectors import evaluate  # noqa: E402

FIELDS = {"id", "language", "format", "text", "referral", "hedging", "specific_drugs", "classes",
          "fabricated", "echo"}  # fmt: skip


def load(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssertionError(f"{path.name}:{n}: not JSON ({exc})") from None
            missing = FIELDS - set(rec)
            assert not missing, f"{path.name}:{n}: missing field(s) {sorted(missing)}"
            rows.append(rec)
    return rows


RECORDS = load(DATA)
RESULT = evaluate(RECORDS)


def test_the_set_is_well_formed_varied_and_new() -> None:
    assert len(RECORDS) >= 150
    assert len({r["id"] for r in RECORDS}) == len(RECORDS)
    texts = {r["text"] for r in RECORDS}
    assert len(texts) == len(RECORDS)
    assert not texts & {r["text"] for r in load(LABELLED)}, "held-out answers must be new"
    langs = Counter(r["language"] for r in RECORDS)
    assert 0.55 <= langs["zh"] / len(RECORDS) <= 0.65 and langs["en"] + langs["zh"] == len(RECORDS)
    assert Counter(r["format"] for r in RECORDS)["json"] >= 30
    for r in RECORDS:
        assert r["referral"] in LEVELS, r["id"]
        assert r["hedging"] in (True, False, None), r["id"]
        if r["format"] == "json":
            assert set(json.loads(r["text"])) == {"summary", "analysis", "suggestions"}, r["id"]
        for name in r["echo"]:
            assert name in r.get("question", ""), f"{r['id']}: echo {name!r} not in the question"
        for name in r["specific_drugs"]:
            assert name.casefold() in r["text"].casefold(), f"{r['id']}: {name!r} not in the text"
    assert min(Counter(r["referral"] for r in RECORDS).values()) >= 30
    assert min(Counter(r["hedging"] for r in RECORDS).values()) >= 30


def test_referral_accuracy_and_recall_per_level() -> None:
    ref = RESULT["referral"]
    assert ref["accuracy"] >= 0.90, f"referral accuracy {ref['accuracy']:.3f}"
    for level, _p, recall, _f1, n in ref["per_level"]:
        assert recall >= 0.85, f"{level}: recall {recall:.2f} over {n}"


def test_hedging_accuracy() -> None:
    assert RESULT["hedging"]["accuracy"] >= 0.90, (
        f"hedging accuracy {RESULT['hedging']['accuracy']:.3f}"
    )


def test_specific_drug_f1() -> None:
    if importlib.util.find_spec("medlab.metrics.drugs") is None:
        pytest.skip("medlab.metrics.drugs is not available")
    precision, recall, f1 = RESULT["drugs"]["prf"]
    assert f1 >= 0.95, f"specific-drug F1 {f1:.3f} (P {precision:.2f}, R {recall:.2f})"
