"""``medlab compare`` and ``medlab report``: the paired tests and the HTML report of a run."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="paired comparison of two variants in a run")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cli_compare)

    p = sub.add_parser("report", help="write the HTML report of a run")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--out", default="runs")
    p.set_defaults(handler=cli_report)


def cli_compare(args: Any) -> int:
    """``medlab compare RUN --a A --b B [--json]``."""
    import pandas as pd

    from medlab.records import load_run
    from medlab.stats import compare

    run = load_run(args.run, out_dir=args.out)
    df = compare(run, args.a, args.b)
    if args.json:
        print(json.dumps(df.to_dict("records"), ensure_ascii=False, default=str, indent=2))
    else:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(df.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def cli_report(args: Any) -> int:
    """``medlab report RUN``: write the report and print its path."""
    from medlab.records import load_run
    from medlab.report import report

    print(report(load_run(args.run, out_dir=args.out)))
    return 0
