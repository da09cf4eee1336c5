"""Execute the project's notebooks headlessly (papermill), with parameters, keeping the
executed copies: what CI and ``medlab notebooks run`` do."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

NOTEBOOKS_DIR = Path(
    os.environ.get("MEDLAB_NOTEBOOKS_DIR", Path(__file__).resolve().parent.parent / "notebooks")
)


def list_notebooks(only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks, optionally only those whose name starts with a given prefix."""
    books = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if only:
        books = [b for b in books if any(b.name.startswith(p) for p in only)]
        if not books:
            raise ValueError(f"no notebook in {NOTEBOOKS_DIR} starts with any of {only}")
    return books


def run_notebooks(
    out_dir: str | Path,
    model: str | None = None,
    only: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
    kernel_name: str = "python3",
    timeout_s: int = 1800,
    progress: bool = True,
) -> list[Path]:
    """Execute each notebook into ``out_dir`` and return the executed copies' paths.

    ``parameters`` are injected into the cell tagged ``parameters`` (only the names a notebook
    declares there are passed to it); ``model`` sets ``MODEL``. Run records the notebooks write
    go to ``out_dir/runs``. Raises ``papermill.PapermillExecutionError`` naming the failing cell.
    """
    import nbformat
    import papermill as pm

    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    params = {"OUT": str(out / "runs"), **(parameters or {})}
    if model:
        params["MODEL"] = model
    executed = []
    books = list_notebooks(only)
    for book in tqdm(books, desc="notebooks", unit="nb", disable=not progress):
        declared = _declared_parameters(nbformat.read(book, as_version=4))
        target = out / book.name
        pm.execute_notebook(
            str(book),
            str(target),
            parameters={k: v for k, v in params.items() if k in declared},
            kernel_name=kernel_name,
            cwd=str(book.parent),
            execution_timeout=timeout_s,
            progress_bar=False,
        )
        executed.append(target)
    return executed


def _declared_parameters(nb: Any) -> set[str]:
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return {
                line.split("=")[0].strip()
                for line in cell.source.splitlines()
                if "=" in line and not line.startswith((" ", "#", "import", "from"))
            }
    return set()
