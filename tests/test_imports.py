"""What the imports a run needs pull in: no heavy library is imported before it is used.

``import medlab.runner, medlab.evalsets, medlab.validate, medlab.metrics`` is paid by every
``medlab eval``, notebook kernel and test process; jsonschema (~1-2 s with the Jupyter
packages), pandas, matplotlib, datasets/pyarrow, torch and transformers are imported by the
code that uses them. Checked in a fresh interpreter (``sys.modules``), not by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("jsonschema", "pandas", "matplotlib", "datasets", "pyarrow", "torch", "transformers",
         "scipy", "sklearn", "IPython", "rfc3987_syntax", "lark")  # fmt: skip


def _imported(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout)}


@pytest.mark.parametrize(
    "statement",
    [
        "import medlab",
        "import medlab.runner, medlab.evalsets, medlab.validate, medlab.metrics",
        "from medlab import run_eval, load_eval_set, parse_json, validate_answer, metrics",
        "from medlab.stats import bootstrap_ci, rate_ci",  # a run's summary
    ],
)
def test_run_imports_leave_heavy_libraries_alone(statement):
    assert sorted(_imported(statement) & set(HEAVY)) == []


def test_a_run_imports_what_it_uses_when_it_uses_it():
    # the checked sets load without jsonschema; loading them as a Dataset brings datasets
    loaded = _imported("import medlab\nmedlab.load_eval_set('triage_zh', limit=2)")
    assert "datasets" in loaded and "jsonschema" not in loaded


def test_public_functions_stay_callable_once_their_modules_are_imported(tmp_path):
    # `import medlab.report` (as medlab.review does) replaces the lazy function medlab.report
    # with the module: the module itself must then call the function
    code = (
        "import medlab, medlab.report, medlab.judge, medlab.agreement\n"
        "for call in (lambda: medlab.report('no-run'), lambda: medlab.judge('no-run', None),\n"
        "             lambda: medlab.agreement('no-run')):\n"
        "    try:\n"
        "        call()\n"
        "    except FileNotFoundError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    lines = out.stdout.splitlines()  # each function's own error, not "module is not callable"
    assert len(lines) == 3 and all(line.startswith("no run 'no-run'") for line in lines)
