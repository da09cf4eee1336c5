"""Run records on disk: ``<out_dir>/<run_id>/samples.jsonl`` and ``results.json``.

``samples.jsonl`` holds one ``SampleResult.to_dict()`` per line. It is only ever appended to and
is flushed and fsynced after every batch, so a run killed at any moment loses at most the batch
in flight; a torn last line (the process died mid-write) is tolerated. ``results.json`` is
replaced atomically (write to a temporary file, then rename).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from medlab.types import RunResult, SampleResult

if TYPE_CHECKING:  # imported on use (~0.4 s): writing and reading records does not need it
    import pandas as pd

SAMPLES = "samples.jsonl"
RESULTS = "results.json"

BASE_COLUMNS = [
    "run_id", "variant", "prompt_sha256", "eval_set", "item_id", "repeat", "text", "parsed",
    "error", "cached", "prompt_tokens", "completion_tokens", "ttft_s", "latency_s",
    "finish_reason",
]  # fmt: skip


def _jsonable(x: Any) -> Any:
    """json.dumps fallback for numpy scalars, paths and sets."""
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, (set, tuple)):
        return list(x)
    return str(x)


def _clean_nan(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean_nan(v) for v in x]
    return x


def dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(_clean_nan(obj), ensure_ascii=False, default=_jsonable, indent=indent)


def read_samples(path: str | Path, repair: bool = False) -> list[SampleResult]:
    """Read ``samples.jsonl``; tolerate a torn last line (cut it off the file when ``repair``).

    A malformed line anywhere else raises ValueError naming the file, line and field.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    # Writes are appends of whole lines, so a process killed mid-write leaves complete lines
    # followed by a fragment with no newline: everything after the last b"\n" is torn.
    complete_end = data.rfind(b"\n") + 1
    if complete_end < len(data):
        msg = f"{path}: torn last line ({len(data) - complete_end} bytes) ignored"
        if repair:
            with open(path, "r+b") as f:
                f.truncate(complete_end)
            msg += " and truncated away"
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    records: list[SampleResult] = []
    for lineno, raw in enumerate(data[:complete_end].split(b"\n")[:-1], start=1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
        except ValueError as e:
            raise ValueError(f"{path}:{lineno}: not valid JSON ({e})") from e
        try:
            records.append(SampleResult.from_dict(d))
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"{path}:{lineno}: not a sample record ({e!r})") from e
    return records


def latest_per_key(records: list[SampleResult]) -> list[SampleResult]:
    """One record per (variant, eval set, item, repeat): a later line supersedes an earlier one
    (a retried error sample), in the order keys first appeared."""
    by_key: dict[tuple[str, str, str, int], SampleResult] = {}
    for r in records:
        by_key[r.key] = r
    return list(by_key.values())


class SampleWriter:
    """Appends sample records, one JSON line each, durable after every ``write_batch``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def write_batch(self, records: list[SampleResult]) -> None:
        self._f.write("".join(dumps(r.to_dict()) + "\n" for r in records))
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> SampleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_results(run_dir: str | Path, results: dict[str, Any]) -> Path:
    path = Path(run_dir) / RESULTS
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_results(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / RESULTS
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def run_dir(path_or_id: str | Path, out_dir: str | Path = "runs") -> Path:
    p = Path(path_or_id)
    if p.is_dir():
        return p
    q = Path(out_dir) / str(path_or_id)
    if q.is_dir():
        return q
    raise FileNotFoundError(f"no run {str(path_or_id)!r}: neither {p} nor {q} is a run folder")


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
