"""The detectors on held-out answers (tests/data/heldout_answers.jsonl, heldout2_, heldout3_).

These answers were written and labelled from the definitions (DESIGN.md, the README, "Metrics")
before the detectors' rules were read, to check that the rules generalise beyond the set they
were tuned on; the second set was written after the first one had been used to fix rules.
Goals as for the labelled set: referral accuracy >= 0.90 with each level's recall >= 0.85,
hedging accuracy >= 0.90, specific-drug F1 >= 0.95.
``python benchmarks/detectors.py --data tests/data/heldout_answers.jsonl --errors`` prints the
table and the answers each detector gets wrong.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from detector_accuracy import evaluate, load_real
from scripts_loader import load_script

from medlab.metrics.referral import LEVELS
from medlab.validate import parse_json

DATA_DIR = Path(__file__).resolve().parent / "data"
LABELLED = DATA_DIR / "labelled_answers.jsonl"

FIELDS = {"id", "language", "format", "text", "referral", "hedging", "specific_drugs", "classes",
          "fabricated", "echo"}  # fmt: skip
# each held-out set and the least it must hold: answers, JSON answers, answers per label
SETS = {
    "heldout_answers.jsonl": {"n": 150, "json": 30, "per_label": 30},
    "heldout2_answers.jsonl": {"n": 120, "json": 25, "per_label": 25},
    "heldout3_answers.jsonl": {"n": 90, "json": 20, "per_label": 20},
}


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


@cache
def records(name: str) -> list[dict]:
    return load(DATA_DIR / name)


@cache
def result(name: str) -> dict:
    return evaluate(records(name))


@pytest.fixture(params=sorted(SETS))
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_the_set_is_well_formed_varied_and_new(name: str) -> None:
    rows, need = records(name), SETS[name]
    assert len(rows) >= need["n"]
    assert len({r["id"] for r in rows}) == len(rows)
    texts = {r["text"] for r in rows}
    assert len(texts) == len(rows)
    assert not texts & {r["text"] for r in load(LABELLED)}, "held-out answers must be new"
    for other in SETS:
        if other != name:
            assert not texts & {r["text"] for r in records(other)}, f"answers shared with {other}"
    langs = Counter(r["language"] for r in rows)
    assert 0.55 <= langs["zh"] / len(rows) <= 0.65 and langs["en"] + langs["zh"] == len(rows)
    assert Counter(r["format"] for r in rows)["json"] >= need["json"]
    for r in rows:
        assert r["referral"] in LEVELS, r["id"]
        assert r["hedging"] in (True, False, None), r["id"]
        if r["format"] == "json":  # some wrapped in fences or prose, as models write them
            value = parse_json(r["text"]).value
            assert set(value or {}) == {"summary", "analysis", "suggestions"}, r["id"]
        for drug in r["echo"]:
            assert drug in r.get("question", ""), f"{r['id']}: echo {drug!r} not in the question"
        for drug in r["specific_drugs"]:
            assert drug.casefold() in r["text"].casefold(), f"{r['id']}: {drug!r} not in the text"
    assert min(Counter(r["referral"] for r in rows).values()) >= need["per_label"]
    assert min(Counter(r["hedging"] for r in rows).values()) >= need["per_label"]


def test_referral_accuracy_and_recall_per_level(name: str) -> None:
    ref = result(name)["referral"]
    assert ref["accuracy"] >= 0.90, f"referral accuracy {ref['accuracy']:.3f}"
    for level, _p, recall, _f1, n in ref["per_level"]:
        assert recall >= 0.85, f"{level}: recall {recall:.2f} over {n}"


def test_hedging_accuracy(name: str) -> None:
    accuracy = result(name)["hedging"]["accuracy"]
    assert accuracy >= 0.90, f"hedging accuracy {accuracy:.3f}"


def test_specific_drug_f1(name: str) -> None:
    if importlib.util.find_spec("medlab.metrics.drugs") is None:
        pytest.skip("medlab.metrics.drugs is not available")
    precision, recall, f1 = result(name)["drugs"]["prf"]
    assert f1 >= 0.95, f"specific-drug F1 {f1:.3f} (P {precision:.2f}, R {recall:.2f})"


def test_real_model_answers_hold_on_their_heldout_part() -> None:
    """Issue 13's goals on the held-out part of the hand-labelled real model answers
    (tests/data/real_answers/, split ``heldout``, 4,091 answers, v33): referral >= 0.90 with
    each level's recall >= 0.85, hedging >= 0.90 and specific-drug F1 >= 0.95 (0.959; 0.963 on
    the part never read nor trained on) are met. Invented names reach R 0.85 at P 0.94 here,
    but the drug-slot model is trained on the held-out batches that were read; the next test
    holds the part never read nor trained on. The floors are held near what was measured, so a
    change that buys ``dev`` accuracy by losing it here fails."""
    if importlib.util.find_spec("medlab.metrics.drugs") is None:
        pytest.skip("medlab.metrics.drugs is not available")
    res = evaluate(load_real()["heldout"])
    ref = res["referral"]
    assert ref["accuracy"] >= 0.90, f"referral accuracy {ref['accuracy']:.3f}"
    for level, _p, recall, _f1, n in ref["per_level"]:
        assert recall >= 0.85, f"{level}: {recall:.3f} of {n}"
    assert res["drugs"]["prf"][2] >= 0.94, f"specific-drug P/R/F1 {res['drugs']['prf']}"
    assert res["hedging"]["accuracy"] >= 0.90, f"hedging {res['hedging']['accuracy']:.3f}"
    precision, recall, _ = res["fabricated"]["prf"]
    assert recall >= 0.80 and precision >= 0.90, f"invented P {precision:.2f} R {recall:.2f}"


def test_real_model_answers_hold_on_the_heldout_part_never_read() -> None:
    """The held-out answers never read nor trained on (v1-v12, v15, v18, v23, v25, v27, v28,
    v30-v33: 2,218 answers; the read batches are ``READ_HELDOUT`` of
    scripts/train_drug_slots.py) are the cleanest estimate. Issue 13's goals, which the floors
    are, hold there: specific-drug F1 0.963, referral 0.948 with every level's recall >= 0.878,
    hedging 0.911, invented names R 0.824 [0.78, 0.86] at P 0.921 [0.89, 0.95] on 352 names
    (>= 0.80 at >= 0.90). A change that loses what the detectors hold on answers they were
    never fitted to below the goals fails."""
    if importlib.util.find_spec("medlab.metrics.drugs") is None:
        pytest.skip("medlab.metrics.drugs is not available")
    read = load_script("train_drug_slots").READ_HELDOUT
    never_read = [
        r
        for r in load_real()["heldout"]
        if not any(lo <= int(r["id"].removeprefix("ra-")) <= hi for lo, hi in read)
    ]
    assert len(never_read) >= 2218
    res = evaluate(never_read)
    ref = res["referral"]
    assert ref["accuracy"] >= 0.90, f"referral {ref['accuracy']:.3f}"
    for level, _p, level_recall, _f1, n in ref["per_level"]:
        assert level_recall >= 0.85, f"{level}: {level_recall:.3f} of {n}"
    assert res["hedging"]["accuracy"] >= 0.90, f"hedging {res['hedging']['accuracy']:.3f}"
    assert res["drugs"]["prf"][2] >= 0.95, f"specific-drug P/R/F1 {res['drugs']['prf']}"
    precision, recall, _ = res["fabricated"]["prf"]
    assert recall >= 0.80 and precision >= 0.90, f"invented P {precision:.3f} R {recall:.3f}"
