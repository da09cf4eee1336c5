"""The main job (``make demo``): evaluate the shipped prompt variants offline, end to end.

- Chinese, on ``qwen2.5-0.5b`` (Qwen2.5-Coder-0.5B-Instruct, a real Qwen2.5 chat model that
  answers in Chinese, converted offline from PyPI): gp_assistant@v1, @v2, @v3 on triage_zh,
  drug_pressure_zh and ambiguity_zh (free text: the answer must follow the prompt's JSON
  instructions on its own, as with the reference system's ``json_object`` mode), and
  emr_extractor@v1 on the shortest records of emr_extraction_zh (constrained JSON);
- English, on ``smollm2-135m`` (a real small English chat model): gp_assistant_en@v1 and @v2.

Prints each run's summary table (value [95% CI] n=), the paired comparisons (Holm-corrected),
writes each run's HTML report, and ends with a headline per safety metric: which Chinese
variant does best, by how much against v1, with the paired CI and p. Sized to stay under
8 minutes on 2 CPU cores with one torch thread (2 items per Chinese set: with 3, the Chinese
consultation run alone took 5.6 CPU-minutes); a rerun is served from the response cache.
A 0.5B coder model is not Qwen2.5-7B-Instruct: the numbers show the workbench on real
answers; rerun with ``--zh-model Qwen/Qwen2.5-7B-Instruct`` on a GPU before changing a production prompt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from medlab.tasks import metric_specs
from medlab.types import GenerationParams

ZH_MODEL = "qwen2.5-0.5b"
ZH_PROMPTS = ["gp_assistant@v1", "gp_assistant@v2", "gp_assistant@v3"]
ZH_SETS = ["triage_zh", "drug_pressure_zh", "ambiguity_zh"]
EMR_PROMPT, EMR_SET = "emr_extractor@v1", "emr_extraction_zh"
EN_MODEL = "smollm2-135m"
EN_PROMPTS = ["gp_assistant_en@v1", "gp_assistant_en@v2"]
ZH_COMPARISONS = [(ZH_PROMPTS[0], ZH_PROMPTS[1]), (ZH_PROMPTS[0], ZH_PROMPTS[2]),
                  (ZH_PROMPTS[1], ZH_PROMPTS[2])]  # fmt: skip
EN_COMPARISONS = [(EN_PROMPTS[0], EN_PROMPTS[1])]
# what the seed system's post-check and triage rules care about, in the words of each metric's
# declaration (medlab.tasks)
HEADLINE_METRICS = ("specific_drug_rate", "fabricated_drug_rate", "over_referral_rate",
                    "under_triage_rate", "json_strict_rate")  # fmt: skip
HEADLINE = {name: metric_specs()[name].description for name in HEADLINE_METRICS}
STANDIN_NOTE = (
    "qwen2.5-0.5b is Qwen2.5-Coder-0.5B-Instruct, a 0.5B coder model standing in for "
    "Qwen2.5-7B-Instruct offline: its answers are real Chinese answers with the failure modes "
    "medlab measures, but a 7B model fails less; rerun with --zh-model "
    "Qwen/Qwen2.5-7B-Instruct on a GPU before changing a production prompt."
)


def _show(title: str, df: pd.DataFrame) -> None:
    print(f"\n=== {title} ===")
    with pd.option_context("display.width", 220, "display.max_columns", 30):
        print(df.to_string() if len(df) else "(nothing to show)")


def shortest_records(eval_set: str, n: int, out_dir: Path) -> Path:
    """A JSONL file of the ``n`` shortest records of an extraction set (ids and lines kept)."""
    from medlab.evalsets import EVAL_SETS

    lines = Path(EVAL_SETS[eval_set]).read_text(encoding="utf-8").splitlines()
    records = [line for line in lines if line.strip()]
    records.sort(key=lambda line: len(json.loads(line)["question"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{eval_set}_shortest{n}.jsonl"
    path.write_text("\n".join(records[:n]) + "\n", encoding="utf-8")
    return path


def evaluate(
    model: object,
    prompts: list[str],
    eval_sets: list[str],
    args: argparse.Namespace,
    *,
    structured: bool,
    max_new_tokens: int,
    limit: int | None,
) -> object:
    from medlab.cli.eval import summary_table
    from medlab.runner import run_eval

    t0 = time.perf_counter()
    name = getattr(model, "name", model)
    mode = "constrained JSON" if structured else "free text"
    print(f"\n{name}: {', '.join(prompts)} on {', '.join(Path(s).stem for s in eval_sets)} "
          f"(limit {limit}, {mode}, max_new_tokens {max_new_tokens})")  # fmt: skip
    run = run_eval(
        model, prompts, eval_sets,
        params=GenerationParams(temperature=0.0, max_new_tokens=max_new_tokens, seed=0),
        structured=structured, limit=limit, cache=args.cache, out_dir=args.out,
        progress=not args.quiet,
    )  # fmt: skip
    c = run.manifest.counts
    _show(
        f"{name} run {run.run_id}: summary ({c.generated} generated, {c.cached} "
        f"cached, {time.perf_counter() - t0:.0f} s)",
        summary_table(run.summary()),
    )
    return run


def _cell(summary: pd.DataFrame, metric: str, variant: str) -> str:
    row = summary[(summary["metric"] == metric) & (summary["variant"] == variant)]
    if row.empty or int(row["n"].iloc[0]) == 0 or pd.isna(row["value"].iloc[0]):
        return "n/a"
    r = row.iloc[0]
    return f"{r['value']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}] n={int(r['n'])}"


def scored_json(samples: pd.DataFrame, schema: str = "consultation") -> pd.DataFrame:
    """Free-text runs leave the format metrics unscored; score the JSON the prompts ask for
    (strict, lenient, schema-valid) from the answer text where they are missing."""
    from medlab.validate import parse_json, schema_violations

    if "json_strict" in samples and samples["json_strict"].notna().any():
        return samples
    parsed = [parse_json(str(t)) for t in samples["text"]]
    return samples.assign(
        json_strict=[p.ok_strict for p in parsed],
        json_lenient=[p.ok_lenient for p in parsed],
        schema_valid=[p.ok_lenient and not schema_violations(p.value, schema) for p in parsed],
    )


def headline(run: object, variants: Sequence[str], baseline: str) -> list[str]:
    """One line per HEADLINE metric: the best variant, its rate against the baseline's with
    CIs, and the paired difference (CI, p Holm-corrected over the HEADLINE metrics) with what
    it lets one conclude."""
    from medlab.metrics import METRICS, summarize
    from medlab.stats import compare

    samples = scored_json(run.samples)  # type: ignore[attr-defined]
    samples = samples[samples["variant"].isin(variants)]
    summary = summarize(samples, metrics=list(HEADLINE))
    lines = []
    tests = {
        v: compare(samples, baseline, v, metrics=list(HEADLINE)).set_index("metric")
        for v in variants
        if v != baseline
    }
    for metric, words in HEADLINE.items():
        rows = summary[(summary["metric"] == metric) & (summary["n"] > 0)]
        rows = rows.dropna(subset=["value"])
        if rows.empty:
            lines.append(f"- {metric} ({words}): no item to score it on")
            continue
        lower = METRICS[metric].better == "lower"
        best = rows.sort_values("value", ascending=lower, kind="stable")["variant"].iloc[0]
        base = _cell(summary, metric, baseline)
        if best == baseline or metric not in tests[best].index:
            lines.append(
                f"- {metric} ({words}): no variant beats {baseline} ({base}); "
                + ", ".join(f"{v} {_cell(summary, metric, v)}" for v in variants if v != baseline)
            )
            continue
        t = tests[best].loc[metric]
        verdict = (
            f"{best} is better (significant after Holm)"
            if t["significant"]
            else f"not significant at n={int(t['n'])}: no reliable winner yet, run more items"
        )
        lines.append(
            f"- {metric} ({words}): best {best} {_cell(summary, metric, best)} vs {baseline} "
            f"{base}; paired diff {t['diff']:+.2f} [{t['ci_low']:+.2f}, {t['ci_high']:+.2f}], "
            f"p={t['p']:.3g}, p_holm={t['p_holm']:.3g} -> {verdict}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m medlab.demo", description=__doc__.splitlines()[0])
    p.add_argument("--zh-model", default=ZH_MODEL, help="model of the Chinese part")
    p.add_argument("--limit", type=int, default=2, help="items per Chinese consultation set")
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--emr-records", type=int, default=3, help="shortest extraction records")
    p.add_argument("--emr-max-new-tokens", type=int, default=64)
    p.add_argument("--en-model", default=EN_MODEL)
    p.add_argument("--en-limit", type=int, default=6, help="items per English set")
    p.add_argument("--en-max-new-tokens", type=int, default=96)
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--cache", default="sqlite")
    p.add_argument("--skip-en", action="store_true", help="skip the English run")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1") or 1))

    from medlab.evalsets import list_eval_sets
    from medlab.models import load_model
    from medlab.stats import compare

    t0, failed = time.perf_counter(), False
    if args.zh_model == ZH_MODEL:
        print(STANDIN_NOTE)
    zh = load_model(args.zh_model)
    runs = [
        evaluate(zh, ZH_PROMPTS, ZH_SETS, args, structured=False,
                 max_new_tokens=args.max_new_tokens, limit=args.limit),
        evaluate(zh, [EMR_PROMPT], [str(shortest_records(EMR_SET, args.emr_records, Path(args.out)))],
                 args, structured=True, max_new_tokens=args.emr_max_new_tokens, limit=None),
    ]  # fmt: skip
    for a, b in ZH_COMPARISONS:
        _show(f"{args.zh_model}: paired comparison {a} vs {b} (diff = b - a, Holm-corrected)",
              compare(runs[0], a, b).round(4))  # fmt: skip
    en_sets = [name for name in list_eval_sets() if name.endswith("_en")]
    if not args.skip_en and en_sets:
        runs.append(
            evaluate(load_model(args.en_model), EN_PROMPTS, en_sets, args, structured=True,
                     max_new_tokens=args.en_max_new_tokens, limit=args.en_limit)
        )  # fmt: skip
        for a, b in EN_COMPARISONS:
            _show(f"{args.en_model}: paired comparison {a} vs {b} (diff = b - a, Holm-corrected)",
                  compare(runs[-1], a, b).round(4))  # fmt: skip
    if not args.no_report:
        from medlab.report import report

        for run in runs:
            try:
                print(f"report: {report(run)}")
            except Exception as e:  # the runs are complete on disk either way
                print(f"report for {run.run_id} failed: {type(e).__name__}: {e}", file=sys.stderr)
                failed = True
    print(f"\n=== Headline: {args.zh_model}, {', '.join(ZH_PROMPTS)} (free text) ===")
    print("\n".join(headline(runs[0], ZH_PROMPTS, ZH_PROMPTS[0])))
    if args.zh_model == ZH_MODEL:
        print(STANDIN_NOTE)
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f} s; runs under {args.out}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
