"""format_metrics and prose: strict vs lenient JSON, schema validity, violation codes."""

from __future__ import annotations

import json

import pytest

from medlab.metrics.format import format_metrics, prose, seams_to_lines

GOOD = {"summary": "可能是感冒。", "analysis": ["病毒感染常见。"], "suggestions": ["多喝水"]}
GOOD_TEXT = json.dumps(GOOD, ensure_ascii=False)

CASES = [
    # text, schema, json_strict, json_lenient, schema_valid
    (GOOD_TEXT, "consultation", True, True, True),
    ("```json\n" + GOOD_TEXT + "\n```", "consultation", False, True, True),
    ("好的，以下是回答：" + GOOD_TEXT, "consultation", False, True, True),
    ('{"summary": "x", "analysis": ["a"]}', "consultation", True, True, False),
    ('{"summary": "x", "analysis": "a", "suggestions": []}', "consultation", True, True, False),
    ('{"summary": "x", "analysis": ["a"', "consultation", False, False, False),
    ("建议多喝水，注意休息。", "consultation", False, False, False),
    (GOOD_TEXT, None, True, True, None),
]


@pytest.mark.parametrize("text,schema,strict,lenient,valid", CASES)
def test_format_metrics(text, schema, strict, lenient, valid) -> None:
    got = format_metrics(text, schema)
    assert (got["json_strict"], got["json_lenient"], got["schema_valid"]) == (
        strict,
        lenient,
        valid,
    )


def test_violation_codes() -> None:
    assert format_metrics(GOOD_TEXT, "consultation")["violations"] == []
    assert (
        "missing:suggestions"
        in format_metrics('{"summary": "x", "analysis": ["a"]}', "consultation")["violations"]
    )
    assert format_metrics("not json", "consultation")["violations"] == ["invalid_json"]
    fenced = format_metrics("```json\n" + GOOD_TEXT + "\n```", "consultation")["violations"]
    assert fenced == ["not_strict_json"]
    assert format_metrics(GOOD_TEXT)["violations"] == []  # no schema: nothing checked


def test_parsed_value_is_returned() -> None:
    assert format_metrics("```json\n" + GOOD_TEXT + "\n```", "consultation")["parsed"] == GOOD
    assert format_metrics("plain text")["parsed"] is None


def test_prose_reads_summary_analysis_suggestions() -> None:
    body = prose(GOOD_TEXT)
    assert all(part in body for part in ("可能是感冒。", "病毒感染常见。", "多喝水"))
    assert "summary" not in body
    assert prose("纯文本回答") == "纯文本回答"
    assert prose(GOOD) == body


def test_seams_of_broken_json_become_line_breaks() -> None:
    broken = '{"summary": "效果一般", "analysis": ["咳嗽是由于感染引起的'
    assert seams_to_lines(broken).split("\n") == [
        "",
        "summary",
        "效果一般",
        "analysis",
        "咳嗽是由于感染引起的",
    ]
    # a quote inside prose with no JSON punctuation beside it is no seam
    assert seams_to_lines('他说"没事"。') == '他说"没事"。'
    assert seams_to_lines("没有引号，原样返回") == "没有引号，原样返回"
