"""A run read back: ``RunResult`` (records, manifest, the samples table and summary),
``load_run``, ``samples_frame``, ``run_summary`` and ``list_runs``.

The files themselves are written and read by :mod:`medlab.runfiles` (``samples.jsonl``:
appending, fsync, torn lines) and :mod:`medlab.manifest` (``results.json``: the typed run
manifest, atomic replace), re-exported here; both sit below the backends so that the replay
backend can read a run without importing upward. :func:`run_summary` is the one place a run's
summary is computed: the runner and the judge write it into the manifest, ``RunResult.summary``
shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.manifest import (
    RESULTS,
    ManifestError,
    RunManifest,
    read_manifest,
    read_results,
    write_manifest,
    write_results,
)
from medlab.runfiles import SAMPLES, SampleWriter, dumps, latest_per_key, read_samples, run_dir
from medlab.types import SampleResult

if TYPE_CHECKING:  # imported on use (~0.4 s): writing and reading records does not need it
    import pandas as pd

__all__ = ["BASE_COLUMNS", "RESULTS", "SAMPLES", "ManifestError", "RunManifest", "RunResult",
           "SampleWriter", "dumps", "latest_per_key", "list_runs", "load_run", "read_manifest",
           "read_results", "read_samples", "run_dir", "run_summary", "samples_frame",
           "write_manifest", "write_results"]  # fmt: skip

BASE_COLUMNS = [
    "run_id", "variant", "prompt_sha256", "eval_set", "item_id", "repeat", "text", "parsed",
    "error", "cached", "prompt_tokens", "completion_tokens", "ttft_s", "latency_s",
    "finish_reason",
]  # fmt: skip


SUMMARY_KEYS = ["variant", "metric", "value", "ci_low", "ci_high", "n"]


def run_summary(records: Sequence[SampleResult]) -> tuple[dict[str, Any], ...]:
    """The summary of a run: one row per variant x metric with its 95% interval and n (error
    samples left out; ``summarize(samples_frame(records))`` row for row, without pandas). What
    results.json records and ``RunResult.summary()`` shows."""
    from medlab.metrics.aggregate import summary_records

    return tuple(summary_records(records))


@dataclass
class RunResult:
    """A finished (or resumed) run: its records on disk and in memory, and its manifest
    (None for a folder without results.json)."""

    run_id: str
    path: Path
    records: list[SampleResult]
    manifest: RunManifest | None = None

    @property
    def results(self) -> dict[str, Any]:
        """The manifest as the plain results.json dict (``{}`` without one)."""
        return self.manifest.to_dict() if self.manifest else {}

    @property
    def samples(self) -> pd.DataFrame:
        """One row per (variant, eval set, item, repeat); metrics flattened into columns."""
        return samples_frame(self.records)

    def summary(self) -> pd.DataFrame:
        """Long table [variant, metric, value, ci_low, ci_high, n] with 95% intervals (error
        samples left out): :func:`run_summary` of the records, judged metrics included;
        ``.pivot(index="metric", columns="variant", values="value")`` gives the metric x
        variant grid."""
        import pandas as pd

        return pd.DataFrame(list(run_summary(self.records)), columns=SUMMARY_KEYS)


def load_run(path_or_id: str | Path, out_dir: str | Path = "runs") -> RunResult:
    """Read a run back from its folder (or its id under ``out_dir``)."""
    d = run_dir(path_or_id, out_dir)
    manifest = read_manifest(d)
    records = latest_per_key(read_samples(d / SAMPLES))
    from medlab.judgements import attach_judged  # judged metrics, when the run was judged

    attach_judged(records, d, manifest.judge if manifest else None)
    run_id = manifest.run_id if manifest else d.name
    return RunResult(run_id=run_id, path=d, records=records, manifest=manifest)


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
        status = None
        try:
            m = read_manifest(d)
        except ValueError:
            m, status = None, "unreadable"
        n = 0
        if (d / SAMPLES).exists():
            with open(d / SAMPLES, "rb") as f:
                n = sum(1 for line in f if line.endswith(b"\n"))
        out.append(
            {
                "run_id": m.run_id if m else d.name,
                "status": m.status if m else status or "unknown",
                "started": m.started if m else None,
                "finished": m.finished if m else None,
                "model": m.model.get("name") if m else None,
                "variants": [p.ref for p in m.prompts] if m else [],
                "eval_sets": [s.name for s in m.eval_sets] if m else [],
                "samples": n,
                "planned": m.counts.planned if m and m.counts else None,
                "path": str(d),
                "structured": m.config.structured if m else None,
            }
        )
    out.sort(key=lambda r: r["started"] or "", reverse=True)
    return out
