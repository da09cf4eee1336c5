"""``make demo`` (``python -m medlab.demo``): the whole offline job, at its smallest size (the
Chinese part on the random-weight tiny-qwen2 instead of qwen2.5-0.5b, to stay cheap)."""

from __future__ import annotations

import json

import pytest

from medlab.demo import HEADLINE, main, shortest_records


@pytest.mark.slow
def test_demo_prints_summaries_comparisons_headline_and_report_paths(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["--zh-model", "tiny-qwen2", "--limit", "1", "--max-new-tokens", "4",
            "--emr-records", "1", "--emr-max-new-tokens", "4", "--en-limit", "1",
            "--en-max-new-tokens", "4", "--out", str(out), "--cache", "off", "--quiet"]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    for a, b in [("gp_assistant@v1", "gp_assistant@v2"), ("gp_assistant@v1", "gp_assistant@v3"),
                 ("gp_assistant@v2", "gp_assistant@v3"),
                 ("gp_assistant_en@v1", "gp_assistant_en@v2")]:  # fmt: skip
        assert f"paired comparison {a} vs {b}" in text
    assert "tiny-qwen2 run" in text and "smollm2-135m run" in text
    assert "emr_extractor@v1 on emr_extraction_zh_shortest1" in text
    assert "specific_drug_rate" in text and "p_holm" in text
    headline = text.split("=== Headline: tiny-qwen2", 1)[1]
    assert all(f"- {metric}" in headline for metric in HEADLINE)
    reports = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("report: ")]
    assert len(reports) == 3
    assert all((tmp_path / "runs").joinpath(*r.split("/")[-2:]).is_file() for r in reports)


def test_shortest_records_keeps_the_shortest_lines_whole(tmp_path):
    path = shortest_records("emr_extraction_zh", 3, tmp_path)
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(items) == 3 and all(it["task"] == "extraction" for it in items)
    lengths = [len(it["question"]) for it in items]
    assert lengths == sorted(lengths) and lengths[-1] < 1100
