"""Load and check the medical eval sets in ``eval_sets/*.jsonl``.

Every line is one item, checked against a JSON Schema for its ``task`` before anything uses it;
a bad line fails with :class:`EvalSetError` naming the file, the line number and the field.
``load_eval_set`` returns a ``datasets.Dataset``, ``load_items`` returns :class:`EvalItem` objects.
Public multiple-choice sets a user downloaded load through ``"format:path"`` names (see
:mod:`medlab.evalsets_public`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.evalset_check import (
    ASSERTION_FIELDS,
    TASKS,
    EvalSetError,
    check_record,
    task_schema,
)
from medlab.levels import TRIAGE_LEVELS
from medlab.tasks import TASKS as TASK_DECLARATIONS
from medlab.types import EvalItem, Message

if TYPE_CHECKING:
    import datasets

__all__ = ["ASSERTION_FIELDS", "TASKS", "EvalSetError", "check_record",
           "eval_set_sha256", "list_eval_sets", "load_eval_set", "load_items", "read_records",
           "task_schema"]  # fmt: skip

TRIAGE = list(TRIAGE_LEVELS)
AGE_GROUPS = ["infant", "child", "adult", "pregnancy", "elderly"]
CORE_FIELDS = ("id", "task", "language", "question", "messages", "triage", "gold", "rubric")


def eval_sets_dir() -> Path:
    """``eval_sets/`` next to the package, or ``$MEDLAB_EVAL_SETS_DIR``."""
    env = os.environ.get("MEDLAB_EVAL_SETS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "eval_sets"


def list_eval_sets() -> list[str]:
    return sorted(p.stem for p in eval_sets_dir().glob("*.jsonl"))


# ---------------------------------------------------------------- reading files
def resolve(name_or_path: str | Path) -> Path:
    """An eval-set name ("triage_zh") or a path to a JSONL file of the same format."""
    p = Path(name_or_path)
    if p.suffix == ".jsonl" or p.exists():
        if not p.exists():
            raise FileNotFoundError(f"eval set file not found: {p}")
        return p
    path = eval_sets_dir() / f"{name_or_path}.jsonl"
    if not path.exists():
        raise KeyError(f"unknown eval set {name_or_path!r}; known: {', '.join(list_eval_sets())}")
    return path


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        try:
            return str(path.resolve().relative_to(eval_sets_dir().resolve().parent))
        except ValueError:
            return str(path)


def max_line_bytes() -> int:
    """The longest eval-set line accepted: ``$MEDLAB_MAX_LINE_BYTES``, default 4 MiB (a
    128k-token record is about 0.5 MB); a longer line is refused before it is read whole."""
    return int(os.environ.get("MEDLAB_MAX_LINE_BYTES") or 4 * 1024 * 1024)


def read_records(
    name_or_path: str | Path, limit: int | None = None, sources: list[str] | None = None
) -> list[dict[str, Any]]:
    """The checked JSON records of a set, in file order (blank lines are skipped).

    ``sources``, when given, receives the ``"file:line"`` of each record."""
    if isinstance(name_or_path, str) and ":" in name_or_path and not Path(name_or_path).exists():
        from medlab.evalsets_public import read_public

        fmt, _, path = name_or_path.partition(":")
        return read_public(path, fmt, limit=limit)
    path = resolve(name_or_path)
    shown, seen, records = _display(path), {}, []
    cap = max_line_bytes()
    with path.open("rb") as f:
        for lineno, raw in enumerate(iter(lambda: f.readline(cap + 1), b""), 1):
            where = f"{shown}:{lineno}"
            if len(raw) > cap:
                raise EvalSetError(
                    f"{where}: line longer than the {cap}-byte limit (MEDLAB_MAX_LINE_BYTES)"
                )
            try:  # a BOM on the first line (Windows editors) is not part of the JSON
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise EvalSetError(
                    f"{where}: not UTF-8 (byte {e.start + 1} of the line): save the file as UTF-8"
                ) from e
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                check_record(record, where)
            except json.JSONDecodeError as e:
                raise EvalSetError(f"{where}: invalid JSON: {e.msg} (column {e.colno})") from e
            except RecursionError:
                raise EvalSetError(f"{where}: JSON nested too deeply") from None
            if record["id"] in seen:
                raise EvalSetError(
                    f"{where}: field 'id': duplicate id {record['id']!r} (first on line {seen[record['id']]})"
                )
            seen[record["id"]] = lineno
            records.append(record)
            if sources is not None:
                sources.append(where)
            if limit is not None and len(records) >= limit:
                break
    return records


def _set_name(name_or_path: str | Path) -> str:
    """ "triage_zh" for a name or path; the format ("medqa") for a public set."""
    s = str(name_or_path)
    return s.partition(":")[0] if ":" in s and not Path(s).exists() else Path(s).stem


def to_item(record: dict[str, Any], eval_set: str, source: str | None = None) -> EvalItem:
    if "messages" in record:
        messages = [Message.coerce(m) for m in record["messages"]]
    else:
        messages = [Message("user", record["question"])]
    return EvalItem(
        id=record["id"],
        eval_set=eval_set,
        task=record["task"],
        messages=messages,
        language=record["language"],
        triage=record.get("triage"),
        gold=dict(record.get("gold", {})),
        must_include_any=list(record.get("must_include_any", [])),
        must_not_include=list(record.get("must_not_include", [])),
        rubric=list(record.get("rubric", [])),
        meta={
            **record.get("meta", {}),
            **{
                k: v
                for k, v in record.items()
                if k not in (*CORE_FIELDS, *ASSERTION_FIELDS, "meta")
            },
        },
        source=source,
    )


def load_items(
    name_or_path: str | Path, limit: int | None = None, format: str | None = None
) -> list[EvalItem]:
    """The checked items of a set as EvalItem objects, in file order."""
    source = f"{format}:{name_or_path}" if format else name_or_path
    name, where = _set_name(source), []
    records = read_records(source, limit, sources=where)
    return [to_item(r, name, w) for r, w in zip(records, where or [None] * len(records))]


def load_eval_set(
    name_or_path: str | Path, limit: int | None = None, format: str | None = None
) -> datasets.Dataset:
    """A checked ``datasets.Dataset`` with columns id, eval_set, task, language, messages
    (list of {role, content}), question (last user message), triage, must_include_any,
    must_not_include, gold and meta (JSON-encoded strings: their shape varies by task)."""
    import datasets

    rows = [
        {
            "id": it.id,
            "eval_set": it.eval_set,
            "task": it.task,
            "language": it.language,
            "messages": [m.to_dict() for m in it.messages],
            "question": it.question,
            "triage": it.triage,
            "must_include_any": it.must_include_any,
            "must_not_include": it.must_not_include,
            "gold": json.dumps(it.gold, ensure_ascii=False),
            "meta": json.dumps(it.meta, ensure_ascii=False),
        }
        for it in load_items(name_or_path, limit, format)
    ]
    return datasets.Dataset.from_list(rows)


def eval_set_sha256(name_or_path: str | Path) -> str:
    """sha256 of the set's file bytes (what a run records to pin the data it saw)."""
    s = str(name_or_path)
    if ":" in s and not Path(s).exists():
        s = s.partition(":")[2]
    path = Path(s) if Path(s).exists() else resolve(name_or_path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def __getattr__(name: str) -> Any:
    if name == "EVAL_SETS":  # discovered on access, so the env override is honoured
        return {p.stem: p for p in sorted(eval_sets_dir().glob("*.jsonl"))}
    if name == "LABEL_FIELDS":  # what each task counts (medlab.tasks)
        return {t.name: t.label_fields for t in TASK_DECLARATIONS.values()}
    raise AttributeError(name)


def counts(name_or_path: str | Path) -> dict[str, Any]:
    """{"n": items, "task": {...}, <label field>: {label: count}} for the set's tasks."""
    records = read_records(name_or_path)
    out: dict[str, Any] = {"n": len(records), "task": dict(Counter(r["task"] for r in records))}
    for name in out["task"]:
        task = TASK_DECLARATIONS[name]
        for field in task.label_fields:
            c = Counter(task.label(r, field) for r in records if r["task"] == name)
            c.pop(None, None)
            out.setdefault(field, {}).update(sorted(c.items()))
    return out
