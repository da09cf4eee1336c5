"""How well the text detectors agree with hand labels: the scoring shared by the accuracy tests
(tests/test_labelled.py, tests/test_heldout.py) and ``benchmarks/detectors.py``, which prints it.

``labelled_sets()`` reads every labelled set (the hand-written ones and the real model answers,
split into dev and heldout); ``evaluate(records)`` gives referral and hedging accuracy with
per-level precision / recall / F1, the referral confusion, specific-drug precision / recall over
distinct canonical drugs, invented-drug precision / recall, and the answers each detector gets
wrong, with 95% Wilson intervals.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from medlab.metrics.hedging import hedging
from medlab.metrics.referral import LEVELS, referral_level
from medlab.stats import rate_ci

DATA = Path(__file__).resolve().parent / "data"
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
    pred_ref = [referral_level(r["text"], r.get("question")) for r in records]
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
