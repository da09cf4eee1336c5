"""``medlab notebooks run``: execute the notebooks headlessly with parameters."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notebooks", help="execute the notebooks headlessly")
    p.add_argument("action", choices=["run"])
    p.add_argument("--model", default=None)
    p.add_argument("--out", default="runs/notebooks")
    p.add_argument(
        "--only", default=None, help="comma-separated notebook name prefixes, e.g. 01,02"
    )
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(handler=cli_notebooks)


def _coerce(value: str) -> Any:
    """``-p KEY=VALUE`` text as a Python value: true/false/none, numbers, else the string."""
    words = {"true": True, "false": False, "none": None, "null": None}
    if value.strip().lower() in words:
        return words[value.strip().lower()]
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def cli_notebooks(args: Any) -> int:
    """``medlab notebooks run --model M --out DIR [-p KEY=VALUE ...] [--only 01,02]``."""
    from medlab.notebooks import run_notebooks

    params = {}
    for kv in args.param:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"--param expects KEY=VALUE, got {kv!r}")
        params[key] = _coerce(value)
    only = args.only.split(",") if args.only else None
    for path in run_notebooks(args.out, model=args.model, only=only, parameters=params):
        print(path)
    return 0
