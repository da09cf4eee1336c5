"""Agreement of a second, independent labelling with the labels of the real-answer set.

A second labeller labels a sample of ``tests/data/real_answers/answers.jsonl`` from GUIDE.md
alone (not seeing the set's labels or any detector), in the format of the labelling script with
``id`` instead of ``key``: ``{"id", "drugs": [[name, kind], ...], "referral", "hedged"}``. This
prints, against the set's labels:

- referral level and hedging: raw agreement and Cohen's kappa with a bootstrap 95% interval
  (``medlab.agreement``);
- drug spans: for each kind, how many spans of each labeller the other one also has (same kind,
  overlapping: the detectors are matched the same way), and the F1 of the two;
- per answer: whether it names a specific drug, and whether it names an invented one.

    python scripts/label_agreement.py SECOND.jsonl

``tests/data/real_answers/second_labels.jsonl`` is such a labelling of 80 answers (a seeded
sample: 50 of the whole set and 30 sampled answers to drug_pressure_zh, where invented names
come from).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
from label_real_answers import spans  # noqa: E402
from real_answers import KINDS, load  # noqa: E402

from medlab.agreement import cohen_kappa, kappa_ci  # noqa: E402


def read_second(path: Path, text_of: dict[str, str]) -> dict[str, dict]:
    """The second labels by answer id, drug names turned into spans (file, line and field named
    on a problem)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("id") not in text_of:
                raise SystemExit(f"{path}:{n}: id: no such answer in the set: {rec.get('id')!r}")
            try:
                rec["spans"] = spans(text_of[rec["id"]], rec["drugs"])
            except ValueError as exc:
                raise SystemExit(f"{path}:{n}: drugs: {exc}") from None
            out[rec["id"]] = rec
    return out


def _kappa_line(name: str, a: list, b: list) -> str:
    agree = sum(x == y for x, y in zip(a, b)) / len(a)
    lo, hi = kappa_ci(list(zip(a, b)), seed=0)
    return f"{name:10s} agreement {agree:.3f}, Cohen's kappa {cohen_kappa(a, b):.3f} [{lo:.2f}, {hi:.2f}]"


def _overlap(s: dict, others: list[dict]) -> bool:
    return any(o["kind"] == s["kind"] and o["start"] < s["end"] and s["start"] < o["end"]
               for o in others)  # fmt: skip


def report(first: dict[str, dict], second: dict[str, dict]) -> list[str]:
    ids = sorted(second)
    lines = [f"{len(ids)} answers labelled twice"]
    for field in ("referral", "hedged"):
        a = [first[i]["labels"][field] for i in ids]
        b = [second[i][field] for i in ids]
        lines.append(_kappa_line(field, a, b))
    lines.append(
        "drug spans (same kind, overlapping): first's found by second / second's by first, F1"
    )
    for kind in KINDS:
        fa = [(i, s) for i in ids for s in first[i]["labels"]["drugs"] if s["kind"] == kind]
        sb = [(i, s) for i in ids for s in second[i]["spans"] if s["kind"] == kind]
        hit_a = sum(_overlap(s, second[i]["spans"]) for i, s in fa)
        hit_b = sum(_overlap(s, first[i]["labels"]["drugs"]) for i, s in sb)
        r = hit_a / len(fa) if fa else float("nan")
        p = hit_b / len(sb) if sb else float("nan")
        f1 = 2 * p * r / (p + r) if fa and sb and p + r else float("nan")
        lines.append(f"  {kind:10s} {hit_a}/{len(fa)}  {hit_b}/{len(sb)}  F1 {f1:.3f}")
    for kind, label in (
        ("specific", "names a specific drug"),
        ("fabricated", "names an invented drug"),
    ):
        a = [any(s["kind"] == kind for s in first[i]["labels"]["drugs"]) for i in ids]
        b = [any(s["kind"] == kind for s in second[i]["spans"]) for i in ids]
        lines.append(_kappa_line(kind, a, b) + f"  ({label}: {sum(a)} vs {sum(b)} answers)")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("second", type=Path, help="the second labeller's JSONL")
    args = ap.parse_args(argv)
    first = {r["id"]: r for r in load()}
    second = read_second(args.second, {i: r["text"] for i, r in first.items()})
    print("\n".join(report(first, second)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
