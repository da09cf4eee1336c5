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

    OMP_NUM_THREADS=1 python benchmarks/detectors.py [--data FILE ...] [--errors [--heldout-errors]]
        [--markdown /tmp/detectors-table.md] [--speed 10000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the scoring the accuracy tests share

from detector_accuracy import REAL_ANSWERS, evaluate, labelled_sets  # noqa: E402

from medlab.metrics.hedging import hedging  # noqa: E402
from medlab.metrics.referral import LEVELS, referral_level  # noqa: E402


def _ci(lo_hi: tuple[float, float]) -> str:
    lo, hi = lo_hi
    return "" if lo != lo else f"[{lo:.2f}, {hi:.2f}]"


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
    ap.add_argument(
        "--heldout-errors",
        action="store_true",
        help="with --errors, also print those of the heldout split (never tune on them)",
    )
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
        if args.errors and "heldout" in name and not args.heldout_errors:
            print(
                "(heldout errors not shown: rules are tuned on dev errors only; "
                "--heldout-errors shows them)\n"
            )
        elif args.errors:
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
