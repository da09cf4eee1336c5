"""Accuracy of the text detectors on the project's labelled answers.

Prints precision, recall and F1 per detector and per level, the referral confusion matrix
(labelled x detected), the answers each detector got wrong (``--errors``), writes a Markdown
table for the README (``--markdown PATH``), and times all detectors over N distinct answers
made from the labelled ones (``--speed N``; CPU time of this process, one thread).

    OMP_NUM_THREADS=1 python benchmarks/detectors.py [--data FILE] [--errors]
        [--markdown /tmp/detectors-table.md] [--speed 10000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from medlab.metrics.hedging import hedging  # noqa: E402
from medlab.metrics.referral import LEVELS, referral_level  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "data" / "labelled_answers.jsonl"


def load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp else 0.0
    return p, r, f


def per_class(gold: list, pred: list, classes) -> list[tuple[str, float, float, float, int]]:
    rows = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        rows.append((str(c), *prf(tp, fp, fn), sum(g == c for g in gold)))
    return rows


def _norm(name: str) -> str:
    return name.casefold().strip()


def drug_match(gold: list[str], found: list[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) for one answer; a found name matches a gold name when one contains the
    other (布洛芬 in 布洛芬缓释胶囊), each gold name matched at most once."""
    g = [_norm(x) for x in gold]
    f = sorted({_norm(x) for x in found}, key=len, reverse=True)
    used: set[int] = set()
    tp = 0
    for name in f:
        for i, gname in enumerate(g):
            if i not in used and (name in gname or gname in name):
                used.add(i)
                tp += 1
                break
    return tp, len(f) - tp, len(g) - len(used)


def specific_drugs(text: str, question: str | None) -> list[str] | None:
    """Names of generic/brand mentions, or None while the drug detector is not available."""
    try:
        from medlab.metrics.drugs import drug_mentions
    except ImportError:
        return None
    return [m.text for m in drug_mentions(text, question) if m.kind in ("generic", "brand")]


def evaluate(records: list[dict]) -> dict:
    gold_ref = [r["referral"] for r in records]
    pred_ref = [referral_level(r["text"]) for r in records]
    gold_hed = [r["hedging"] for r in records]
    pred_hed = [hedging(r["text"]) for r in records]
    out = {
        "n": len(records),
        "referral": {
            "accuracy": sum(g == p for g, p in zip(gold_ref, pred_ref)) / len(records),
            "per_level": per_class(gold_ref, pred_ref, LEVELS),
            "confusion": Counter(zip(gold_ref, pred_ref)),
            "errors": [(r, p) for r, p in zip(records, pred_ref) if r["referral"] != p],
        },
        "hedging": {
            "accuracy": sum(g == p for g, p in zip(gold_hed, pred_hed)) / len(records),
            "per_level": per_class(gold_hed, pred_hed, (True, False, None)),
            "errors": [(r, p) for r, p in zip(records, pred_hed) if r["hedging"] != p],
        },
    }
    found = [specific_drugs(r["text"], r.get("question")) for r in records]
    if found[0] is not None:
        tp = fp = fn = 0
        errors = []
        for r, f in zip(records, found):
            a, b, c = drug_match(r["specific_drugs"], f)
            tp, fp, fn = tp + a, fp + b, fn + c
            if b or c:
                errors.append((r, f))
        out["drugs"] = {"prf": prf(tp, fp, fn), "support": tp + fn, "errors": errors}
    return out


def variants(records: list[dict], n: int) -> list[str]:
    """``n`` distinct answers: the labelled ones with a numbered suffix (inside the summary of
    JSON answers, so they stay JSON), cycling through the set."""
    out = []
    for i in range(n):
        text = records[i % len(records)]["text"]
        if text.lstrip().startswith("{"):
            value = json.loads(text)
            value["summary"] += f"（{i}）"
            out.append(json.dumps(value, ensure_ascii=False))
        else:
            out.append(f"{text}（{i}）")
    return out


def speed(records: list[dict], n: int) -> dict[str, float]:
    """CPU seconds of each detector (and all together, as scoring runs them) over n answers."""
    from medlab.metrics.format import _prose_cached, prose

    texts = variants(records, n)
    detectors = {"referral_level": referral_level, "hedging": hedging}
    try:
        from medlab.metrics.drugs import drug_mentions

        drug_mentions("预热 warm-up")  # build the automaton outside the timing
        detectors["drug_mentions"] = drug_mentions
    except ImportError:
        pass
    out = {}
    for name, fn in detectors.items():
        _prose_cached.cache_clear()
        t0 = time.process_time()
        for t in texts:
            fn(prose(t))
        out[name] = time.process_time() - t0
    _prose_cached.cache_clear()
    t0 = time.process_time()
    for t in texts:
        body = prose(t)
        for fn in detectors.values():
            fn(body)
    out["all (one prose parse per answer)"] = time.process_time() - t0
    return out


def markdown(res: dict, source: Path = DEFAULT_DATA) -> str:
    path = source.resolve()
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    lines = [
        f"Labelled answers: {res['n']} ({shown.as_posix()}).",
        "",
        "| detector | class | precision | recall | F1 | n |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("referral", "hedging"):
        for c, p, r, f, n in res[name]["per_level"]:
            lines.append(f"| {name} | {c} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |")
        lines.append(f"| {name} | **accuracy** | | | {res[name]['accuracy']:.3f} | {res['n']} |")
    if "drugs" in res:
        p, r, f = res["drugs"]["prf"]
        lines.append(f"| specific drugs | generic + brand | {p:.2f} | {r:.2f} | {f:.3f} | "
                     f"{res['drugs']['support']} |")  # fmt: skip
    lines += ["", "Referral confusion (rows: labelled, columns: detected):", ""]
    lines.append("| labelled \\ detected | " + " | ".join(LEVELS) + " |")
    lines.append("|---" * (len(LEVELS) + 1) + "|")
    for g in LEVELS:
        row = [str(res["referral"]["confusion"].get((g, p), 0)) for p in LEVELS]
        lines.append(f"| {g} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--errors", action="store_true", help="print the misclassified answers")
    ap.add_argument("--markdown", type=Path, help="write the Markdown table here")
    ap.add_argument("--speed", type=int, metavar="N", help="time the detectors on N answers")
    args = ap.parse_args()
    records = load(args.data)
    t0 = time.perf_counter()
    res = evaluate(records)
    elapsed = time.perf_counter() - t0
    table = markdown(res, args.data)
    print(table)
    print(f"scored {res['n']} answers in {elapsed:.3f} s")
    if "drugs" not in res:
        print("specific drugs: skipped (medlab.metrics.drugs not importable)")
    if args.errors:
        for name in ("referral", "hedging", "drugs"):
            for r, p in res.get(name, {}).get("errors", []):
                gold = r["specific_drugs"] if name == "drugs" else r[name]
                print(f"[{name}] {r['id']} gold={gold} got={p}\n    {r['text'][:300]}")
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    if args.speed:
        print(f"\nCPU time over {args.speed} answers (goal: all detectors <= 3 s):")
        for name, seconds in speed(records, args.speed).items():
            print(f"  {name:36s} {seconds:6.2f} s  ({seconds / args.speed * 1e6:5.0f} us/answer)")


if __name__ == "__main__":
    main()
