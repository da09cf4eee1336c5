"""Charts of a run (matplotlib): each function takes run data and returns a Figure, so the same
picture appears in notebooks and, embedded as PNG, in the HTML report."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import matplotlib

if not matplotlib.get_backend().lower().startswith(("module://", "nbagg", "ipympl", "widget")):
    matplotlib.use("Agg")  # headless unless a notebook backend is already active
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from medlab.levels import REFERRAL_LEVELS, TRIAGE_LEVELS  # noqa: E402
from medlab.tasks import chart_metrics  # noqa: E402

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

TRIAGE_ORDER = list(TRIAGE_LEVELS)
LEVEL_ORDER = list(REFERRAL_LEVELS)


def __getattr__(name: str) -> list[str]:
    if name == "RATE_METRICS":  # the metrics the tasks mark ``chart=True`` (medlab.tasks)
        return chart_metrics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def short_labels(variants: list[str]) -> list[str]:
    """Axis labels: the versions ("v1", "v2") when every variant is a version of one prompt,
    else the full refs (emr_extractor@v1 and gp_assistant@v1 must not both read "v1")."""
    names = {v.split("@")[0] for v in variants}
    if len(names) == 1 and all("@" in v for v in variants):
        return [v.split("@")[-1] for v in variants]
    return [v.replace("@", "\n@") for v in variants]


def _empty(title: str, message: str) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", color="grey")
    return fig


def metric_bars(summary: pd.DataFrame, metrics: list[str] | None = None) -> Figure:
    """Rates by variant with their confidence intervals, one panel per metric (default: the
    metrics the tasks chart)."""
    metrics = [m for m in (metrics or chart_metrics()) if m in set(summary["metric"])]
    data = summary[summary["metric"].isin(metrics) & summary["n"].gt(0)]
    metrics = [m for m in metrics if m in set(data["metric"])]
    if not metrics:
        return _empty("Metrics by variant", "no scored samples")
    variants = list(dict.fromkeys(summary["variant"]))
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False)
    colors = plt.cm.tab10.colors
    for ax, metric in zip(axes.flat, metrics):
        sub = data[data["metric"] == metric].set_index("variant").reindex(variants)
        vals = sub["value"].to_numpy(dtype=float)
        err = np.vstack([vals - sub["ci_low"], sub["ci_high"] - vals]).astype(float)
        ax.bar(range(len(variants)), vals, yerr=np.nan_to_num(err), capsize=4,
               color=[colors[i % 10] for i in range(len(variants))])  # fmt: skip
        ax.set_xticks(range(len(variants)), short_labels(variants), fontsize=8)
        ax.set_ylim(0, 1.05)
        ns = sub["n"].fillna(0).astype(int).tolist()
        ax.set_title(f"{metric}\n(n={'/'.join(map(str, ns))})", fontsize=9)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle("Rates by variant (95% CI)  " + ", ".join(variants), fontsize=9)
    fig.tight_layout()
    return fig


def forest_plot(comparison: pd.DataFrame, title: str = "Paired differences (B - A)") -> Figure:
    """Each metric's paired difference B - A with its interval; Holm-significant ones in red.

    Rates and other 0-1 metrics share one axis (difference in proportion); latency and
    throughput, in seconds and tokens/s, get a second panel of relative differences
    ((B - A) / A, in %), so that no unit squeezes the others into a dot.
    """
    from medlab.metrics import METRICS
    from medlab.metrics.aggregate import LATENCY_COLUMNS

    if comparison.empty:
        return _empty(title, "no paired samples")
    timing = comparison["metric"].map(
        lambda m: m in METRICS and METRICS[m].column in LATENCY_COLUMNS
    )
    panels = [(comparison[~timing], "difference in proportion", False),
              (comparison[timing], "relative difference (B - A) / A, %", True)]  # fmt: skip
    panels = [p for p in panels if len(p[0])]
    heights = [len(p[0]) + 1.5 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 0.38 * sum(heights) + 0.8),
                             squeeze=False, gridspec_kw={"height_ratios": heights})  # fmt: skip
    for ax, (df, xlabel, relative) in zip(axes.flat, panels):
        df = df.iloc[::-1]
        scale = 100.0 / df["a"].abs().replace(0, np.nan) if relative else 1.0
        diff, low, high = (df[c] * scale for c in ("diff", "ci_low", "ci_high"))
        y = np.arange(len(df))
        colors = ["tab:red" if s else "tab:grey" for s in df["significant"]]
        ax.hlines(y, low, high, colors=colors, lw=1.5)  # one colour per row
        ax.scatter(diff, y, color=colors, zorder=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [f"{m} (n={n}, p_holm={p:.3g})" for m, n, p in
                          zip(df["metric"], df["n"], df["p_holm"])], fontsize=8)  # fmt: skip
        ax.set_xlabel(xlabel, fontsize=8)
    axes.flat[0].set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def confusion_heatmaps(samples: pd.DataFrame) -> Figure:
    """Gold triage x answer referral level, one heatmap per variant."""
    from medlab.metrics import referral_confusion

    rows = samples[samples["triage"].notna()] if "triage" in samples else samples.iloc[:0]
    variants = list(dict.fromkeys(rows["variant"]))
    if not variants:
        return _empty("Referral confusion", "no items with gold triage")
    fig, axes = plt.subplots(1, len(variants), figsize=(4.2 * len(variants), 3.6), squeeze=False)
    for ax, variant in zip(axes.flat, variants):
        cm = referral_confusion(rows[rows["variant"] == variant])
        cm = cm.reindex(index=TRIAGE_ORDER, columns=LEVEL_ORDER, fill_value=0)
        ax.imshow(cm.to_numpy(), cmap="Blues")
        for (i, j), v in np.ndenumerate(cm.to_numpy()):
            ax.text(j, i, int(v), ha="center", va="center", fontsize=9)
        ax.set_xticks(range(4), LEVEL_ORDER, rotation=30, fontsize=8)
        ax.set_yticks(range(4), TRIAGE_ORDER, fontsize=8)
        ax.set_xlabel("answer level")
        ax.set_ylabel("gold triage")
        ax.set_title(variant, fontsize=9)
    fig.tight_layout()
    return fig


def latency_distributions(samples: pd.DataFrame) -> Figure:
    """TTFT, TPOT and end-to-end latency per variant (cached answers excluded)."""
    from medlab.metrics.aggregate import scored

    samples = scored(samples)
    live = samples[~samples["cached"].astype(bool)] if "cached" in samples else samples
    cols = [c for c in ("ttft_s", "tpot_s", "latency_s") if c in live and live[c].notna().any()]
    if not cols or live.empty:
        return _empty("Latency", "no generated (uncached) samples")
    variants = list(dict.fromkeys(live["variant"]))
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3.2), squeeze=False)
    for ax, col in zip(axes.flat, cols):
        data = [
            live.loc[live["variant"] == v, col].dropna().to_numpy(dtype=float) for v in variants
        ]
        ax.boxplot(data, showfliers=True)
        ax.set_xticks(range(1, len(variants) + 1), short_labels(variants), fontsize=8)
        ax.set_title(f"{col} (s)", fontsize=9)
    fig.suptitle("Latency per variant (uncached)", fontsize=9)
    fig.tight_layout()
    return fig


def extraction_vs_length(samples: pd.DataFrame) -> Figure:
    """Extraction accuracy against record length (characters)."""
    if "record_chars" not in samples or samples["record_chars"].notna().sum() == 0:
        return _empty("Extraction vs record length", "no extraction items in this run")
    rows = samples[samples["record_chars"].notna()]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for col, marker in (("age_correct", "o"), ("diagnosis_correct", "s"), ("findings_recall", "^")):
        if col in rows and rows[col].notna().any():
            vals = rows[col].astype(float)
            jitter = np.random.default_rng(0).uniform(-0.02, 0.02, len(rows))
            ax.scatter(rows["record_chars"], vals + jitter, marker=marker, alpha=0.6, label=col)
    ax.set_xscale("log")
    ax.set_xlabel("record length (characters, log)")
    ax.set_ylim(-0.1, 1.1)
    ax.legend(fontsize=8)
    ax.set_title("Extraction accuracy vs record length", fontsize=10)
    fig.tight_layout()
    return fig


def json_failures(samples: pd.DataFrame) -> Figure:
    """Counts of each validation failure code per variant."""
    if "violations" not in samples:
        return _empty("JSON failures", "no structured samples")
    variants = list(dict.fromkeys(samples["variant"]))
    counts = {
        v: Counter(
            code.split(":")[0] + (":" + code.split(":")[1] if ":" in code else "")
            for vs in samples.loc[samples["variant"] == v, "violations"]
            if isinstance(vs, list)
            for code in vs
        )
        for v in variants
    }
    codes = sorted({c for cnt in counts.values() for c in cnt})
    if not codes:
        return _empty("JSON failures", "no validation failures")
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(codes) + 1.5))
    height = 0.8 / len(variants)
    for i, v in enumerate(variants):
        ax.barh(np.arange(len(codes)) + i * height, [counts[v][c] for c in codes], height, label=v)
    ax.set_yticks(np.arange(len(codes)) + 0.4 - height / 2, codes, fontsize=8)
    ax.set_xlabel("answers")
    ax.legend(fontsize=8)
    ax.set_title("Validation failures by code", fontsize=10)
    fig.tight_layout()
    return fig
