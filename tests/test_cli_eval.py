"""``medlab eval`` / ``medlab runs``: JSON output for CI, --fail-if gates, --resume, listing."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from medlab.cli import main
from medlab.cli.eval import parse_threshold
from medlab.metrics import METRICS


@pytest.mark.parametrize(
    ("expr", "expected"),
    [("under_triage_rate>0.05", ("under_triage_rate", ">", 0.05)),
     (" over_referral_rate >= 0.5 ", ("over_referral_rate", ">=", 0.5)),
     ("json_strict_rate<0.9", ("json_strict_rate", "<", 0.9)),
     ("ttft_s_p90<=1.2", ("ttft_s_p90", "<=", 1.2)),
     ("tpot_s_mean>1e-3", ("tpot_s_mean", ">", 0.001))],
)  # fmt: skip
def test_parse_threshold(expr, expected):
    assert parse_threshold(expr) == expected


@pytest.mark.parametrize("expr", ["under_triage_rate", "under_triage_rate=0.1", ">0.1", "x>y"])
def test_bad_threshold_exits_2(expr, capsys):
    assert main(["eval", "--prompts", "gp_assistant@v1", "--eval-sets", "triage_zh",
                 "--fail-if", expr]) == 2  # fmt: skip
    assert "bad --fail-if" in capsys.readouterr().err


def test_unknown_metric_exits_2_listing_known_ones_before_generating(capsys, tmp_path):
    rc = main(["eval", "--prompts", "gp_assistant@v1", "--eval-sets", "triage_zh",
               "--out", str(tmp_path), "--fail-if", "undertriage>0.05"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2
    assert "undertriage" in err and "under_triage_rate" in err and "json_strict_rate" in err
    assert not list(tmp_path.iterdir())  # nothing was run


def test_resume_of_a_missing_run_exits_2(capsys, tmp_path):
    rc = main(["eval", "--prompts", "gp_assistant@v1", "--eval-sets", "triage_zh",
               "--out", str(tmp_path), "--resume", "nope"])  # fmt: skip
    assert rc == 2 and "no run 'nope'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, tiny_model):
    out = tmp_path_factory.mktemp("cli")
    args = ["eval", "--model", "tiny-qwen2", "--prompts", "gp_assistant@v1,gp_assistant@v2",
            "--eval-sets", "triage_zh", "--limit", "3", "--normal", "--max-new-tokens", "8",
            "--temperature", "0", "--cache", str(out / "cache.sqlite"), "--out", str(out),
            "--run-id", "cli", "--json"]  # fmt: skip
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(args)
    return out, args, rc, stdout.getvalue()


def test_eval_json_output(cli_run):
    out, _, rc, stdout = cli_run
    assert rc == 0
    data = json.loads(stdout)
    assert data["run_id"] == "cli" and data["status"] == "finished"
    assert data["counts"]["planned"] == 6 and data["failures"] == []
    variants = {r["variant"] for r in data["summary"]}
    assert variants == {"gp_assistant@v1", "gp_assistant@v2"}
    assert {r["metric"] for r in data["summary"]} <= set(METRICS)
    assert (out / "cli" / "samples.jsonl").exists()


def test_fail_if_names_metric_variant_value_and_threshold(cli_run, capsys):
    _, args, _, _ = cli_run
    # --resume the finished run: nothing regenerated, the gate is checked on its summary
    resume = [a for a in args if a not in ("--run-id", "cli")] + ["--resume", "cli"]
    assert main([*resume, "--fail-if", "under_triage_rate<0"]) == 0
    capsys.readouterr()
    assert main([*resume, "--fail-if", "under_triage_rate>=0"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["counts"]["skipped"] == 6
    for variant in ("gp_assistant@v1", "gp_assistant@v2"):
        row = next(
            r for r in data["summary"]
            if r["variant"] == variant and r["metric"] == "under_triage_rate"
        )  # fmt: skip
        line = next(f for f in data["failures"] if variant in f)
        assert f"under_triage_rate={row['value']:.4g}" in line and "under_triage_rate>=0" in line
        assert line in captured.err


def test_runs_list(cli_run, capsys):
    out = cli_run[0]
    assert main(["runs", "list", "--out", str(out), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    row = next(r for r in runs if r["run_id"] == "cli")
    assert row["samples"] == row["planned"] == 6 and row["model"] == "tiny-qwen2"
    assert main(["runs", "list", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "cli" in text and "gp_assistant@v1,gp_assistant@v2" in text


def test_a_gate_that_checks_nothing_fails(cli_run, capsys):
    _, args, _, _ = cli_run
    resume = [a for a in args if a not in ("--run-id", "cli")] + ["--resume", "cli"]
    # a free-text (--normal) run has no JSON metrics: the gate would pass vacuously
    assert main([*resume, "--fail-if", "json_strict_rate<0.95"]) == 1
    assert "checks nothing" in capsys.readouterr().err


def test_failed_generations_fail_the_run_unless_allowed(tmp_path, tiny_model, capsys):
    item = {"id": "long-0001", "task": "triage", "language": "zh", "question": "头痛" * 40_000,
            "triage": "routine", "red_flags": [], "rationale": "Longer than the context.",
            "specialty": "neurology", "age_group": "adult"}  # fmt: skip
    path = tmp_path / "too_long.jsonl"
    path.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    args = ["eval", "--model", "tiny-qwen2", "--prompts", "gp_assistant@v1", "--eval-sets",
            str(path), "--normal", "--max-new-tokens", "4", "--cache", "off",
            "--out", str(tmp_path / "runs"), "--json"]  # fmt: skip
    assert main(args) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["counts"]["error_samples"] == 1
    assert "1 of 1 samples failed to generate" in captured.err
    assert main([*args, "--allow-errors"]) == 0
