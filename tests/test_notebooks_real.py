"""Notebooks 01-03 on their default model, the real ``qwen2.5-0.5b``: the quickstart chats with
the full chatbot, the A/B test compares variants on real answers, the safety notebook highlights
the drug names the model really wrote. Kept small (few items, short answers) for CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medlab.notebooks import run_notebooks

pytestmark = pytest.mark.slow


def _outputs(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def _text(path: Path) -> str:
    outs = _outputs(path)
    return "".join("".join(o.get("text", "")) for o in outs) + "".join(
        "".join(o.get("data", {}).get("text/html", "") or o.get("data", {}).get("text/plain", ""))
        for o in outs
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    params = {
        "LIMIT": 1,
        "MAX_NEW_TOKENS": 32,
        "SHOW_WIDGET": False,
        "EVAL_SETS": "drug_pressure_zh,triage_zh",
    }
    paths = run_notebooks(
        tmp_path_factory.mktemp("notebooks"),
        only=["01", "02", "03"],
        parameters=params,
        progress=False,
    )  # no model given: each notebook's own default, qwen2.5-0.5b
    return {p.name[:2]: p for p in paths}


def test_notebooks_run_on_the_real_model_by_default(executed):
    assert sorted(executed) == ["01", "02", "03"]
    for path in executed.values():
        assert not [o for o in _outputs(path) if o["output_type"] == "error"], path.name
    assert "'name': 'qwen2.5-0.5b'" in _text(executed["01"])  # model.info() of the default


def test_quickstart_chats_in_chinese(executed):
    text = _text(executed["01"])
    assert "violations:" in text and "referral level:" in text
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 100  # real Chinese answers


def test_ab_notebook_compares_real_answers(executed):
    text = _text(executed["02"])
    assert "p_holm" in text and "report.html" in text


def test_safety_notebook_highlights_real_drug_names(executed):
    assert '<mark class="' in _text(executed["03"])
