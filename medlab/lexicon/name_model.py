"""How much a Chinese string reads like a drug's name rather than an everyday word.

Two character-bigram language models, one over the Chinese drug names of the lexicon
(``drugs.tsv.gz``) and one over the everyday words (``common_zh.txt.gz``), each with the word's
start and end as characters of their own. ``name_likelihood(name)`` is their log-likelihood
ratio per character transition: above 0 the name is likelier a drug's. Pieces of real drug
names (司匹林, 洛芬, 奥美, 西林) make an invented name (利司匹林, 奥美西林) score high even where
its single characters are common; a food made of drug-like characters (红枣枸杞, 鸡蛋) scores low,
as its pairs are a word's.

Each bigram probability is interpolated with the character's unigram probability
(``LAMBDA``), add-half smoothed; a character in neither source counts ``UNKNOWN`` (rare, not
drug-like). Built from the shipped files on first use and kept built (``medlab.lexicon.store``).
``benchmarks/name_model.py`` compares it with the older per-character score on word lists no
source holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from medlab.lexicon import drug_names
from medlab.lexicon.curate import is_cjk_word
from medlab.lexicon.evidence import common_zh
from medlab.lexicon.store import compiled

LAMBDA = 0.7  # weight of the bigram probability against the unigram one
UNKNOWN = -2.0  # a character neither model has seen
_START, _END = "^", "$"


def _counts(words: Iterable[str]) -> tuple[Counter, Counter, Counter]:
    pairs: Counter = Counter()
    contexts: Counter = Counter()
    chars: Counter = Counter()
    for w in words:
        s = _START + w + _END
        for a, b in zip(s, s[1:]):
            pairs[a, b] += 1
            contexts[a] += 1
            chars[b] += 1
    return pairs, contexts, chars


def _build() -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """(per-pair term, per-character term): log P_drug - log P_word of one transition."""
    drugs = _counts(n for n in drug_names() if is_cjk_word(n))
    words = _counts(w for w in common_zh() if is_cjk_word(w))
    alphabet = set(drugs[2]) | set(words[2])

    def unigram(chars: Counter) -> dict[str, float]:
        total = sum(chars.values()) + 0.5 * len(alphabet)
        return {ch: (chars[ch] + 0.5) / total for ch in alphabet}

    uni_d, uni_w = unigram(drugs[2]), unigram(words[2])

    def prob(model, uni, a: str, b: str) -> float:
        pairs, contexts, _ = model
        bigram = pairs[a, b] / contexts[a] if contexts[a] else 0.0
        return LAMBDA * bigram + (1 - LAMBDA) * uni[b]

    pair_terms = {
        (a, b): math.log(prob(drugs, uni_d, a, b)) - math.log(prob(words, uni_w, a, b))
        for a, b in set(drugs[0]) | set(words[0])
    }
    # a pair neither model has seen: only the unigram parts remain, and (1 - LAMBDA) cancels
    char_terms = {ch: math.log(uni_d[ch]) - math.log(uni_w[ch]) for ch in alphabet}
    return pair_terms, char_terms


@lru_cache(maxsize=1)
def _model() -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    return compiled("name_model", _build)


@lru_cache(maxsize=65536)
def name_likelihood(name: str) -> float:
    """Log-likelihood ratio, drug name over everyday word, per transition (0 for no name)."""
    if not name:
        return 0.0
    pairs, chars = _model()
    s = _START + name + _END
    total = 0.0
    for a, b in zip(s, s[1:]):
        term = pairs.get((a, b))
        if term is None:
            term = chars.get(b, UNKNOWN)
        total += term
    return total / (len(name) + 1)


__all__ = ["LAMBDA", "UNKNOWN", "name_likelihood"]
