"""A run read back: ``RunResult`` (records, results.json, the samples table and summary),
``load_run``, ``samples_frame`` and ``list_runs``.

The files themselves (``samples.jsonl``, ``results.json``: appending, fsync, torn lines, atomic
replace) are written and read by :mod:`medlab.runfiles`, re-exported here; that module sits
below the backends so that the replay backend can read a run without importing upward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.runfiles import (
    RESULTS,
    SAMPLES,
    SampleWriter,
    dumps,
    latest_per_key,
    read_results,
    read_samples,
    run_dir,
    write_results,
)
from medlab.types import SampleResult

if TYPE_CHECKING:  # imported on use (~0.4 s): writing and reading records does not need it
    import pandas as pd

__all__ = ["BASE_COLUMNS", "RESULTS", "SAMPLES", "RunResult", "SampleWriter", "dumps",
           "latest_per_key", "list_runs", "load_run", "read_results", "read_samples", "run_dir",
           "samples_frame", "write_results"]  # fmt: skip

BASE_COLUMNS = [
    "run_id", "variant", "prompt_sha256", "eval_set", "item_id", "repeat", "text", "parsed",
    "error", "cached", "prompt_tokens", "completion_tokens", "ttft_s", "latency_s",
    "finish_reason",
]  # fmt: skip


@dataclass
class RunResult:
    """A finished (or resumed) run: its records on disk and in memory."""

    run_id: str
    path: Path
    records: list[SampleResult]
    results: dict[str, Any] = field(default_factory=dict)  # contents of results.json

    @property
    def samples(self) -> pd.DataFrame:
        """One row per (variant, eval set, item, repeat); metrics flattened into columns."""
        return samples_frame(self.records)

    def summary(self) -> pd.DataFrame:
        """Long table [variant, metric, value, ci_low, ci_high, n] with 95% intervals (error
        samples left out); ``.pivot(index="metric", columns="variant", values="value")`` gives
        the metric x variant grid."""
        from medlab.metrics import summarize

        return summarize(self.samples)


def load_run(path_or_id: str | Path, out_dir: str | Path = "runs") -> RunResult:
    """Read a run back from its folder (or its id under ``out_dir``)."""
    d = run_dir(path_or_id, out_dir)
    results = read_results(d)
    records = latest_per_key(read_samples(d / SAMPLES))
    from medlab.judgements import attach_judged  # judged metrics, when the run was judged

    attach_judged(records, d, results)
    return RunResult(run_id=results.get("run_id", d.name), path=d, records=records, results=results)


def samples_frame(records: list[SampleResult]) -> pd.DataFrame:
    """One row per record: identity, text, timings, then every metric as a column."""
    import pandas as pd

    rows = []
    metric_keys: dict[str, None] = {}
    for r in records:
        c = r.completion
        row = {
            "run_id": r.run_id, "variant": r.variant, "prompt_sha256": r.prompt_sha256,
            "eval_set": r.eval_set, "item_id": r.item_id, "repeat": r.repeat, "text": r.text,
            "parsed": r.parsed, "error": r.error, "cached": bool(c.cached),
            "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
            "ttft_s": c.ttft_s, "latency_s": c.latency_s, "finish_reason": c.finish_reason,
        }  # fmt: skip
        for k, v in (r.metrics or {}).items():
            metric_keys.setdefault(k, None)
            if k not in row:
                row[k] = v
        rows.append(row)
    columns = BASE_COLUMNS + [k for k in metric_keys if k not in BASE_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def list_runs(out_dir: str | Path = "runs") -> list[dict[str, Any]]:
    """One summary dict per run folder under ``out_dir``, newest first."""
    out = []
    base = Path(out_dir)
    if not base.is_dir():
        return out
    for d in base.iterdir():
        if not (d / RESULTS).exists() and not (d / SAMPLES).exists():
            continue
        try:
            res = read_results(d)
        except ValueError:
            res = {"status": "unreadable"}
        n = 0
        if (d / SAMPLES).exists():
            with open(d / SAMPLES, "rb") as f:
                n = sum(1 for line in f if line.endswith(b"\n"))
        cfg = res.get("config", {})
        out.append(
            {
                "run_id": res.get("run_id", d.name),
                "status": res.get("status", "unknown"),
                "started": res.get("started"),
                "finished": res.get("finished"),
                "model": (res.get("model") or {}).get("name"),
                "variants": [p.get("ref") for p in res.get("prompts", [])],
                "eval_sets": [s.get("name") for s in res.get("eval_sets", [])],
                "samples": n,
                "planned": (res.get("counts") or {}).get("planned"),
                "path": str(d),
                "structured": cfg.get("structured"),
            }
        )
    out.sort(key=lambda r: r["started"] or "", reverse=True)
    return out
