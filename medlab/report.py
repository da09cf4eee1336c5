"""The self-contained HTML report of a run: provenance, summary with intervals, charts embedded
as PNG, paired comparisons next to the prompt diffs, and a per-sample table that filters to
failures and highlights drug mentions."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from medlab import charts
from medlab.lazy import callable_module
from medlab.tasks import failure_labels

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from medlab.records import RunResult


def __getattr__(name: str) -> dict[str, str]:
    """``FAILURE_FLAGS`` (column: label of a sample where it is True) and ``FAILURE_IF_FALSE``
    (where it is False), as the tasks declare them (``MetricSpec.failure``)."""
    if name in ("FAILURE_FLAGS", "FAILURE_IF_FALSE"):
        want = name == "FAILURE_FLAGS"
        return {col: label for (col, bad), label in failure_labels().items() if bad is want}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_HIGHLIGHT = {"generic": "drug", "brand": "drug", "fabricated": "fab", "class": "cls"}


def figure_to_data_uri(fig: Figure) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _value(row: dict[str, Any], col: str) -> Any:
    """A cell of a samples-table row, None when missing: pandas stores a missing string
    (no ``error``, no ``triage``) as NaN, which is truthy."""
    v = row.get(col)
    return None if v is None or (isinstance(v, float) and v != v) else v


def sample_failures(row: dict[str, Any]) -> list[str]:
    """Human-readable failure labels of one sample row."""
    out = [label for (col, bad), label in failure_labels().items() if row.get(col) is bad]
    if _value(row, "error"):
        out.append("error")
    return out


def highlight_drugs(text: str, question: str | None = None) -> str:
    """HTML of ``text`` with drug mentions wrapped in <mark> (class by kind), escaped."""
    from medlab.metrics import drug_mentions

    parts, pos = [], 0
    for m in sorted(drug_mentions(text, question=question), key=lambda m: m.start):
        if m.start < pos:
            continue
        parts.append(html.escape(text[pos : m.start]))
        kind = _HIGHLIGHT.get(m.kind, "drug")
        tip = f"{m.kind}{' (echo)' if getattr(m, 'echo', False) else ''}: {m.canonical}"
        parts.append(
            f'<mark class="{kind}" title="{html.escape(tip)}">{html.escape(text[m.start : m.end])}</mark>'
        )
        pos = m.end
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


def _summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    def cell(r: Any) -> str:
        if not r["n"]:
            return "–"
        return f"{r['value']:.3g} [{r['ci_low']:.3g}, {r['ci_high']:.3g}] n={int(r['n'])}"

    s = summary.copy()
    s["cell"] = [cell(r) for r in s.to_dict("records")]
    order = list(dict.fromkeys(s["metric"]))
    return s.pivot(index="metric", columns="variant", values="cell").reindex(order)


def _comparisons(run: RunResult, samples: pd.DataFrame) -> list[dict[str, Any]]:
    from medlab.prompts import diff_prompts
    from medlab.stats import compare

    variants = list(dict.fromkeys(samples["variant"]))
    out = []
    for b in variants[1:]:
        a = variants[0]
        df = compare(samples, a, b)
        try:
            diff = diff_prompts(a, b)
        except Exception as exc:  # a prompt no longer in the registry: say so, keep the report
            diff = f"(prompt diff unavailable: {exc})"
        out.append(
            {
                "a": a,
                "b": b,
                "table": df.to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0),
                "forest": figure_to_data_uri(charts.forest_plot(df, f"{b} - {a}")),
                "diff": diff,
            }
        )
    return out


def _sample_rows(samples: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in samples.to_dict("records"):
        fails = sample_failures(r)
        rows.append(
            {
                "variant": r["variant"],
                "eval_set": r["eval_set"],
                "item_id": r["item_id"],
                "repeat": r.get("repeat", 0),
                "triage": _value(r, "triage") or "",
                "level": _value(r, "referral_level") or "",
                "failures": fails,
                "cached": bool(r.get("cached")),
                "answer": highlight_drugs(str(_value(r, "text") or "")),
            }
        )
    return rows


def _agreement_html(run: RunResult) -> str:
    """Kappa of rules, judge and reviewers where two or more label the same quantity ("" if none)."""
    from medlab.agreement import agreement

    table = agreement(run)
    if table.empty:
        return ""
    return table.to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0, na_rep="–")


def render_report(run: RunResult) -> str:
    """The report as one HTML string (all images inline)."""
    samples = run.samples
    summary = run.summary()
    figures = {
        "Rates by variant": charts.metric_bars(summary),
        "Referral level vs gold triage": charts.confusion_heatmaps(samples),
        "Latency": charts.latency_distributions(samples),
        "Extraction accuracy vs record length": charts.extraction_vs_length(samples),
        "Validation failures": charts.json_failures(samples),
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("medlab", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(
        run_id=run.run_id,
        judge=run.manifest.judge if run.manifest else None,
        provenance=json.dumps(
            {k: v for k, v in run.results.items() if k != "summary"},
            ensure_ascii=False,
            indent=2,
            default=str,
        ),
        summary_html=_summary_table(summary).to_html(border=0, na_rep="–"),
        figures={title: figure_to_data_uri(fig) for title, fig in figures.items()},
        comparisons=_comparisons(run, samples),
        agreement_html=_agreement_html(run),
        rows=_sample_rows(samples),
        n_failures=sum(1 for r in samples.to_dict("records") if sample_failures(r)),
    )


def report(run: RunResult | str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` into the run folder (or ``out``) and return its path."""
    from medlab.runner import load_run

    if not hasattr(run, "samples"):
        run = load_run(run)
    path = Path(out) if out else Path(run.path) / "report.html"
    path.write_text(render_report(run), encoding="utf-8")
    return path


callable_module(__name__)  # medlab.report(run) even after `import medlab.report`
