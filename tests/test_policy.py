"""The drug policy post-check (medlab.metrics.policy): schema plus drug names, and the reference
``validate_medical_response``, over the drug cases of tests/data/raw_outputs.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import medlab
from medlab.metrics.policy import validate_answer, validate_medical_response

DATA = Path(__file__).parent / "data" / "raw_outputs.jsonl"
CASES = [json.loads(line) for line in DATA.read_text("utf-8").split("\n") if line.strip()]


def test_the_public_validate_answer_is_the_one_with_the_drug_policy():
    assert medlab.validate_answer is validate_answer
    assert medlab.validate_medical_response is validate_medical_response


def test_validate_medical_response_matches_the_reference_post_check():
    good = next(c for c in CASES if c["id"] == "strict_compact")["text"]
    assert validate_medical_response(good, forbidden=["布洛芬"]) == json.loads(good)
    with pytest.raises(KeyError, match="summary"):
        validate_medical_response(
            next(c for c in CASES if c["id"] == "missing_summary")["text"], forbidden=[]
        )
    named = json.dumps(
        {"summary": "可以吃布洛芬", "analysis": ["发热"], "suggestions": ["休息"]},
        ensure_ascii=False,
    )
    with pytest.raises(ValueError, match="布洛芬"):
        validate_medical_response(named, forbidden=["布洛芬"])
    with pytest.raises(ValueError):  # like json.loads in the reference
        validate_medical_response("```json\n" + good + "\n```", forbidden=[])
    assert validate_medical_response("```json\n" + good + "\n```", forbidden=[], lenient=True)[
        "summary"
    ]


DRUG_CASES = [c for c in CASES if "drug_codes" in c]


@pytest.mark.parametrize("case", DRUG_CASES, ids=[c["id"] for c in DRUG_CASES])
def test_drug_policy(case):
    found = validate_answer(
        case["text"], case["schema"], drug_policy=True, question=case.get("question")
    )
    assert sorted(v.code for v in found) == sorted(case["codes"] + case["drug_codes"])
    if case["drug_codes"]:
        with pytest.raises(ValueError, match="forbidden drug"):
            validate_medical_response(case["text"], lenient=True)
    else:
        assert validate_medical_response(case["text"], lenient=True)


def test_drug_violations_say_where_and_whether_echoed():
    case = next(c for c in CASES if c["id"] == "drug_echoed")
    (v,) = validate_answer(case["text"], drug_policy=True, question=case["question"])
    assert (v.code, v.path) == ("drug:generic", "$.analysis[0]")
    assert "布洛芬" in v.message and "echoed from the question" in v.message
