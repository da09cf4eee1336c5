"""Grow tests/data/real_answers/answers.jsonl: show unlabelled real answers, add hand labels.

The answers come from runs under ``runs/`` made by a real stand-in (``qwen2.5-0.5b`` or
``qwen2.5-1.5b``) with the set's generation settings (160 new tokens, one repeat; greedy, or
drawn at temperature 0.7 and top-p 0.9 with seed 0, mode ``sampled``, seed 1, ``sampled-2``,
and so on for each mode of ``tests/real_answers.py``); see the datasheet beside the data.
Labels are written by a person from ``GUIDE.md``, never from a detector. This script only
turns drug *names* into character offsets and appends records.

    python scripts/label_real_answers.py show [N] [--filter TEXT]   # next unlabelled answers
    python scripts/label_real_answers.py add LABELS.jsonl           # append labelled records
    python scripts/label_real_answers.py counts [--write]           # the datasheet's tables

Each line of LABELS.jsonl: ``{"key": "<model>|<mode>|<prompt>|<item_id>", "drugs": [[name,
kind], ...], "referral": level, "hedged": true|false|null}``. Every non-overlapping occurrence of
a name becomes a span, longest names first (so 头孢类抗生素 is one class, not 头孢 inside it);
ASCII names need word boundaries; ``[name, kind, [i, ...]]`` keeps only the i-th occurrences.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from real_answers import LEVELS, MODELS, MODES, PATH, check, split_of  # noqa: E402

RUNS = ROOT / "runs"
PARAMS = {"temperature": 0.0, "max_new_tokens": 160, "repetition_penalty": 1.0}
# mode "sampled": free text drawn at the temperature and top-p users run the chatbot with;
# modes "sampled-2", "sampled-3", …: further draws with the same settings and other seeds
SAMPLED = {"temperature": 0.7, "top_p": 0.9, "seed": 0, "max_new_tokens": 160,
           "repetition_penalty": 1.0}  # fmt: skip
# mode -> seed: sampled 0, sampled-2 1, ... (the modes are those of tests/real_answers.py)
DRAWS = {m: int(m.partition("-")[2] or 1) - 1 for m in MODES if m.startswith("sampled")}


def _fits(params: dict, wanted: dict) -> bool:
    return all(
        params.get(k, v if k == "repetition_penalty" else None) == v for k, v in wanted.items()
    )


def run_sources(runs: Path = RUNS) -> dict[str, tuple[str, str]]:
    """Run id -> (model, mode) for the runs made with the set's model and settings."""
    found = {}
    for res in sorted(runs.glob("*/results.json")):
        try:
            config = json.loads(res.read_text(encoding="utf-8"))["config"]
        except (OSError, ValueError, KeyError):
            continue
        params = config.get("params", {})
        if config.get("model") not in MODELS or config.get("repeats") != 1:
            continue
        if _fits(params, PARAMS):
            found[res.parent.name] = (config["model"], "json" if config["structured"] else "free")
        elif not config["structured"]:
            for mode, seed in DRAWS.items():
                if _fits(params, {**SAMPLED, "seed": seed}):
                    found[res.parent.name] = (config["model"], mode)
    return found


def answers(runs: Path = RUNS) -> dict[str, dict]:
    """Every finished answer of those runs, keyed ``model|mode|prompt|item_id`` (first wins)."""
    out: dict[str, dict] = {}
    for run, (model, mode) in run_sources(runs).items():
        with open(runs / run / "samples.jsonl", encoding="utf-8") as f:
            for line in f:
                try:
                    s = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line being written
                if s.get("error") or s.get("repeat", 0) != 0:
                    continue
                key = f"{model}|{mode}|{s['variant']}|{s['item_id']}"
                users = [m["content"] for m in s["messages"] if m["role"] == "user"]
                out.setdefault(key, {
                    "model": model, "prompt": s["variant"], "mode": mode,
                    "language": "en" if s["eval_set"].endswith("_en") else "zh",
                    "item_id": s["item_id"], "question": users[-1], "text": s["text"],
                })  # fmt: skip
    return out


def spans(text: str, drugs: list[list]) -> list[dict]:
    """Character spans of the labelled names (see the module docstring)."""
    taken = [False] * len(text)
    found = []
    for entry in sorted(drugs, key=lambda d: -len(d[0])):
        name, kind = entry[0], entry[1]
        hits = []
        for m in re.finditer(re.escape(name), text):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            if name.isascii() and any(
                0 <= i < len(text) and text[i].isascii() and text[i].isalnum() for i in (s - 1, e)
            ):
                continue
            hits.append((s, e))
        if len(entry) > 2:
            hits = [h for i, h in enumerate(hits) if i in entry[2]]
        if not hits:
            raise ValueError(f"name {name!r} not found in the answer")
        for s, e in hits:
            taken[s:e] = [True] * (e - s)
            found.append({"text": name, "start": s, "end": e, "kind": kind})
    return sorted(found, key=lambda d: d["start"])


def labelled_keys(path: Path = PATH) -> set[str]:
    if not path.exists():
        return set()
    with open(path, encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    return {f"{r['model']}|{r['mode']}|{r['prompt']}|{r['item_id']}" for r in recs}


def show(n: int, text_filter: str) -> None:
    done = labelled_keys()
    pending = [(k, a) for k, a in answers().items() if k not in done and text_filter in k]
    for key, a in pending[:n]:
        print("=" * 80, f"\nKEY {key}\nQ: {a['question']}\nA: {a['text']}")
    print(f"\n[{len(done)} labelled, {len(pending)} unlabelled match]")


def add(labels_path: Path) -> None:
    done, pool = labelled_keys(), answers()
    existing = len(PATH.read_text(encoding="utf-8").splitlines()) if PATH.exists() else 0
    new = []
    with open(labels_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            lab = json.loads(line)
            if lab["key"] in done:
                continue
            if lab["key"] not in pool:
                raise SystemExit(f"{labels_path}:{n}: key: no such answer in runs/: {lab['key']}")
            a = pool[lab["key"]]
            try:
                drugs = spans(a["text"], lab["drugs"])
            except ValueError as exc:
                raise SystemExit(f"{labels_path}:{n}: drugs: {exc}") from None
            rec = {
                "id": f"ra-{existing + len(new) + 1:04d}",
                "split": split_of(a["model"], a["mode"], a["prompt"], a["item_id"]),
                **a,
                "labels": {"drugs": drugs, "referral": lab["referral"], "hedged": lab["hedged"]},
            }
            problems = check(rec)
            if problems:
                raise SystemExit(f"{labels_path}:{n}: {problems[0]}")
            new.append(rec)
            done.add(lab["key"])
    with open(PATH, "a", encoding="utf-8") as f:
        for rec in new:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"added {len(new)} answers to {PATH.relative_to(ROOT)} ({existing + len(new)} in all)")


def _table(rows: list[dict], col_key, cols: list[str], head: str) -> str:
    """A Markdown count table: splits (and all) by ``col_key``, with a total column."""
    lines = [f"| split \\ {head} | {' | '.join(cols)} | total |", "|---" * (len(cols) + 2) + "|"]
    for split in ("dev", "heldout", None):
        sel = [r for r in rows if split is None or r["split"] == split]
        cells = [sum(col_key(r) == c for r in sel) for c in cols]
        lines.append(f"| {split or 'all'} | {' | '.join(map(str, cells))} | {len(sel)} |")
    return "\n".join(lines)


def counts(path: Path = PATH) -> str:
    """The count tables of the datasheet (README.md beside the data), from the records."""
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    split_table = ["| split | answers |", "|---|---|"]
    for split in ("dev", "heldout"):
        split_table.append(f"| {split} | {sum(r['split'] == split for r in rows)} |")
    split_table.append(f"| total | {len(rows)} |")
    hedged = {True: "true", False: "false", None: "null"}
    tables = [
        "\n".join(split_table),
        _table(rows, lambda r: r["model"], list(MODELS), "model"),
        _table(rows, lambda r: r["mode"], list(MODES), "mode"),
        _table(rows, lambda r: r["language"], ["zh", "en"], "language"),
        _table(rows, lambda r: r["prompt"], sorted({r["prompt"] for r in rows}), "prompt"),
        _table(rows, lambda r: r["labels"]["referral"], list(LEVELS), "referral"),
        _table(rows, lambda r: hedged[r["labels"]["hedged"]], list(hedged.values()), "hedged"),
    ]
    kinds = ["specific", "class", "fabricated", "echoed"]
    spans = ["| split \\ drug spans | " + " | ".join(kinds) + " | answers with a span |",
             "|---" * 6 + "|"]  # fmt: skip
    for split in ("dev", "heldout", None):
        sel = [r for r in rows if split is None or r["split"] == split]
        cells = [sum(d["kind"] == k for r in sel for d in r["labels"]["drugs"]) for k in kinds]
        with_span = sum(bool(r["labels"]["drugs"]) for r in sel)
        spans.append(f"| {split or 'all'} | {' | '.join(map(str, cells))} | {with_span} |")
    tables.append("\n".join(spans))
    return "\n\n".join(tables)


def provenance(path: Path = PATH) -> str:
    """The datasheet's table of answers per model, mode, prompt and eval set."""
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    n = Counter((r["model"], r["mode"], r["prompt"], r["item_id"].rsplit("-", 1)[0]) for r in rows)
    lines = ["| model | mode | prompt | eval set | answers |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(key)} | {count} |" for key, count in sorted(n.items())]
    return "\n".join(lines)


def write_counts(datasheet: Path = PATH.parent / "README.md") -> None:
    """Replace the datasheet's provenance table and its "Counts" section with the data's."""
    text = datasheet.read_text(encoding="utf-8")
    head = "| model | mode | prompt | eval set | answers |"
    start = text.index(head)
    end = text.index("\n\n", start)
    text = text[:start] + provenance() + text[end:]
    start = text.index("## Counts\n") + len("## Counts\n")
    end = text.index("\n## ", start)
    text = text[:start] + "\n" + counts() + "\n" + text[end:]
    datasheet.write_text(text, encoding="utf-8")
    print(f"updated the counts in {datasheet.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("show", help="print the next unlabelled answers")
    s.add_argument("n", nargs="?", type=int, default=10)
    s.add_argument("--filter", default="", help="only keys containing this text")
    a = sub.add_parser("add", help="append labelled answers")
    a.add_argument("labels", type=Path)
    c = sub.add_parser("counts", help="print the count tables of the datasheet")
    c.add_argument("--provenance", action="store_true", help="the answers per run setting")
    c.add_argument("--write", action="store_true", help="update both in the datasheet")
    args = ap.parse_args(argv)
    if args.cmd == "show":
        show(args.n, args.filter)
    elif args.cmd == "counts":
        if args.write:
            write_counts()
        else:
            print(provenance() if args.provenance else counts())
    else:
        add(args.labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
