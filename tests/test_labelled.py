"""The detectors on the project's labelled answers (tests/data/labelled_answers.jsonl).

Goals: referral accuracy >= 0.90 with each level's recall >= 0.85, hedging accuracy >= 0.90,
specific-drug F1 >= 0.95 (generic + brand names, echoes included). ``benchmarks/detectors.py``
prints the full table and the answers each detector gets wrong.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from medlab.metrics.hedging import hedging
from medlab.metrics.referral import LEVELS, referral_level

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "labelled_answers.jsonl"
sys.path.insert(0, str(ROOT / "benchmarks"))
from detectors import drug_match, evaluate  # noqa: E402

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


RECORDS = load()
RESULT = evaluate(RECORDS)


def test_the_set_is_large_varied_and_well_formed() -> None:
    assert len(RECORDS) >= 220
    assert len({r["id"] for r in RECORDS}) == len(RECORDS)
    assert len({r["text"] for r in RECORDS}) == len(RECORDS)
    langs = Counter(r["language"] for r in RECORDS)
    assert 0.55 <= langs["zh"] / len(RECORDS) <= 0.65 and langs["en"] + langs["zh"] == len(RECORDS)
    formats = Counter(r["format"] for r in RECORDS)
    assert formats["json"] >= 40 and formats["prose"] >= 100
    for r in RECORDS:
        assert r["referral"] in LEVELS, r["id"]
        assert r["hedging"] in (True, False, None), r["id"]
        if r["format"] == "json":
            assert set(json.loads(r["text"])) == {"summary", "analysis", "suggestions"}, r["id"]
        for name in r["echo"]:
            assert name in r.get("question", ""), f"{r['id']}: echo {name!r} not in the question"
        for name in r["specific_drugs"]:
            assert name.casefold() in r["text"].casefold(), f"{r['id']}: {name!r} not in the text"
    levels = Counter(r["referral"] for r in RECORDS)
    assert min(levels.values()) >= 30, levels
    assert min(Counter(r["hedging"] for r in RECORDS).values()) >= 30


def test_referral_accuracy_and_recall_per_level() -> None:
    ref = RESULT["referral"]
    assert ref["accuracy"] >= 0.90
    for level, _p, recall, _f1, n in ref["per_level"]:
        assert recall >= 0.85, f"{level}: recall {recall:.2f} over {n}"


def test_hedging_accuracy() -> None:
    assert RESULT["hedging"]["accuracy"] >= 0.90


def test_specific_drug_f1() -> None:
    if importlib.util.find_spec("medlab.metrics.drugs") is None:
        pytest.skip("medlab.metrics.drugs is not available")
    precision, recall, f1 = RESULT["drugs"]["prf"]
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


def test_speed() -> None:
    """Referral + hedging over 2,000 answers well inside the 10,000-answers-in-3-s budget."""
    rng = random.Random(0)
    texts = [rng.choice(RECORDS)["text"] + f"（{i}）" for i in range(2000)]
    start = time.process_time()
    for t in texts:
        referral_level(t)
        hedging(t)
    assert time.process_time() - start < 2.0
