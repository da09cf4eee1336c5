"""Read public medical multiple-choice sets that a user downloaded into medlab's item format.

Nothing is downloaded here: point the loader at the file you have. Supported published formats:

- ``medqa``: MedQA (US, 4 options) JSONL, one ``{"question", "options": {"A": ...}, "answer_idx"}`` a line.
- ``cmexam``: CMExam CSV with columns ``Question``, ``Options`` ("A text" one per line), ``Answer``.
- ``cmb``: CMB-Exam JSON, a list of ``{"question", "option": {"A": ...}, "answer", "exam_type", ...}``.
- ``pubmedqa``: PubMedQA ``ori_pqal.json``, ``{PMID: {"QUESTION", "CONTEXTS", "final_decision"}}``;
  yes / no / maybe become options A / B / C.

Every item becomes a task "mcq" record with ``gold = {"answer": "A"}`` (several letters for
multiple-answer questions), checked like any eval-set line. Use ``load_eval_set("medqa:path")`` or
``load_eval_set(path, format="medqa")``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from medlab.evalset_check import EvalSetError, check_record

Row = tuple[str, dict[str, Any]]  # (where, raw row)
PUBMEDQA_OPTIONS = {"A": "yes", "B": "no", "C": "maybe"}
_INSTRUCTION = {
    "zh": "请从下列选项中选出正确答案，只回答选项字母。",
    "en": "Choose the correct answer. Reply with the option letter only.",
}


def _need(row: dict[str, Any], key: str, where: str) -> Any:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise EvalSetError(f"{where}: field '{key}': is missing")
    return value


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise EvalSetError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e


def _medqa_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield f"{path}:{lineno}", json.loads(line)
                except json.JSONDecodeError as e:
                    raise EvalSetError(f"{path}:{lineno}: invalid JSON: {e.msg}") from e


def _medqa(row: dict[str, Any], where: str) -> dict[str, Any]:
    options = _need(row, "options", where)
    if not isinstance(options, dict):
        raise EvalSetError(f"{where}: field 'options': must be an object of letter -> text")
    return {
        "question": _need(row, "question", where),
        "options": options,
        "answer": _need(row, "answer_idx", where),
        "meta": {"meta_info": row.get("meta_info")},
    }


def _cmexam_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            yield f"{path}:{reader.line_num}", row


def _cmexam(row: dict[str, Any], where: str) -> dict[str, Any]:
    options = {}
    for line in str(_need(row, "Options", where)).splitlines():
        m = re.match(r"\s*([A-Z])[\s.、．:：]+(.*\S)", line)
        if m:
            options[m.group(1)] = m.group(2)
    if not options:
        raise EvalSetError(f"{where}: field 'Options': no 'A text' lines found")
    meta = {
        k: row[k]
        for k in ("Disease Group", "Clinical Department", "Medical Discipline")
        if row.get(k)
    }
    return {
        "question": _need(row, "Question", where),
        "options": options,
        "answer": str(_need(row, "Answer", where)).strip(),
        "meta": meta,
    }


def _cmb_rows(path: Path) -> Iterator[Row]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise EvalSetError(f"{path}: expected a JSON list of questions")
    for i, row in enumerate(data, 1):
        yield f"{path}: item {i}", row


def _cmb(row: dict[str, Any], where: str) -> dict[str, Any]:
    options = {k: v for k, v in _need(row, "option", where).items() if str(v).strip()}
    meta = {
        k: row[k]
        for k in ("exam_type", "exam_class", "exam_subject", "question_type")
        if row.get(k)
    }
    return {
        "question": _need(row, "question", where),
        "options": options,
        "answer": str(_need(row, "answer", where)).strip(),
        "meta": meta,
    }


def _pubmedqa_rows(path: Path) -> Iterator[Row]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise EvalSetError(f"{path}: expected a JSON object of PMID -> question")
    for pmid, row in data.items():
        yield f"{path}: PMID {pmid}", {**row, "_pmid": pmid}


def _pubmedqa(row: dict[str, Any], where: str) -> dict[str, Any]:
    decision = _need(row, "final_decision", where)
    answer = {v: k for k, v in PUBMEDQA_OPTIONS.items()}.get(decision)
    if answer is None:
        raise EvalSetError(f"{where}: field 'final_decision': {decision!r} is not yes, no or maybe")
    question = _need(row, "QUESTION", where)
    context = "\n".join(row.get("CONTEXTS") or [])
    stem = f"{context}\n\n{question}" if context else question
    return {
        "question": stem,
        "options": dict(PUBMEDQA_OPTIONS),
        "answer": answer,
        "meta": {"pmid": row["_pmid"], "year": row.get("YEAR")},
    }


FORMATS: dict[str, tuple[Callable[[Path], Iterator[Row]], Callable[..., dict[str, Any]], str]] = {
    "medqa": (_medqa_rows, _medqa, "en"),
    "cmexam": (_cmexam_rows, _cmexam, "zh"),
    "cmb": (_cmb_rows, _cmb, "zh"),
    "pubmedqa": (_pubmedqa_rows, _pubmedqa, "en"),
}


def read_public(path: str | Path, fmt: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Records (the eval-set JSONL shape, task "mcq") from a public set file in format ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown public format {fmt!r}; known: {', '.join(FORMATS)}")
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{fmt} file not found: {path}")
    rows, convert, language = FORMATS[fmt]
    records = []
    for n, (where, row) in enumerate(rows(path), 1):
        if not isinstance(row, dict):
            raise EvalSetError(f"{where}: expected an object, got {type(row).__name__}")
        q = convert(row, where)
        answer = q["answer"].upper()
        if not answer or any(letter not in q["options"] for letter in answer):
            raise EvalSetError(
                f"{where}: field 'answer': {q['answer']!r} is not one of {sorted(q['options'])}"
            )
        lines = [q["question"].strip(), *(f"{k}. {v}" for k, v in sorted(q["options"].items()))]
        record = {
            "id": f"{fmt}-{q['meta'].get('pmid') or f'{n:05d}'}",
            "task": "mcq",
            "language": language,
            "question": "\n".join(lines) + "\n" + _INSTRUCTION[language],
            "gold": {"answer": answer},
            "options": q["options"],
            "source": fmt,
            "meta": {k: v for k, v in q["meta"].items() if v is not None},
        }
        check_record(record, where)
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    return records
