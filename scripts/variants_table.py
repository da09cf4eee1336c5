"""Print the prompt-variant table of the README from finished runs (markdown).

For each run (one per mode: free text, constrained JSON), one row per variant with every
safety and format metric as ``value [95% CI] n=``, then the paired comparison of each variant
against the baseline (McNemar exact, Holm-corrected over the metrics shown).

    python scripts/variants_table.py variants-0.5b-free variants-0.5b-json \
        --baseline gp_assistant@v1 [--out-dir runs]

Every answer is scored again here with the installed detectors (a run's stored metrics are
those of the detectors it was scored with, so runs made weeks apart would not compare), and as
a ``consultation`` answer: free-text runs leave the format metrics unscored, but these prompts
ask for JSON, so its validity is measured in both modes.
"""

from __future__ import annotations

import argparse
import math

import pandas as pd

from medlab.evalsets import load_items
from medlab.metrics import summarize
from medlab.records import load_run
from medlab.stats import compare
from medlab.tasks import score_sample

METRIC_COLUMNS = {
    "specific_drug", "fabricated_drug", "echoed_drug", "drug_class", "drug_mentions",
    "referral_level", "over_referral", "under_triage", "hedged",
    "json_strict", "json_lenient", "schema_valid", "violations",
}  # fmt: skip
METRICS = [
    "specific_drug_rate",
    "fabricated_drug_rate",
    "echoed_drug_rate",
    "over_referral_rate",
    "under_triage_rate",
    "hedging_rate",
    "json_strict_rate",
    "json_lenient_rate",
    "schema_valid_rate",
]


def rescored(samples: pd.DataFrame, schema: str = "consultation") -> pd.DataFrame:
    """The samples with every metric column scored again from the answer text."""
    items = {(name, it.id): it for name in samples["eval_set"].unique() for it in load_items(name)}
    rows = []
    for row in samples.to_dict("records"):
        if row.get("error"):
            rows.append(row)
            continue
        item = items[(row["eval_set"], row["item_id"])]
        metrics = score_sample(item, row["text"], schema=schema)
        rows.append({**row, **{k: v for k, v in metrics.items() if k in METRIC_COLUMNS}})
    return pd.DataFrame(rows, columns=samples.columns)


def _cell(row: pd.Series | None) -> str:
    if row is None or not row["n"] or row["value"] is None or math.isnan(row["value"]):
        return "n/a"
    return f"{row['value']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}] n={int(row['n'])}"


def variant_rows(samples: pd.DataFrame, model: str, mode: str) -> list[str]:
    """One markdown row per variant: model, variant, mode, then each metric's cell."""
    summary = summarize(samples, metrics=METRICS)
    rows = []
    for variant in sorted(samples["variant"].unique()):
        cells = []
        for metric in METRICS:
            hit = summary[(summary["variant"] == variant) & (summary["metric"] == metric)]
            cells.append(_cell(None if hit.empty else hit.iloc[0]))
        rows.append(f"| {model} | {variant.split('@')[-1]} | {mode} | " + " | ".join(cells) + " |")
    return rows


def comparison_rows(samples: pd.DataFrame, baseline: str, variant: str) -> list[str]:
    """The paired comparison ``variant - baseline``, one markdown row per metric."""
    df = compare(samples, baseline, variant, metrics=METRICS).set_index("metric")
    rows = []
    for metric in METRICS:
        if metric not in df.index:
            continue
        r = df.loc[metric]
        rows.append(
            f"| {metric} | {r['a']:.3f} | {r['b']:.3f} | {r['diff']:+.3f} "
            f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] | {r['p']:.2g} | {r['p_holm']:.2g} | "
            f"{int(r['n'])} | {r['better'].split('@')[-1] if isinstance(r['better'], str) else '-'} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="run ids or folders")
    p.add_argument("--baseline", default="gp_assistant@v1")
    p.add_argument("--out-dir", default="runs")
    args = p.parse_args(argv)
    runs = [load_run(r, args.out_dir) for r in args.runs]
    header = "| model | variant | mode | " + " | ".join(METRICS) + " |"
    print(header)
    print("|" + "---|" * (3 + len(METRICS)))
    frames = []
    for run in runs:
        config = run.results["config"]
        mode = "JSON (constrained)" if config["structured"] else "free text"
        samples = rescored(run.samples)
        frames.append((mode, samples))
        print("\n".join(variant_rows(samples, config["model"], mode)))
    for mode, samples in frames:
        if args.baseline not in set(samples["variant"]):
            print(f"\n{mode}: no {args.baseline} answers to compare with")
            continue
        for variant in sorted(samples["variant"].unique()):
            if variant == args.baseline:
                continue
            print(f"\n{mode}: {variant} - {args.baseline} (Holm over {len(METRICS)} metrics)\n")
            print("| metric | a | b | diff (b - a) [95% CI] | p | p (Holm) | n | better |")
            print("|---|---|---|---|---|---|---|---|")
            print("\n".join(comparison_rows(samples, args.baseline, variant)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
