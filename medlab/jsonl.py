"""Append-only JSONL files of a run folder (``judgements.jsonl``, ``reviews.jsonl``).

Writers append whole lines and fsync, so a process killed mid-write leaves complete lines
followed by a fragment with no newline. ``read_jsonl`` leaves that torn last line out;
``append_jsonl`` cuts it off before it appends (else the first new line would join the fragment
into one malformed line in the middle of the file, which no reader accepts). Appends hold an
exclusive lock on the file (POSIX ``flock``), so several writers of one file (reviewers side by
side) never cut off each other's line while it is being written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: appends are not locked
    fcntl = None  # type: ignore[assignment]


def read_jsonl(path: str | Path) -> list[Any]:
    """The values of the complete, non-blank lines, in file order; a torn last line is left
    out. A malformed line anywhere else raises ValueError naming the file and line."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    out = []
    for lineno, raw in enumerate(data[: data.rfind(b"\n") + 1].split(b"\n")[:-1], start=1):
        if raw.strip():
            try:
                out.append(json.loads(raw))
            except ValueError as e:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({e})") from e
    return out


def append_jsonl(path: str | Path, values: list[Any]) -> None:
    """Append one JSON line per value, durable on return (a torn last line is cut off first)."""
    text = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values)
    with open(path, "a+b") as f:
        if fcntl is not None:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                f.seek(0)
                f.truncate(f.read().rfind(b"\n") + 1)
        f.write(text.encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


__all__ = ["append_jsonl", "read_jsonl"]
