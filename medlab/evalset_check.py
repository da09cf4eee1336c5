"""The check every eval-set item passes before anything uses it: one JSON Schema per task
(``eval_sets/schemas/<task>.json``) plus the rules a schema cannot say (the last message is the
user's, assertion patterns compile). A bad item raises :class:`EvalSetError` naming where it came
from (file and line) and the field.

The tasks and their item schemas are declared in :mod:`medlab.tasks`. It sits below both
readers, :mod:`medlab.evalsets` (the project's JSONL sets) and
:mod:`medlab.evalsets_public` (downloaded public sets), so that neither imports the other's
checks back.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medlab.levels import TRIAGE_LEVELS
from medlab.schema_check import SchemaChecker
from medlab.tasks import TASKS

if TYPE_CHECKING:
    import jsonschema

ASSERTION_FIELDS = ("must_include_any", "must_not_include")


class EvalSetError(ValueError):
    """A malformed eval-set file: the message names the file, the line and the field."""


SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "eval_sets" / "schemas"


@functools.cache
def task_schema(task: str) -> dict[str, Any]:
    """The JSON Schema an item of ``task`` must satisfy (``eval_sets/schemas/<task>.json``, the
    task's ``item_schema``), with the ``task`` and ``triage`` enums filled in from
    :mod:`medlab.tasks` and :mod:`medlab.levels`."""
    name = TASKS[task].item_schema if task in TASKS else f"{task}.json"
    schema = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    props = schema.get("properties", {})
    if "task" in props:
        props["task"] = {**props["task"], "enum": list(TASKS)}
    if "triage" in props:
        props["triage"] = {**props["triage"], "enum": list(TRIAGE_LEVELS)}
    return schema


@functools.cache
def _validator(task: str | None) -> SchemaChecker:
    if task in TASKS:
        return SchemaChecker(task_schema(task))
    base = task_schema("triage")["properties"]  # an unknown task: report the id/task fields
    shape = {
        "type": "object",
        "required": ["id", "task"],
        "properties": {k: base[k] for k in ("id", "task")},
    }
    return SchemaChecker(shape)


def _field_of(err: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        missing = re.match(r"'([^']+)'", err.message)
        name = missing.group(1) if missing else "?"
        return f"{path}.{name}" if path else name
    if err.validator == "additionalProperties":
        unknown = re.findall(r"'([^']+)'", err.message)
        return unknown[0] if unknown else path or "(item)"
    if err.validator == "oneOf" and not path:
        return "question/messages"
    return path or "(item)"


def _describe(err: jsonschema.ValidationError) -> str:
    if err.validator == "oneOf" and not err.absolute_path:
        return "needs exactly one of 'question' or 'messages'"
    if err.validator == "required":
        return "is missing"
    if err.validator == "additionalProperties":
        return "is not a known field (put free-form data under 'meta')"
    if err.validator == "contains" and list(err.absolute_path) == ["rubric"]:
        return "needs at least one criterion with positive points"
    return err.message


def check_record(record: Any, where: str) -> None:
    """Raise EvalSetError("<where>: field 'x': ...") if ``record`` is not a valid item."""
    task = record.get("task") if isinstance(record, dict) else None
    errors = list(_validator(task if isinstance(task, str) else None).iter_errors(record))
    if errors:
        err = min(errors, key=lambda e: (e.validator == "oneOf", len(e.absolute_path)))
        raise EvalSetError(f"{where}: field '{_field_of(err)}': {_describe(err)}")
    msgs = record.get("messages")
    if msgs and msgs[-1]["role"] != "user":
        raise EvalSetError(
            f"{where}: field 'messages.{len(msgs) - 1}.role': last message must be 'user'"
        )
    for key in ASSERTION_FIELDS:
        for i, pat in enumerate(record.get(key, [])):
            if pat.startswith("re:"):
                try:
                    re.compile(pat[3:])
                except re.error as e:
                    raise EvalSetError(
                        f"{where}: field '{key}.{i}': bad regular expression: {e}"
                    ) from e
