"""Run records on disk: ``<out_dir>/<run_id>/samples.jsonl`` (``results.json`` is
:mod:`medlab.manifest`'s).

``samples.jsonl`` holds one ``SampleResult.to_dict()`` per line. It is only ever appended to and
is flushed and fsynced after every batch, so a run killed at any moment loses at most the batch
in flight; a torn last line (the process died mid-write) is tolerated. What a run means (its
table, its summary) is :mod:`medlab.records`; this module only reads and writes the file.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import IO, Any

from medlab.types import SampleResult

SAMPLES = "samples.jsonl"


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


def run_dir(path_or_id: str | Path, out_dir: str | Path = "runs") -> Path:
    p = Path(path_or_id)
    if p.is_dir():
        return p
    q = Path(out_dir) / str(path_or_id)
    if q.is_dir():
        return q
    raise FileNotFoundError(f"no run {str(path_or_id)!r}: neither {p} nor {q} is a run folder")
