"""The HTML report of a run: self-contained, charts embedded, comparisons beside prompt diffs,
and a per-sample table that flags failures and highlights drug names.

The answers come from a scripted backend (one fixed answer per prompt variant), because the
random-weight stand-in cannot be made to name a drug or refer anyone; everything after the
backend (runner, metrics, statistics, charts, template) is the real code."""

from __future__ import annotations

import json
import re

import pytest

from medlab import GenerationParams
from medlab.prompts import load_prompt
from medlab.report import highlight_drugs, report, sample_failures
from medlab.runner import load_run, run_eval
from medlab.types import Completion, as_conversation

V1, V2 = "gp_assistant@v1", "gp_assistant@v2"
UNSAFE = {  # names a drug, unhedged diagnosis, emergency referral
    "summary": "您这是典型的偏头痛。",
    "analysis": ["偏头痛常见于压力大的人。"],
    "suggestions": ["可以吃布洛芬止痛。", "请立即就医。"],
}
SAFE = {  # hedged, no drug, conditional safety-netting
    "summary": "可能是紧张性头痛。",
    "analysis": ["症状较轻，可能与疲劳有关。"],
    "suggestions": ["注意休息，多喝水。", "如症状持续超过3天请就医。"],
}


class PerVariant:
    """Backend protocol: answers by the system prompt the conversation starts with."""

    name = fingerprint = "scripted-per-variant"
    context_length = 32768
    batch_size = 8

    def __init__(self, answers: dict[str, dict]):
        self.answers = {load_prompt(ref).render(): a for ref, a in answers.items()}

    def generate(self, conversations, params=None, schema=None):
        out = []
        for conv in conversations:
            text = json.dumps(self.answers[as_conversation(conv)[0].content], ensure_ascii=False)
            out.append(Completion(text, 100, 40, ttft_s=0.05, latency_s=0.45))
        return out

    def count_tokens(self, conversation):
        return 100

    def info(self):
        return {"name": self.name, "fingerprint": self.fingerprint}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return run_eval(
        PerVariant({V1: UNSAFE, V2: SAFE}), [V1, V2], ["triage_zh"],
        params=GenerationParams(temperature=0.0, max_new_tokens=64), limit=8,
        cache="off", out_dir=out, progress=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def page(run):
    path = report(run)
    assert path == run.path / "report.html"
    return path.read_text(encoding="utf-8")


def test_report_is_self_contained_with_every_chart(page):
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    for title in ("Rates by variant", "Referral level vs gold triage", "Latency",
                  "Extraction accuracy vs record length", "Validation failures", "forest plot"):  # fmt: skip
        assert title in images
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched when opened


def test_report_shows_the_comparison_next_to_the_prompt_diff(page, run):
    assert f"{V2} vs {V1}" in page
    assert "p_holm" in page and "mcnemar_exact" in page
    diff_lines = re.findall(r'<span class="(add|del)">', page)
    assert "add" in diff_lines and "del" in diff_lines
    sha = {p["ref"]: p["sha256"] for p in run.results["prompts"]}
    assert sha[V1] in page and sha[V2] in page  # provenance travels with the report


def test_sample_table_flags_failures_and_highlights_drugs(page, run):
    rows = re.findall(r'<tr data-fail="([01])">(.*?)</tr>', page, flags=re.S)
    assert len(rows) == len(run.samples) == 16
    by_variant = {v: [f for f, body in rows if f"<td>{v}</td>" in body] for v in (V1, V2)}
    assert by_variant[V1] == ["1"] * 8  # names a drug, unhedged
    assert '<mark class="drug" title="generic: ibuprofen">布洛芬</mark>' in page
    assert 'id="only-fail"' in page  # the failures-only filter


def test_sample_failures_labels():
    row = {"specific_drug": True, "under_triage": False, "json_lenient": False, "hedged": None}
    assert sample_failures(row) == ["names a drug", "invalid JSON"]
    assert sample_failures({"error": "CUDA out of memory"}) == ["error"]


def test_highlight_escapes_html_around_marks():
    out = highlight_drugs("<b>美林</b>和头孢类抗生素")
    assert out.startswith('&lt;b&gt;<mark class="drug"')
    assert '<mark class="cls"' in out and "<b>" not in out


def test_report_from_a_path_and_the_cli(run, tmp_path, capsys):
    from medlab.cli import main

    target = tmp_path / "r.html"
    assert report(str(run.path), out=target) == target
    assert "<h1>medlab run" in target.read_text(encoding="utf-8")
    assert main(["report", str(run.path)]) == 0
    assert capsys.readouterr().out.strip().endswith("report.html")
    assert load_run(run.path).run_id == run.run_id
