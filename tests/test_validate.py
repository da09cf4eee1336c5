"""Strict/lenient JSON parsing and answer validation, driven by a table of raw model outputs
(tests/data/raw_outputs.jsonl: text, expected ok_strict / ok_lenient / violation codes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from medlab.validate import answer_text, parse_json, validate_answer

DATA = Path(__file__).parent / "data" / "raw_outputs.jsonl"
# split on "\n" only: str.splitlines would also split inside strings at U+2028, U+0085, ...
CASES = [json.loads(line) for line in DATA.read_text("utf-8").split("\n") if line.strip()]


def test_table_is_large_varied_and_mostly_chinese():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
    chinese = [c for c in CASES if re.search(r"[\u4e00-\u9fff]", c["text"])]
    assert len(chinese) > 0.75 * len(CASES)
    codes = {code.split(":")[0] for c in CASES for code in c["codes"]}
    assert codes >= {
        "invalid_json",
        "not_strict_json",
        "missing",
        "type",
        "empty",
        "extra",
        "too_long",
        "range",
    }
    outcomes = {(c["ok_strict"], c["ok_lenient"]) for c in CASES}
    assert outcomes == {(True, True), (False, True), (False, False)}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_raw_output(case):
    result = parse_json(case["text"])
    assert (result.ok_strict, result.ok_lenient) == (case["ok_strict"], case["ok_lenient"]), (
        result.error
    )
    assert (result.value is not None) == case["ok_lenient"]
    assert (result.error is None) == case["ok_strict"]
    if case["ok_strict"]:
        assert result.value == json.loads(case["text"])
    codes = [v.code for v in validate_answer(case["text"], case["schema"])]
    assert sorted(codes) == sorted(case["codes"])
    if result.ok_lenient:  # the recovered object gives the same schema verdict as the text
        obj_codes = [v.code for v in validate_answer(result.value, case["schema"])]
        assert sorted(obj_codes) == sorted(c for c in case["codes"] if c != "not_strict_json")


def test_lenient_recovers_the_object_not_just_a_flag():
    clean = next(c for c in CASES if c["id"] == "strict_compact")["text"]
    for case_id in (
        "fence_json",
        "prose_before",
        "trailing_comma_object",
        "bom",
        "two_identical_objects",
    ):
        text = next(c for c in CASES if c["id"] == case_id)["text"]
        assert parse_json(text).value == json.loads(clean), case_id


@pytest.mark.parametrize(
    ("case_id", "repair"),
    [
        ("fence_json", "fence"),
        ("prose_after", "prose"),
        ("single_quotes", "json5"),
        ("python_false", "python_literal"),
        ("raw_newline_in_string", "control_chars"),
        ("fullwidth_spaces", "bom_or_unicode_space"),
        ("two_identical_objects", "duplicate_object"),
    ],
)
def test_repairs_say_what_was_fixed(case_id, repair):
    text = next(c for c in CASES if c["id"] == case_id)["text"]
    assert repair in parse_json(text).repairs


@pytest.mark.parametrize(
    ("case_id", "error"),
    [
        ("truncated_mid_string", "truncated"),
        ("truncated_after_complete", "truncated"),
        ("top_level_array", "array"),
        ("two_different_objects", "2 different JSON objects"),
        ("no_json", "no JSON object"),
        ("mismatched_brackets", "brackets do not match"),
    ],
)
def test_errors_say_why(case_id, error):
    text = next(c for c in CASES if c["id"] == case_id)["text"]
    assert error in parse_json(text).error


def test_violation_paths_locate_the_problem():
    text = next(c for c in CASES if c["id"] == "type_item_number")["text"]
    (v,) = validate_answer(text)
    assert (v.code, v.path) == ("type:suggestions[]", "$.suggestions[1]")
    (v,) = validate_answer({"summary": "可能是感冒", "analysis": ["病毒感染"]})
    assert (v.code, v.path) == ("missing:suggestions", "$.suggestions")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"summary": "疑似感冒。", "analysis": ["病毒感染"], "suggestions": ["多喝水", "休息"]},
            "疑似感冒。\n病毒感染\n多喝水\n休息",
        ),
        (
            '```json\n{"summary": "可能是胃炎", "analysis": [], "suggestions": ["清淡饮食"]}\n```',
            "可能是胃炎\n清淡饮食",
        ),
        ("建议多喝水，注意休息。", "建议多喝水，注意休息。"),
        ('{"summary": "截断', '{"summary": "截断'),
        (
            {"patient_age": 67, "diagnosis": "社区获得性肺炎", "key_findings": ["发热3天", "咳嗽"]},
            "社区获得性肺炎\n发热3天\n咳嗽",
        ),
        ({"summary": "可能是过敏", "analysis": "接触花粉后加重"}, "可能是过敏\n接触花粉后加重"),
        (None, ""),
    ],
)
def test_answer_text(value, expected):
    assert answer_text(value) == expected


def test_the_drug_policy_is_refused_here_and_named_where_it_lives():
    with pytest.raises(ValueError, match="medlab.validate_answer"):
        validate_answer('{"summary": "可以吃布洛芬"}', drug_policy=True)


@pytest.mark.parametrize(
    "ref",
    [
        "gp_assistant@v1",
        "gp_assistant@v2",
        "gp_assistant@v3",
        "gp_assistant_en@v1",
        "gp_assistant_en@v2",
    ],
)
def test_gp_prompts_name_drug_classes_only(ref):
    from medlab.metrics import drug_mentions
    from medlab.prompts import load_prompt

    mentions = drug_mentions(load_prompt(ref).text)
    assert mentions and {m.kind for m in mentions} == {"class"}, mentions
