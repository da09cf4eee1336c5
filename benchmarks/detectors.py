"""Accuracy of the text detectors on the project's labelled answers.

Prints, for each labelled set, precision, recall and F1 per detector and per level with 95%
Wilson intervals, specific drugs counted as distinct canonical drugs per answer (布洛芬 and 美林
are one), invented (fabricated) drug names, the referral confusion matrix (labelled x detected),
the answers each detector got wrong (``--errors``), writes a Markdown table for the README
(``--markdown PATH``), and times all detectors over N distinct answers made from the labelled
ones (``--speed N``; CPU time of this process, one thread).

Sets: the hand-written ones (tests/data/*_answers.jsonl) and the real model answers
(tests/data/real_answers/answers.jsonl: fields id, split dev|heldout, model, prompt, mode,
language, text, labels {drugs: [{text, start, end, kind: specific|class|fabricated|echoed}],
referral, hedged}), whose dev and heldout parts are reported separately.

    OMP_NUM_THREADS=1 python benchmarks/detectors.py [--data FILE ...] [--errors]
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
from medlab.stats import rate_ci  # noqa: E402

DATA = ROOT / "tests" / "data"
DEFAULT_DATA = DATA / "labelled_answers.jsonl"
REAL_ANSWERS = DATA / "real_answers" / "answers.jsonl"
HAND_WRITTEN = ["labelled_answers", "heldout_answers", "heldout2_answers", "heldout3_answers"]
DRUG_KINDS = ("specific", "class", "fabricated", "echoed")


def load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def from_real(rec: dict, path: Path, line: int) -> dict:
    """A real-answer record in the hand-written sets' shape (errors name file, line, field)."""
    where = f"{path}:{line}"
    for field in ("id", "split", "text", "labels"):
        if field not in rec:
            raise ValueError(f"{where}: missing field {field!r}")
    labels = rec["labels"]
    for field in ("drugs", "referral", "hedged"):
        if field not in labels:
            raise ValueError(f"{where}: missing field labels.{field}")
    if rec["split"] not in ("dev", "heldout"):
        raise ValueError(f"{where}: field split must be dev or heldout, got {rec['split']!r}")
    if labels["referral"] not in LEVELS:
        raise ValueError(f"{where}: field labels.referral: {labels['referral']!r}")
    spans: dict[str, list[str]] = {k: [] for k in DRUG_KINDS}
    for i, d in enumerate(labels["drugs"]):
        if d.get("kind") not in DRUG_KINDS:
            raise ValueError(f"{where}: field labels.drugs[{i}].kind: {d.get('kind')!r}")
        spans[d["kind"]].append(d["text"])
    return {
        "id": rec["id"],
        "split": rec["split"],
        "language": rec.get("language"),
        "format": rec.get("mode"),
        "question": rec.get("question"),  # the user's words: a drug they named is an echo
        "text": rec["text"],
        "referral": labels["referral"],
        "hedging": labels["hedged"],
        "specific_drugs": spans["specific"],
        "classes": spans["class"],
        "fabricated": spans["fabricated"],
        "echo": spans["echoed"],
    }


def load_real(path: Path = REAL_ANSWERS) -> dict[str, list[dict]]:
    """The real-answer set split into its dev and heldout parts."""
    parts: dict[str, list[dict]] = {"dev": [], "heldout": []}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from None
                r = from_real(rec, path, n)
                parts[r["split"]].append(r)
    return parts


def labelled_sets(paths: list[Path] | None = None) -> dict[str, list[dict]]:
    """name -> records: the given files, else every hand-written set and the real answers."""
    if paths is None:
        paths = [DATA / f"{n}.jsonl" for n in HAND_WRITTEN]
        if REAL_ANSWERS.exists():
            paths.append(REAL_ANSWERS)
    out = {}
    for p in paths:
        if p.parent.name == "real_answers" or p.name == "answers.jsonl":
            for part, rows in load_real(p).items():
                if rows:
                    out[f"real_answers {part}"] = rows
        else:
            out[p.stem] = load(p)
    return out


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp else 0.0
    return p, r, f


def prf_ci(tp: int, fp: int, fn: int) -> dict[str, tuple[float, float]]:
    """95% Wilson intervals of precision and recall (over mentions)."""
    return {
        "precision": rate_ci([1] * tp + [0] * fp),
        "recall": rate_ci([1] * tp + [0] * fn),
    }


def _ci(lo_hi: tuple[float, float]) -> str:
    lo, hi = lo_hi
    return "" if lo != lo else f"[{lo:.2f}, {hi:.2f}]"


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


def _distinct(names: list[str]) -> list[str]:
    """The distinct names, longest first; a name inside a longer one is the same name."""
    out: list[str] = []
    for x in sorted({_norm(n) for n in names}, key=len, reverse=True):
        if not any(x in y for y in out):
            out.append(x)
    return out


def drug_match(gold: list[str], found: list[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) for one answer; a found name matches a gold name when one contains the
    other (布洛芬 in 布洛芬缓释胶囊), each gold name matched at most once. Both sides count
    distinct names: the labels span every occurrence (西地地平, 西地地平片, 西地地平片), and
    names that contain one another are one name, on either side."""
    g, f = _distinct(gold), _distinct(found)
    used: set[int] = set()
    tp = 0
    for name in f:
        for i, gname in enumerate(g):
            if i not in used and (name in gname or gname in name):
                used.add(i)
                tp += 1
                break
    return tp, len(f) - tp, len(g) - len(used)


def _mentions(text: str, question: str | None) -> list | None:
    """Drug mentions, or None while the drug detector is not available."""
    try:
        from medlab.metrics.drugs import drug_mentions
    except ImportError:
        return None
    return drug_mentions(text, question)


def specific_drugs(text: str, question: str | None) -> list[str] | None:
    """Names of generic/brand mentions, or None while the drug detector is not available."""
    found = _mentions(text, question)
    return None if found is None else [m.text for m in found if m.kind in ("generic", "brand")]


def canonical(name: str) -> str:
    """The canonical drug a labelled name stands for (泰诺林 -> acetaminophen); the name itself
    when the lexicon does not know it."""
    found = [m for m in (_mentions(name, None) or []) if m.kind in ("generic", "brand")]
    return found[0].canonical if len(found) == 1 else _norm(name)


def canonical_match(gold: list[str], found: list, echoes: bool = True) -> tuple[int, int, int]:
    """(tp, fp, fn) over the distinct canonical drugs of one answer: 对乙酰氨基酚 and 泰诺林 in
    one answer are one drug. ``echoes``: whether the labels count a drug the user named first
    (the hand-written sets do; the real answers label those ``echoed``, not specific)."""
    g = {canonical(x): _norm(x) for x in gold}
    f: dict[str, set[str]] = {}
    for m in found:
        if m.kind in ("generic", "brand") and (echoes or not m.echo):
            f.setdefault(m.canonical, set()).add(_norm(m.text))
    # Where the lexicon gives a product its own canonical (磷霉素氨丁三醇), fall back on names
    # that contain one another, as the labels name the drug (磷霉素).
    tp, matched = 0, set()
    for c, name in g.items():
        hit = c if c in f else next((k for k, ns in f.items() if any(name in n for n in ns)), None)
        if hit is not None:
            tp += 1
            matched.add(hit)
    return tp, len(f.keys() - matched), len(g) - tp


def _accuracy(gold: list, pred: list) -> tuple[float, tuple[float, float]]:
    hits = [g == p for g, p in zip(gold, pred)]
    return sum(hits) / len(hits), rate_ci(hits)


def evaluate(records: list[dict]) -> dict:
    gold_ref = [r["referral"] for r in records]
    pred_ref = [referral_level(r["text"]) for r in records]
    gold_hed = [r["hedging"] for r in records]
    pred_hed = [hedging(r["text"]) for r in records]
    ref_acc, ref_ci = _accuracy(gold_ref, pred_ref)
    hed_acc, hed_ci = _accuracy(gold_hed, pred_hed)
    out = {
        "n": len(records),
        "referral": {
            "accuracy": ref_acc,
            "ci": ref_ci,
            "per_level": per_class(gold_ref, pred_ref, LEVELS),
            "confusion": Counter(zip(gold_ref, pred_ref)),
            "errors": [(r, p) for r, p in zip(records, pred_ref) if r["referral"] != p],
        },
        "hedging": {
            "accuracy": hed_acc,
            "ci": hed_ci,
            "per_level": per_class(gold_hed, pred_hed, (True, False, None)),
            "errors": [(r, p) for r, p in zip(records, pred_hed) if r["hedging"] != p],
        },
    }
    found = [_mentions(r["text"], r.get("question")) for r in records]
    if found[0] is not None:
        tp = fp = fn = 0
        ftp = ffp = ffn = 0
        errors, fab_errors = [], []
        for r, f in zip(records, found):
            echoes = "split" not in r  # hand-written sets label echoes as drugs too
            a, b, c = canonical_match(r["specific_drugs"], f, echoes)
            tp, fp, fn = tp + a, fp + b, fn + c
            if b or c:
                errors.append((r, [m.text for m in f if m.kind in ("generic", "brand")]))
            fab = [m.text for m in f if m.kind == "fabricated" and (echoes or not m.echo)]
            a, b, c = drug_match(r.get("fabricated", []), fab)
            ftp, ffp, ffn = ftp + a, ffp + b, ffn + c
            if b or c:
                fab_errors.append((r, fab))
        out["drugs"] = {
            "prf": prf(tp, fp, fn),
            "ci": prf_ci(tp, fp, fn),
            "support": tp + fn,
            "errors": errors,
        }
        out["fabricated"] = {
            "prf": prf(ftp, ffp, ffn),
            "ci": prf_ci(ftp, ffp, ffn),
            "support": ftp + ffn,
            "errors": fab_errors,
        }
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


def markdown(res: dict, name: str) -> str:
    """One set's table: per-level precision/recall/F1, accuracies and drug precision/recall
    with 95% Wilson intervals, and the referral confusion."""
    lines = [
        f"**{name}**: {res['n']} answers.",
        "",
        "| detector | class | precision | recall | F1 or accuracy [95% CI] | n |",
        "|---|---|---|---|---|---|",
    ]
    for det in ("referral", "hedging"):
        for c, p, r, f, n in res[det]["per_level"]:
            lines.append(f"| {det} | {c} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |")
        acc = f"{res[det]['accuracy']:.3f} {_ci(res[det]['ci'])}"
        lines.append(f"| {det} | **accuracy** | | | {acc} | {res['n']} |")
    for key, label in (("drugs", "specific drugs (canonical)"), ("fabricated", "invented drugs")):
        if key in res:
            p, r, f = res[key]["prf"]
            ci = res[key]["ci"]
            lines.append(
                f"| {label} | | {p:.2f} {_ci(ci['precision'])} | {r:.2f} {_ci(ci['recall'])} "
                f"| {f:.3f} | {res[key]['support']} |"
            )
    lines += ["", "Referral confusion (rows: labelled, columns: detected):", ""]
    lines.append("| labelled \\ detected | " + " | ".join(LEVELS) + " |")
    lines.append("|---" * (len(LEVELS) + 1) + "|")
    for g in LEVELS:
        row = [str(res["referral"]["confusion"].get((g, p), 0)) for p in LEVELS]
        lines.append(f"| {g} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", type=Path, nargs="*", help="labelled files (default: every set in tests/data)"
    )
    ap.add_argument("--errors", action="store_true", help="print the misclassified answers")
    ap.add_argument("--markdown", type=Path, help="write the Markdown tables here")
    ap.add_argument("--speed", type=int, metavar="N", help="time the detectors on N answers")
    args = ap.parse_args()
    sets = labelled_sets(args.data or None)
    tables = []
    for name, records in sets.items():
        t0 = time.perf_counter()
        res = evaluate(records)
        elapsed = time.perf_counter() - t0
        tables.append(markdown(res, name))
        print(tables[-1])
        print(f"scored {res['n']} answers in {elapsed:.3f} s\n")
        if "drugs" not in res:
            print("specific drugs: skipped (medlab.metrics.drugs not importable)")
        if args.errors:
            for det in ("referral", "hedging", "drugs", "fabricated"):
                for r, p in res.get(det, {}).get("errors", []):
                    field = {"drugs": "specific_drugs"}.get(det, det)
                    print(f"[{det}] {r['id']} gold={r[field]} got={p}\n    {r['text'][:300]}")
    if not REAL_ANSWERS.exists() and not args.data:
        print(f"real answers: {REAL_ANSWERS.relative_to(ROOT)} not there yet")
    if args.markdown:
        args.markdown.write_text("\n".join(tables), encoding="utf-8")
    if args.speed:
        # the same answers as every earlier measurement: the first labelled set
        records = sets.get("labelled_answers") or next(iter(sets.values()))
        print(f"\nCPU time over {args.speed} answers (goal: all detectors <= 3 s):")
        for name, seconds in speed(records, args.speed).items():
            print(f"  {name:36s} {seconds:6.2f} s  ({seconds / args.speed * 1e6:5.0f} us/answer)")


if __name__ == "__main__":
    main()
