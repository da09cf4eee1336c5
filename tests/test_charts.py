"""Charts draw what the data says, for any number of rows, and never fail on empty input."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from medlab import charts
from medlab.metrics import referral_confusion


def _render(fig) -> None:
    fig.savefig(io.BytesIO(), format="png")  # drawing is where bad colours or shapes fail
    plt.close(fig)


def _comparison(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    diff = rng.uniform(-0.2, 0.2, n)
    return pd.DataFrame({
        "metric": [f"m{i}" for i in range(n)], "a": 0.5, "diff": diff, "ci_low": diff - 0.05,
        "ci_high": diff + 0.05, "p_holm": rng.uniform(0, 1, n), "n": 40,
        "significant": [i % 2 == 0 for i in range(n)],
    })  # fmt: skip


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9])
def test_forest_plot_any_number_of_metrics(n):
    fig = charts.forest_plot(_comparison(n))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == n and labels[-1].startswith("m0 (n=40")  # first metric on top
    _render(fig)


def test_forest_plot_colours_significant_rows():
    fig = charts.forest_plot(_comparison(3))
    points = fig.axes[0].collections[-1]  # the scatter of differences, bottom row first
    colours = [tuple(c) for c in points.get_facecolors()]
    red, grey = (plt.matplotlib.colors.to_rgba(c) for c in ("tab:red", "tab:grey"))
    assert colours == [red, grey, red]  # rows m2, m1, m0: m0 and m2 significant
    _render(fig)


def test_forest_plot_puts_timings_on_a_relative_axis_of_their_own():
    df = pd.DataFrame({
        "metric": ["over_referral_rate", "latency_s_mean", "tokens_per_s_mean"],
        "a": [0.4, 2.0, 30.0], "diff": [-0.2, 0.5, -3.0], "ci_low": [-0.3, 0.4, -4.0],
        "ci_high": [-0.1, 0.6, -2.0], "p_holm": [0.01, 0.02, 0.03], "n": 50,
        "significant": [True, True, True],
    })  # fmt: skip
    fig = charts.forest_plot(df)
    rates, timings = fig.axes
    assert [t.get_text().split(" ")[0] for t in rates.get_yticklabels()] == ["over_referral_rate"]
    assert rates.collections[-1].get_offsets()[0][0] == pytest.approx(-0.2)
    points = sorted(x for x, _ in timings.collections[-1].get_offsets())
    assert points == pytest.approx([-10.0, 25.0])  # -3/30 and +0.5/2, in %
    assert "relative" in timings.get_xlabel()
    _render(fig)


def test_variant_labels_stay_unambiguous():
    assert charts.short_labels(["gp_assistant@v1", "gp_assistant@v2"]) == ["v1", "v2"]
    assert charts.short_labels(["gp_assistant@v1", "emr_extractor@v1"]) == [
        "gp_assistant\n@v1", "emr_extractor\n@v1"]  # fmt: skip


def _samples() -> pd.DataFrame:
    rows = [
        ("A", "emergency", "routine"), ("A", "emergency", "emergency"), ("A", "self_care", "none"),
        ("B", "self_care", "routine"), ("B", "urgent", "conditional"), ("A", None, "none"),
    ]  # fmt: skip
    return pd.DataFrame({
        "variant": [r[0] for r in rows], "triage": [r[1] for r in rows],
        "referral_level": [r[2] for r in rows], "cached": [False, True, False, False, False, False],
        "ttft_s": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "latency_s": [1.0, 2, 3, 4, 5, 6],
        "tpot_s": [0.01] * 6,
        "violations": [["missing:summary"], [], ["type:analysis"], ["missing:summary"], [], None],
    })  # fmt: skip


def test_confusion_heatmaps_write_the_counts_of_each_variant():
    samples = _samples()
    fig = charts.confusion_heatmaps(samples)
    assert [ax.get_title() for ax in fig.axes] == ["A", "B"]
    for ax, variant in zip(fig.axes, ["A", "B"]):
        cm = referral_confusion(
            samples[(samples["variant"] == variant) & samples["triage"].notna()]
        )
        cm = cm.reindex(index=charts.TRIAGE_ORDER, columns=charts.LEVEL_ORDER, fill_value=0)
        written = np.array([int(t.get_text()) for t in ax.texts]).reshape(4, 4)
        assert (written == cm.to_numpy()).all()
    _render(fig)


def test_latency_leaves_out_cached_answers():
    fig = charts.latency_distributions(_samples())
    ttft = fig.axes[0]
    assert ttft.get_title() == "ttft_s (s)"
    flat = {round(float(y), 6) for line in ttft.lines for y in line.get_ydata()}
    # variant A's uncached TTFTs are 0.1, 0.3, 0.6 (median 0.3); with the cached 0.2 it is 0.25
    assert 0.3 in flat and 0.25 not in flat
    _render(fig)


def test_json_failures_counts_codes_per_variant():
    fig = charts.json_failures(_samples())
    ax = fig.axes[0]
    codes = [t.get_text() for t in ax.get_yticklabels()]
    assert codes == ["missing:summary", "type:analysis"]
    widths = {c.get_label(): [p.get_width() for p in c] for c in ax.containers}
    assert widths == {"A": [1, 1], "B": [1, 0]}
    _render(fig)


def test_every_chart_handles_empty_input():
    empty = pd.DataFrame({"variant": [], "cached": [], "violations": []})
    summary = pd.DataFrame({"variant": [], "metric": [], "value": [], "ci_low": [], "ci_high": [], "n": []})  # fmt: skip
    # each chart says in words why it has nothing to draw, instead of an empty or broken axis
    for fig, message in (
        (charts.metric_bars(summary), "no scored samples"),
        (charts.forest_plot(_comparison(0)), "no paired samples"),
        (charts.confusion_heatmaps(empty), "no items with gold triage"),
        (charts.latency_distributions(empty), "no generated (uncached) samples"),
        (charts.extraction_vs_length(empty), "no extraction items in this run"),
        (charts.json_failures(empty), "no validation failures"),
        (charts.json_failures(empty.drop(columns="violations")), "no structured samples"),
    ):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert texts == [message]
        _render(fig)


def test_metric_bars_one_panel_per_scored_rate():
    summary = pd.DataFrame({
        "variant": ["A", "B", "A", "B"], "metric": ["over_referral_rate"] * 2 + ["hedging_rate"] * 2,
        "value": [0.5, 0.2, 0.9, np.nan], "ci_low": [0.3, 0.1, 0.8, np.nan],
        "ci_high": [0.7, 0.4, 1.0, np.nan], "n": [20, 20, 10, 0],
    })  # fmt: skip
    fig = charts.metric_bars(summary)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == [
        "over_referral_rate\n(n=20/20)",
        "hedging_rate\n(n=10/0)",
    ]  # B: not applicable
    _render(fig)
