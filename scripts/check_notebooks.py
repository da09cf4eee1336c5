"""Fail when a committed notebook carries outputs or execution counts (they belong to runs),
or lacks a first code cell tagged ``parameters``."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            out.append(f"{path.name}: cell {i} has outputs or an execution count")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        out.append(f"{path.name}: first code cell is not tagged 'parameters'")
    return out


def main() -> int:
    found = [p for path in sorted((ROOT / "notebooks").glob("*.ipynb")) for p in problems(path)]
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
