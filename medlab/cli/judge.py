"""``medlab judge`` and ``medlab agreement``: grade a finished run with a grader model, and how
far the rules, the judge and the reviewers agree on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("judge", help="grade a finished run against its items' rubrics")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--grader", required=True, help="stand-in, hub id, local path or openai:URL")
    p.add_argument("--grader-name", default=None, help="served model name (openai: graders)")
    p.add_argument("--revision", default=None, help="grader revision (goes into its fingerprint)")
    p.add_argument("--prompt", default="rubric_grader@v1", help="grader prompt")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--limit", type=int, default=None, help="grade the first N answers only")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--cache", default="sqlite", help='"sqlite", "off", a path or redis://...')
    p.add_argument("--unconstrained", action="store_true", help="no JSON-constrained decoding")
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cli_judge)

    p = sub.add_parser("agreement", help="agreement of rules, judge and reviewers on a run")
    p.add_argument("run", help="run folder or run id under --out")
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cli_agreement)


def cli_judge(args: Any) -> int:
    """``medlab judge RUN --grader MODEL``: grade a finished run, print the judged summary."""
    import pandas as pd

    from medlab.judge import judge
    from medlab.models import load_model
    from medlab.records import load_run
    from medlab.types import GenerationParams

    kw: dict[str, Any] = {}
    if args.grader.startswith("openai:") and args.grader_name:
        kw["model_name"] = args.grader_name
    if args.revision:
        kw["revision"] = args.revision
    run = load_run(args.run, out_dir=args.out)
    params = GenerationParams(temperature=0.0, max_new_tokens=args.max_new_tokens)
    judged = judge(run, load_model(args.grader, **kw), prompt=args.prompt, params=params,
                   cache=args.cache, constrained=not args.unconstrained, limit=args.limit,
                   batch_size=args.batch_size)  # fmt: skip
    s = judged.summary()
    s = s[s["metric"].str.startswith("rubric_") & s["n"].gt(0)]
    if args.json:
        print(json.dumps({"judge": judged.manifest.judge.to_dict(), "summary": s.to_dict("records")},
                         ensure_ascii=False, default=str, indent=2))  # fmt: skip
    else:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(s.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        print(f"verdicts: {Path(judged.path) / 'judgements.jsonl'}")
    return 0


def cli_agreement(args: Any) -> int:
    """``medlab agreement RUN [--json]``: the agreement table of a run."""
    import pandas as pd

    from medlab.agreement import agreement
    from medlab.records import load_run

    table = agreement(load_run(args.run, out_dir=args.out))
    if args.json:
        print(json.dumps(table.to_dict("records"), ensure_ascii=False, default=str, indent=2))
    elif table.empty:
        print("nothing to compare: judge the run (medlab judge) or review it (notebook 06)")
    else:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0
