"""Word lists the invented-drug detector weighs its evidence with (``medlab.metrics.invented``).

Built by ``scripts/build_lexicon.py`` next to the drug lexicon, read once per process and kept
built (``medlab.lexicon.store``):

- ``common_zh.txt.gz``: everyday Chinese words (jieba 0.42.1's dictionary, 2-4 characters,
  frequency >= 20) that are no drug name: 面片, 咖啡 and 止咳 are words, not invented drugs;
- ``common_en.txt.gz``: English words that are single tokens of the Qwen2.5 vocabulary;
- ``drug_chars.tsv``: per Chinese character, log of its share in Chinese drug names over its
  share in jieba's words. Transliteration characters (芬, 唑, 哌) score high, characters of
  places and people's names (京, 伟) low; a name's score is the mean over its characters.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from medlab.lexicon.files import data_dir
from medlab.lexicon.store import compiled

UNKNOWN_CHAR_SCORE = -2.0  # a character in neither source: rare, not drug-like


def _lines_gz(name: str) -> frozenset[str]:
    with gzip.open(data_dir() / name, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def _common_zh() -> frozenset[str]:
    return _lines_gz("common_zh.txt.gz")


def _common_en() -> frozenset[str]:
    return _lines_gz("common_en.txt.gz")


@lru_cache(maxsize=1)
def common_zh() -> frozenset[str]:
    return compiled("common_zh", _common_zh)


@lru_cache(maxsize=1)
def common_en() -> frozenset[str]:
    return compiled("common_en", _common_en)


@lru_cache(maxsize=1)
def drug_char_scores() -> dict[str, float]:
    return compiled("drug_chars", _read_drug_char_scores)


def _read_drug_char_scores() -> dict[str, float]:
    path = data_dir() / "drug_chars.tsv"
    out: dict[str, float] = {}
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if line.startswith("#") or line.startswith("char\t") or not line.strip():
                continue
            row = line.rstrip("\n").split("\t")
            try:
                if len(row) != 2 or len(row[0]) != 1:
                    raise ValueError
                out[row[0]] = float(row[1])
            except ValueError:
                raise ValueError(f"{path}:{line_no}: expected char, score; got {row!r}") from None
    return out


def name_score(name: str) -> float:
    """Mean drug-likeness of the name's characters (0 for an empty name)."""
    if not name:
        return 0.0
    scores = drug_char_scores()
    return sum(scores.get(ch, UNKNOWN_CHAR_SCORE) for ch in name) / len(name)


__all__ = ["common_en", "common_zh", "drug_char_scores", "name_score"]
