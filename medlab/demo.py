"""The main job (``make demo``): evaluate the shipped prompt variants offline, end to end.

- Chinese eval sets with the ``tiny-qwen2`` stand-in (random weights, real Qwen2.5 tokenizer):
  gp_assistant@v1, @v2, @v3 on the consultation sets, emr_extractor@v1 on the extraction set;
- English eval sets with ``smollm2-135m`` (a real small English chat model): gp_assistant_en@v1
  and @v2 (the strict drug policy).

Prints each run's summary table (value [95% CI] n=), the paired comparisons (Chinese v1 vs v2
and v2 vs v3; English v1 vs v2), writes each run's HTML report and prints its path. Limits are
small so the whole demo takes a few minutes on 2 CPU cores; a rerun is served from the
response cache. The stand-ins are not medical models: the numbers exercise
the pipeline, they say nothing about Qwen2.5-7B-Instruct (run the same call with it on a GPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import pandas as pd

from medlab.types import GenerationParams

ZH_PROMPTS = ["gp_assistant@v1", "gp_assistant@v2", "gp_assistant@v3", "emr_extractor@v1"]
EN_PROMPTS = ["gp_assistant_en@v1", "gp_assistant_en@v2"]
ZH_COMPARISONS = [("gp_assistant@v1", "gp_assistant@v2"), ("gp_assistant@v2", "gp_assistant@v3")]
EN_COMPARISONS = [("gp_assistant_en@v1", "gp_assistant_en@v2")]


def _sets(suffix: str) -> list[str]:
    from medlab.evalsets import list_eval_sets

    return [name for name in list_eval_sets() if name.endswith(suffix)]


def _show(title: str, df: pd.DataFrame) -> None:
    print(f"\n=== {title} ===")
    with pd.option_context("display.width", 220, "display.max_columns", 30):
        print(df.to_string() if len(df) else "(nothing to show)")


def evaluate(
    model_name: str, prompts: list[str], eval_sets: list[str], args: argparse.Namespace
) -> object:
    from medlab.models import load_model
    from medlab.runner import run_eval
    from medlab.runner_cli import summary_table

    t0 = time.perf_counter()
    model = load_model(model_name)
    print(f"\n{model_name}: {', '.join(prompts)} on {', '.join(eval_sets)} (limit {args.limit})")
    run = run_eval(
        model, prompts, eval_sets,
        params=GenerationParams(temperature=0.0, max_new_tokens=args.max_new_tokens, seed=0),
        structured=True, limit=args.limit, cache=args.cache, out_dir=args.out,
        progress=not args.quiet,
    )  # fmt: skip
    c = run.results["counts"]
    _show(
        f"{model_name} run {run.run_id}: summary ({c['generated']} generated, {c['cached']} "
        f"cached, {time.perf_counter() - t0:.0f} s)",
        summary_table(pd.DataFrame(run.results["summary"])),
    )
    return run


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m medlab.demo", description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=6, help="items per eval set")
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--cache", default="sqlite")
    p.add_argument("--skip-en", action="store_true", help="skip the English smollm2-135m run")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1") or 1))

    from medlab.stats import compare

    t0, failed = time.perf_counter(), False
    jobs = [("tiny-qwen2", ZH_PROMPTS, _sets("_zh"), ZH_COMPARISONS)]
    if not args.skip_en and _sets("_en"):
        jobs.append(("smollm2-135m", EN_PROMPTS, _sets("_en"), EN_COMPARISONS))
    runs = []
    for model_name, prompts, eval_sets, comparisons in jobs:
        runs.append(evaluate(model_name, prompts, eval_sets, args))
        for a, b in comparisons:
            df = compare(runs[-1], a, b)
            _show(f"{model_name}: paired comparison {a} vs {b} (diff = b - a, Holm-corrected)",
                  df.round(4))  # fmt: skip
    if not args.no_report:
        from medlab.report import report

        for run in runs:
            try:
                print(f"report: {report(run)}")
            except Exception as e:  # the runs are complete on disk either way
                print(f"report for {run.run_id} failed: {type(e).__name__}: {e}", file=sys.stderr)
                failed = True
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f} s; runs under {args.out}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
