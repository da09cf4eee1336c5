"""``medlab eval`` and ``medlab runs``: the command line over :func:`medlab.runner.run_eval`.

CI gates: ``--fail-if "under_triage_rate>0.05"`` (operators ``>``, ``>=``, ``<``, ``<=``) is checked
per prompt variant against the run's summary; a crossed threshold exits 1 with a message naming
the metric, the variant, the value and the threshold; so does a gate that no sample of the run is
scored by, and a run with failed generations (unless ``--allow-errors``). An unknown metric name
exits 2 (before any generation) with the list of known ones.
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.cli.options import add_gen_args, add_model_args, gen_params, model_kwargs

if TYPE_CHECKING:  # pandas is imported on use: it costs ~0.4 s, and a run needs it only at the end
    import pandas as pd

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_THRESHOLD = re.compile(
    r"^\s*([A-Za-z0-9_]+)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


def parse_threshold(expr: str) -> tuple[str, str, float]:
    """``"under_triage_rate>0.05"`` -> ``("under_triage_rate", ">", 0.05)``."""
    m = _THRESHOLD.match(expr)
    if not m:
        raise ValueError(
            f"bad --fail-if {expr!r}: expected METRIC OP NUMBER with OP one of >, >=, <, <="
        )
    return m.group(1), m.group(2), float(m.group(3))


def check_thresholds(summary: pd.DataFrame, thresholds: list[tuple[str, str, float]]) -> list[str]:
    """Messages for every (threshold, variant) whose summary value crosses the threshold.

    A variant the metric does not apply to (n == 0: an extraction prompt has no triage items)
    is skipped, but a gate that applies to no variant at all fails: it would check nothing
    (an ``under_triage_rate`` gate on a run without emergency items, a JSON gate in normal mode).
    """
    failures = []
    for metric, op, limit in thresholds:
        rows = summary[summary["metric"] == metric] if len(summary) else summary
        checked = 0
        for _, row in rows.iterrows():
            value = row["value"]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            checked += 1
            if OPS[op](float(value), limit):
                failures.append(
                    f"FAIL {metric}{op}{limit:g}: variant {row['variant']} has "
                    f"{metric}={float(value):.4g} (n={int(row['n'])})"
                )
        if not checked:
            failures.append(
                f"FAIL {metric}{op}{limit:g}: no sample of this run is scored by {metric} "
                "(n=0 for every variant), so the gate checks nothing"
            )
    return failures


def error_failures(counts: dict[str, Any], allow_errors: bool) -> list[str]:
    """A run with failed generations is not a passing run, unless the caller allows it."""
    n = int(counts.get("error_samples") or 0)
    if not n or allow_errors:
        return []
    return [
        f"FAIL {n} of {counts.get('planned', n)} samples failed to generate (their errors are in "
        "samples.jsonl; rerun with --resume to retry them, or pass --allow-errors)"
    ]


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Wide metric x variant table of ``value [ci_low, ci_high] n=`` strings."""
    import pandas as pd

    if summary.empty:
        return pd.DataFrame()

    def cell(row: pd.Series) -> str:
        if row["n"] == 0 or pd.isna(row["value"]):
            return "-"
        ci = ""
        if not pd.isna(row["ci_low"]):
            ci = f" [{row['ci_low']:.3g}, {row['ci_high']:.3g}]"
        return f"{row['value']:.3g}{ci} n={int(row['n'])}"

    s = summary.assign(cell=summary.apply(cell, axis=1))
    order = list(dict.fromkeys(s["metric"]))
    wide = s.pivot(index="metric", columns="variant", values="cell").reindex(order)
    wide.columns.name = None
    return wide


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate prompt variants x eval sets")
    add_model_args(p)
    add_gen_args(p)
    p.add_argument(
        "--prompts", required=True, help="comma-separated, e.g. gp_assistant@v1,gp_assistant@v2"
    )
    p.add_argument("--eval-sets", required=True, help="comma-separated names or JSONL paths")
    p.add_argument("--limit", type=int, default=None, help="first N items of each set")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--normal", action="store_true", help="free text instead of structured JSON")
    p.add_argument(
        "--cache", default="sqlite", help='"sqlite", "off", a .sqlite path or redis://...'
    )
    p.add_argument("--out", default="runs")
    p.add_argument("--run-id", default=None)
    p.add_argument("--resume", metavar="RUN_ID", default=None, help="continue this run")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (for CI)")
    p.add_argument(
        "--fail-if",
        action="append",
        default=[],
        metavar='"METRIC>VALUE"',
        help="exit 1 when a summary metric crosses the threshold (repeatable)",
    )
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even when some samples failed to generate")  # fmt: skip
    p.add_argument("--allow-edited-prompts", action="store_true",
                   help="evaluate published prompts edited after publication (recorded as edited)")  # fmt: skip
    p.set_defaults(handler=cli_eval)

    p = sub.add_parser("runs", help="list runs")
    p.add_argument("action", choices=["list"])
    p.add_argument("--out", default="runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cli_runs)


def cli_eval(args: argparse.Namespace) -> int:
    from medlab.metrics import METRICS
    from medlab.models import load_model
    from medlab.records import dumps
    from medlab.runner import RunMismatchError, run_eval

    try:
        thresholds = [parse_threshold(e) for e in args.fail_if]
    except ValueError as e:
        print(f"medlab eval: {e}", file=sys.stderr)
        return 2
    unknown = sorted({m for m, _, _ in thresholds} - set(METRICS))
    if unknown:
        print(
            f"medlab eval: unknown metric(s) in --fail-if: {', '.join(unknown)}; "
            f"known: {', '.join(METRICS)}",
            file=sys.stderr,
        )
        return 2
    run_id = args.resume or args.run_id
    if args.resume and not (Path(args.out) / run_id).is_dir():
        print(f"medlab eval: no run {run_id!r} under {args.out} to resume", file=sys.stderr)
        return 2
    params = gen_params(args)
    model = load_model(args.model, **model_kwargs(args))
    try:
        run = run_eval(
            model,
            prompts=[p.strip() for p in args.prompts.split(",") if p.strip()],
            eval_sets=[s.strip() for s in args.eval_sets.split(",") if s.strip()],
            params=params, structured=not args.normal, repeats=args.repeats, limit=args.limit,
            cache=args.cache, out_dir=args.out, run_id=run_id, batch_size=args.batch_size,
            progress=not args.json,
            allow_edited_prompts=getattr(args, "allow_edited_prompts", False),
        )  # fmt: skip
    except RunMismatchError as e:
        print(f"medlab eval: {e}", file=sys.stderr)
        return 2
    import pandas as pd

    summary = run.summary() if run.records else pd.DataFrame()
    counts = run.manifest.counts.to_dict()
    failures = check_thresholds(summary, thresholds) if thresholds else []
    failures += error_failures(counts, args.allow_errors)
    if args.json:
        print(
            dumps(
                {
                    "run_id": run.run_id,
                    "path": str(run.path),
                    "status": run.manifest.status,
                    "counts": counts,
                    "summary": summary.to_dict("records"),
                    "failures": failures,
                },  # fmt: skip
                indent=2,
            )
        )
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(summary_table(summary).to_string())
        c = counts
        print(
            f"\nrun {run.run_id}: {c['planned']} samples ({c['generated']} generated, "
            f"{c['cached']} cached, {c['skipped']} resumed, {c['error_samples']} errors) -> {run.path}"
        )
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


def cli_runs(args: argparse.Namespace) -> int:
    import pandas as pd

    from medlab.records import list_runs

    runs = list_runs(args.out)
    if args.json:
        print(json.dumps(runs, ensure_ascii=False, indent=2))
        return 0
    if not runs:
        print(f"no runs under {args.out}")
        return 0
    table = pd.DataFrame(runs)[
        ["run_id", "status", "started", "model", "variants", "eval_sets", "samples", "planned"]
    ]
    table["variants"] = table["variants"].map(",".join)
    table["eval_sets"] = table["eval_sets"].map(",".join)
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    return 0
