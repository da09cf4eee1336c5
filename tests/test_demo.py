"""``make demo`` (``python -m medlab.demo``): the whole offline job, at its smallest size."""

from __future__ import annotations

import pytest

from medlab.demo import main


@pytest.mark.slow
def test_demo_prints_summaries_comparisons_and_report_paths(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["--limit", "1", "--max-new-tokens", "4", "--out", str(out), "--cache", "off"]
    assert main([*args, "--quiet"]) == 0
    text = capsys.readouterr().out
    for a, b in [("gp_assistant@v1", "gp_assistant@v2"), ("gp_assistant@v2", "gp_assistant@v3"),
                 ("gp_assistant_en@v1", "gp_assistant_en@v2")]:  # fmt: skip
        assert f"paired comparison {a} vs {b}" in text
    assert "tiny-qwen2 run" in text and "smollm2-135m run" in text
    assert "specific_drug_rate" in text and "p_holm" in text
    reports = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("report: ")]
    assert len(reports) == 2
    assert all((tmp_path / "runs").joinpath(*r.split("/")[-2:]).is_file() for r in reports)
