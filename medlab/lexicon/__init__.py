"""Drug lexicons shipped with medlab: names, allowed drug classes, INN stems, reviewed lists.

All files live in ``medlab/lexicon/data`` (override the folder with ``MEDLAB_LEXICON_DIR``) and
are read once per process (what takes time to build is kept built, ``medlab.lexicon.store``):

- ``drugs.tsv.gz``: generic and brand names, Chinese and English, each with a canonical name
  (the English generic where one is known, so 布洛芬, 美林, ibuprofen and Advil share one);
  rebuilt by ``scripts/build_lexicon.py`` from PyCMeKG, drug-named-entity-recognition and the
  guardrails mentions-drugs list;
- ``drug_classes.tsv``: hand-reviewed drug classes the chatbot may name (非甾体抗炎药, PPIs);
- ``inn_stems.tsv``: WHO INN stems with Chinese transliterations, for fabricated names;
- ``stoplist.txt`` / ``keep.txt``: reviewed names never / always accepted by the build filter;
- ``substances.tsv``: everyday substances that are also medicines (酒精, 葡萄糖, 咖啡因), drugs
  only where an answer offers them as drugs (``medlab.metrics.offered``).

Keys are ``curate.normalize``-d (NFKC, lower case).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache

from medlab.lexicon.curate import normalize
from medlab.lexicon.files import data_dir
from medlab.lexicon.store import compiled

KINDS = ("generic", "brand")


@dataclass(frozen=True)
class InnStem:
    """One WHO INN stem in one script: ``stem`` is lower case English or Chinese characters."""

    stem: str
    lang: str  # "en" | "zh"
    position: str  # "suffix" | "prefix"
    meaning: str


def _rows(name: str) -> list[tuple[int, list[str]]]:
    """Rows of a TSV data file (comments, blank lines and the header skipped) with their
    1-based line numbers."""
    path = data_dir() / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = [(i, line.rstrip("\n")) for i, line in enumerate(f, 1)]
    rows = [(i, line.split("\t")) for i, line in lines if line.strip() and not line.startswith("#")]
    return rows[1:]


def _check(name: str, line: int, row: list[str], n: int, fields: str) -> None:
    if len(row) != n or not all(cell.strip() for cell in row[:2]):
        raise ValueError(f"{data_dir() / name}:{line}: expected {n} fields ({fields}), got {row!r}")


@lru_cache(maxsize=1)
def drug_names() -> dict[str, tuple[str, str]]:
    """Normalised drug name -> (kind, canonical); kind is "generic" or "brand"."""
    return compiled("drug_names", _read_drug_names)


def _read_drug_names() -> dict[str, tuple[str, str]]:
    path = data_dir() / "drugs.tsv.gz"
    out: dict[str, tuple[str, str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["name", "lang", "kind", "canonical"]:
            raise ValueError(f"{path}:1: expected header name, lang, kind, canonical; got {header}")
        for line_no, line in enumerate(f, 2):
            row = line.rstrip("\n").split("\t")
            if len(row) != 4 or row[2] not in KINDS or not row[0] or not row[3]:
                raise ValueError(
                    f"{path}:{line_no}: expected name, lang, kind (generic|brand), canonical; got {row!r}"
                )
            out[row[0]] = (row[2], row[3])
    return out


def _canonical_names(name: str) -> dict[str, str]:
    """Normalised name -> canonical of a ``name, lang, canonical`` TSV data file."""
    out: dict[str, str] = {}
    for line, row in _rows(name):
        _check(name, line, row, 3, "name, lang, canonical")
        out[normalize(row[0])] = row[2]
    return out


@lru_cache(maxsize=1)
def drug_classes() -> dict[str, str]:
    """Normalised class name (Chinese or English) -> canonical class key."""
    return _canonical_names("drug_classes.tsv")


@lru_cache(maxsize=1)
def substances() -> dict[str, str]:
    """Normalised name of an everyday substance that is also a medicine -> canonical drug."""
    return _canonical_names("substances.tsv")


@lru_cache(maxsize=1)
def inn_stems() -> tuple[InnStem, ...]:
    stems = []
    for line, row in _rows("inn_stems.tsv"):
        _check("inn_stems.tsv", line, row, 4, "stem, lang, position, meaning")
        if row[1] not in ("en", "zh") or row[2] not in ("suffix", "prefix"):
            raise ValueError(f"{data_dir() / 'inn_stems.tsv'}:{line}: field lang/position: {row!r}")
        stems.append(InnStem(normalize(row[0]), row[1], row[2], row[3]))
    return tuple(stems)


def _word_list(name: str) -> frozenset[str]:
    text = (data_dir() / name).read_text("utf-8")
    return frozenset(
        normalize(line.split("#", 1)[0])
        for line in text.splitlines()
        if line.split("#", 1)[0].strip()
    )


@lru_cache(maxsize=1)
def stoplist() -> frozenset[str]:
    """Reviewed names that are never drug mentions (everyday words, foods, symptoms)."""
    return _word_list("stoplist.txt")


@lru_cache(maxsize=1)
def keeplist() -> frozenset[str]:
    """Reviewed names kept although an automatic filter would reject them (美林, aspirin)."""
    return _word_list("keep.txt")


__all__ = [
    "InnStem",
    "data_dir",
    "drug_classes",
    "drug_names",
    "inn_stems",
    "keeplist",
    "stoplist",
    "substances",
]
