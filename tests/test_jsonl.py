"""Append-only JSONL files: a torn last line is skipped on read and cut off before an append."""

from __future__ import annotations

import pytest

from medlab.jsonl import append_jsonl, read_jsonl
from medlab.judgements import append_judgements, read_judgements
from medlab.reviews import append_review, read_reviews

CASES = [  # (file content, values read back)
    (b"", []),
    (b'{"a": 1}\n', [{"a": 1}]),
    (b'{"a": 1}\n\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
    (b'{"a": 1}\n{"a": 2, "to', [{"a": 1}]),  # a writer killed mid-line
    (b'{"a": 1, "to', []),
]


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_read_leaves_out_a_torn_last_line(tmp_path, content, expected):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    assert read_jsonl(path) == expected


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_append_after_a_torn_last_line_keeps_the_file_readable(tmp_path, content, expected):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    append_jsonl(path, [{"b": 1}, {"b": "痛"}])
    assert read_jsonl(path) == [*expected, {"b": 1}, {"b": "痛"}]
    assert path.read_bytes().endswith(b'{"b": "\xe7\x97\x9b"}\n')  # UTF-8, not escaped


def test_a_malformed_line_before_the_last_names_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ValueError, match=r"x\.jsonl:2: not valid JSON"):
        read_jsonl(path)


def test_a_missing_file_reads_as_empty(tmp_path):
    assert read_jsonl(tmp_path / "none.jsonl") == []


def test_a_killed_judge_or_reviewer_leaves_a_file_the_next_append_repairs(tmp_path):
    append_judgements(tmp_path, [{"met": True}])
    with open(tmp_path / "judgements.jsonl", "ab") as f:
        f.write(b'{"met": fal')
    append_judgements(tmp_path, [{"met": False}])
    assert read_judgements(tmp_path) == [{"met": True}, {"met": False}]

    key = ("v", "triage_zh", "t1", 0)
    append_review(tmp_path, key, "a", {"referral_level": "routine"})
    with open(tmp_path / "reviews.jsonl", "ab") as f:
        f.write(b'{"variant": "v", "ev')
    append_review(tmp_path, key, "b", {"referral_level": "emergency"})
    assert [r["reviewer"] for r in read_reviews(tmp_path)] == ["a", "b"]
