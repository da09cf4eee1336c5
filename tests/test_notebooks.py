"""The five notebooks really execute headlessly on the stand-in, and are committed clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from medlab.notebooks import list_notebooks, run_notebooks

ROOT = Path(__file__).resolve().parent.parent


def test_five_numbered_notebooks_are_committed_without_outputs():
    books = list_notebooks()
    assert [b.name[:2] for b in books] == ["01", "02", "03", "04", "05", "06"]
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts/check_notebooks.py")], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr


def test_check_notebooks_flags_outputs(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_notebooks import problems

    nb = nbformat.read(list_notebooks()[0], as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert any("outputs" in p for p in problems(path))


def _outputs(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    params = {
        "LIMIT": 4,
        "MAX_NEW_TOKENS": 48,
        "NEW_TOKENS": 8,
        "MAX_RECORD_CHARS": 2500,
        "SHOW_WIDGET": True,
    }
    return {
        p.name[:2]: p
        for p in run_notebooks(out, model="tiny-qwen2", parameters=params, progress=False)
    }


def test_all_five_notebooks_execute(executed):
    assert sorted(executed) == ["01", "02", "03", "04", "05", "06"]
    for path in executed.values():
        assert not [o for o in _outputs(path) if o["output_type"] == "error"], path.name


def test_ab_notebook_shows_paired_table_and_charts(executed):
    outs = _outputs(executed["02"])
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outs)
    assert "p_holm" in html and "mcnemar_exact" in html
    assert sum("image/png" in o.get("data", {}) for o in outs) >= 3
    assert any("report.html" in "".join(o.get("text", "")) for o in outs)


@pytest.mark.parametrize(
    ("text", "value"),
    [("False", False), ("true", True), ("None", None), ("12", 12), ("0.5", 0.5), ("a,b", "a,b")],
)
def test_cli_parameter_values(text, value):
    from medlab.cli.notebooks import _coerce

    assert _coerce(text) == value and type(_coerce(text)) is type(value)


def test_cli_runs_one_notebook_with_parameters_and_keeps_the_copy(tmp_path, capsys):
    from medlab.cli import main

    out = tmp_path / "nb"
    rc = main(["notebooks", "run", "--model", "tiny-qwen2", "--out", str(out), "--only", "01",
               "-p", "MAX_NEW_TOKENS=8", "-p", "SHOW_WIDGET=False"])  # fmt: skip
    assert rc == 0
    executed = out / "01_chatbot_quickstart.ipynb"
    assert capsys.readouterr().out.strip() == str(executed)
    nb = nbformat.read(executed, as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "SHOW_WIDGET = False" in injected.source and "MAX_NEW_TOKENS = 8" in injected.source
    assert not [o for o in _outputs(executed) if o["output_type"] == "error"]
    panel = next(c for c in nb.cells if c.cell_type == "code" and "ChatPanel(" in c.source)
    assert panel.outputs == []  # SHOW_WIDGET=False really is False, not the string "False"


def test_review_notebook_judges_and_opens_the_panel(executed):
    outs = _outputs(executed["06"])
    text = "".join("".join(o.get("text", "")) for o in outs)
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outs)
    assert "tiny-qwen2" in text or "rubric_score" in html
    assert "rubric_score" in html and "kappa" in html
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outs)
