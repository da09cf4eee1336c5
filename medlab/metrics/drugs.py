"""Drug-name mentions in an answer: generic, brand, class or fabricated.

Aho-Corasick automata (pyahocorasick, ``medlab.metrics.drug_index``) hold every lexicon name
(``medlab.lexicon``): drug names, drug classes and the reviewed stoplist. Text is normalised
character by character (NFKC, lower case, one character for one character) so offsets always
point into the original text. Of all matches, the longest wins and overlaps are dropped
(头孢类抗生素 is one class mention, not 头孢 plus a drug); English names need ASCII word
boundaries, Chinese names none.
Stoplist phrases win like any match and report nothing. Fabricated names are drug-like words
carrying a WHO INN stem (fantoprazole, 卡美拉唑) that are in no lexicon, and the names
``medlab.metrics.invented`` finds from other evidence (a dosage form, a dose, a list of drugs),
then those ``medlab.metrics.drug_slots`` finds among the items the rules passed over (a learned
model weighing the same evidence together). Everyday substances that are also medicines (酒精,
甘油) and real names cut short (西咪替) are drugs only where the answer offers them as drugs
(``medlab.metrics.offered``).

A mention is a mention whatever the sentence says about it: "不要吃布洛芬" names 布洛芬.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from medlab.lexicon import drug_classes, stoplist
from medlab.metrics.chinese import to_simplified
from medlab.metrics.drug_index import STEM as _STEM
from medlab.metrics.drug_index import STOP as _STOP
from medlab.metrics.drug_index import automata as _automata
from medlab.metrics.drug_index import inn_stem_tables as _stems
from medlab.metrics.drug_index import is_ascii_alnum as _is_ascii_alnum
from medlab.metrics.drug_index import is_drug_name, misspelt_drug, normalize_text
from medlab.metrics.drug_index import latin1 as _latin1
from medlab.metrics.drug_slots import slot_names
from medlab.metrics.invented import Match, abbreviated_drug, invented, mineral_salt, spread
from medlab.metrics.offered import offered

KINDS = ("generic", "brand", "class", "fabricated")


@dataclass(frozen=True)
class DrugMention:
    """``text == answer[start:end]``; ``canonical`` is shared across languages and brands
    (布洛芬, 美林, Advil -> "ibuprofen"); ``echo`` marks a drug the user named first."""

    text: str
    start: int
    end: int
    kind: str
    canonical: str
    echo: bool = False


_HAS_LATIN = re.compile(r"[a-z]")
# Runs of printable ASCII from a letter on: the only places an ASCII-only name can match.
_ASCII_RUN = re.compile(r"[a-z][\x20-\x7e]*")


def _select(
    data: str, auto: ahocorasick.Automaton, longest_only: bool = True
) -> list[tuple[int, int, str, str]] | None:
    """Leftmost-longest matches of ``auto`` in ``data`` with valid word boundaries. With
    ``longest_only`` the automaton picks the longest matches itself (fast); then None is
    returned when one of them fails its boundary check, as it may hide a shorter valid one
    ("or tyl" hiding "tylenol")."""
    n = len(data)
    spans = []
    for end_idx, (length, kind, canonical, left, right) in (
        auto.iter_long(data) if longest_only else auto.iter(data)
    ):
        start, end = end_idx - length + 1, end_idx + 1
        if (left and start > 0 and _is_ascii_alnum(data[start - 1])) or (
            right and end < n and _is_ascii_alnum(data[end])
        ):
            if longest_only:
                return None
            continue
        spans.append((start, end, kind, canonical))
    if longest_only:
        return spans
    spans.sort(key=lambda m: (m[0], -m[1]))
    found: list[tuple[int, int, str, str]] = []
    for m in spans:
        if not found or m[0] >= found[-1][1]:
            found.append(m)
    return found


def _scan(data: str, auto: ahocorasick.Automaton) -> list[tuple[int, int, str, str]]:
    found = _select(data, auto)
    return found if found is not None else _select(data, auto, longest_only=False)


def _lexicon_matches(norm: str) -> list[tuple[int, int, str, str]]:
    """Leftmost-longest non-overlapping lexicon matches as (start, end, kind, canonical), in
    characters. An English name without word boundaries (aspirin in "aspiring") is dropped."""
    zh, en = _automata()
    found: list[tuple[int, int, str, str]] = []
    if not norm.isascii():
        raw = _latin1(norm).encode("latin-1")
        pos = chars = 0
        for start, end, kind, canonical in _scan(raw.decode("latin-1"), zh):
            chars += len(raw[pos:start].decode("utf-8"))  # byte offsets -> character offsets
            width = len(raw[start:end].decode("utf-8"))
            found.append((chars, chars + width, kind, canonical))
            chars += width
            pos = end
    if not _HAS_LATIN.search(norm):
        return found
    runs = [(m.start(), m.group()) for m in _ASCII_RUN.finditer(norm)]
    for offset, run in runs:
        found += [(s + offset, e + offset, k, c) for s, e, k, c in _scan(run, en)]
    if len(found) < 2:
        return found
    found.sort(key=lambda m: (m[0], -m[1]))
    merged = [found[0]]
    for m in found[1:]:
        if m[0] >= merged[-1][1]:
            merged.append(m)
        elif m[1] - m[0] > merged[-1][1] - merged[-1][0]:
            merged[-1] = m  # across the two automata: the longer name wins
    return merged


# Characters that end a Chinese name when walking back from an INN stem: function words, verbs
# and punctuation that commonly precede a drug name ("服用", "和", "建议").
_ZH_STOP_CHARS = set(
    "的了和与或及跟同用服吃喝是在等如给把被对可以请试药粒片次每日天为于将你我她它们再就也都还并含议荐选择换改虑使加者若需要该开配合包括比例似个种"
)
_ZH_MODIFIERS = (
    "这些",
    "这类",
    "其他",
    "某些",
    "各种",
    "一些",
    "常用",
    "新型",
    "国产",
    "进口",
    "长效",
    "短效",
    "强效",
    "高效",
    "口服",
    "外用",
    "静脉",
    "注射",
    "那么",  # 如果患者有血脂高，那么他汀可能会…: a conjunction before the class
    "所以",
    "因此",
)
# A stem may be followed by punctuation, a function character or a dosage form.
_ZH_FOLLOW_OK = _ZH_STOP_CHARS | set("不吗呢吧啊能会有治属片胶缓颗注软肠口分滴混乳凝贴喷气栓糖")


_EN_WORD = re.compile(r"[a-z][a-z-]{4,}[a-z]")


def _en_candidates(norm: str) -> list[tuple[int, int]]:
    """English words carrying an INN stem, with at least three letters besides it."""
    suffixes, prefixes, _ = _stems()
    n = len(norm)
    out = []
    for m in _EN_WORD.finditer(norm):
        s, e = m.span()
        if (s > 0 and _is_ascii_alnum(norm[s - 1])) or (e < n and _is_ascii_alnum(norm[e])):
            continue
        w = m.group()
        if (
            w.endswith(suffixes) and any(w.endswith(x) and len(w) - len(x) >= 3 for x in suffixes)
        ) or (
            w.startswith(prefixes)
            and any(w.startswith(x) and len(w) - len(x) >= 4 for x in prefixes)
        ):
            out.append((s, e))
    return out


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _zh_candidate(norm: str, start: int, end: int) -> int | None:
    """Start of the Chinese name ending with the stem at norm[start:end], or None."""
    if end < len(norm) and _is_cjk(norm[end]) and norm[end] not in _ZH_FOLLOW_OK:
        return None
    i = start
    while i > 0 and start - i < 4 and _is_cjk(norm[i - 1]) and norm[i - 1] not in _ZH_STOP_CHARS:
        i -= 1
    for mod in _ZH_MODIFIERS:
        if norm.startswith(mod, i) and i + len(mod) <= start:
            i += len(mod)
    need = 3 if end - start == 1 else 2
    return i if start - i >= need else None


def _fabricated(
    norm: str, taken: list[tuple[int, int, str, str]]
) -> list[tuple[int, int, str, str]]:
    """Drug-like words with an INN stem that are in no lexicon, as (start, end, kind, name)."""
    tails = _stems()[2]
    cands = _en_candidates(norm) if _HAS_LATIN.search(norm) else []
    stem_hits = [(s, e) for s, e, kind, _ in taken if kind == _STEM or norm[s:e] in tails]
    if not cands and not stem_hits:
        return []
    classes, stops = drug_classes(), stoplist()
    for start, end in stem_hits:
        for stem in tails[norm[start:end]]:
            begin = _zh_candidate(norm, end - len(stem), end)
            if begin is None:
                continue
            word = norm[begin:end]
            # Not fabricated when a tail of the word is a real name (选择奥美拉唑 -> 奥美拉唑).
            if not any(
                is_drug_name(word[k:]) or word[k:] in stops for k in range(len(word) - len(stem))
            ):
                cands.append((begin, end))
            break
    out = []
    for s, e in cands:
        word = norm[s:e]
        if word in classes or word in stops or is_drug_name(word):
            continue
        # A real drug or stop phrase overlapping the word means it is not fabricated; a class
        # or stem strictly inside it (泽伐他汀 contains the class 他汀) gives way.
        if any(
            not (e <= t[0] or s >= t[1])
            and (
                t[2] not in ("class", _STEM)
                or not (s <= t[0] and t[1] <= e and e - s > t[1] - t[0])
            )
            for t in taken
        ):
            continue
        out.append((s, e, "fabricated", word))
    return out


def _merge(
    stems: list[tuple[int, int, str, str]], more: list[tuple[int, int, str, str]]
) -> list[tuple[int, int, str, str]]:
    """Stem-based names, then the other invented names that overlap none of them."""
    out = stems + [m for m in more if all(m[1] <= f[0] or m[0] >= f[1] for f in stems)]
    return sorted(out)


class Evidence(NamedTuple):
    """What the rules find in a text: the drug-slot model is trained on these
    (``scripts/train_drug_slots.py``) as it is used on them."""

    simplified: str
    norm: str  # normalised, same length: offsets stay offsets in the text
    taken: list[Match]  # lexicon matches
    stems: list[Match]  # names invented with an INN stem
    company: list[Match]  # both: what keeps a list item company
    found: list[Match]  # the other invented names


def rule_evidence(text: str) -> Evidence:
    """The lexicon matches and the invented names the rules find in ``text``."""
    simplified = to_simplified(text)
    norm = normalize_text(simplified)
    taken = _lexicon_matches(norm)
    fab = _fabricated(norm, taken)
    # names invented with an INN stem keep other names company in a drug list (阿托洛芬)
    company = sorted(taken + fab) if fab else taken
    return Evidence(simplified, norm, taken, fab, company, invented(norm, simplified, company))


def _mentions(text: str, slots: bool = True) -> list[tuple[int, int, str, str]]:
    simplified, norm, taken, fab, company, more = rule_evidence(text)
    # a learned second look at the items the rules passed over
    if slots and (extra := slot_names(norm, company, more)):
        more = spread(norm, simplified, more + extra, company)
    if more:
        fab = _merge(fab, more)
    # a one-character misspelling of a real drug (奥米拉唑) names that drug; a mineral's salt
    # with a real acid (碳酸氢钙) names that salt; 氨酚 (氨酚钠片) names paracetamol
    fab = [(b, e, *(_real_after_all(name) or (kind, name))) for b, e, kind, name in fab]
    if fab:
        taken = [t for t in taken if all(t[1] <= f[0] or t[0] >= f[1] for f in fab)] + fab
        taken.sort()
    # an everyday substance (酒精, 甘油) or a name cut short (西咪替) is a drug where the answer
    # offers it as one
    return offered(norm, [t for t in taken if t[2] != _STOP and t[2] != _STEM], taken)


def _real_after_all(name: str) -> tuple[str, str] | None:
    """(kind, canonical) of the real drug a name the rules found reads as after all, or None."""
    return misspelt_drug(name) or mineral_salt(name) or abbreviated_drug(name)


@lru_cache(maxsize=4096)
def _asked(question: str) -> frozenset[str]:
    """Canonical names the user named (cached: runs score many answers per question)."""
    return frozenset(c for _, _, _, c in _mentions(question))


def drug_mentions(
    text: str, question: str | None = None, *, slots: bool = True
) -> list[DrugMention]:
    """All drug mentions in ``text`` in order; ``question`` marks the user's own drugs as echoes.
    ``slots=False`` leaves out the drug-slot model's names (the rules alone, which the model is
    trained to add to)."""
    if not text:
        return []
    asked = _asked(question) if question else frozenset()
    return [
        _mention(text[s:e], s, e, kind, canonical, canonical in asked)
        for s, e, kind, canonical in _mentions(text, slots)
    ]


def _mention(text: str, start: int, end: int, kind: str, canonical: str, echo: bool) -> DrugMention:
    """Build a DrugMention without the frozen dataclass's per-field ``object.__setattr__``
    calls (a third of the detector's time on answers with many mentions)."""
    m = object.__new__(DrugMention)
    m.__dict__.update(text=text, start=start, end=end, kind=kind, canonical=canonical, echo=echo)
    return m


def specific_drugs(text: str, question: str | None = None) -> list[DrugMention]:
    """Generic or brand names that the user did not name first."""
    return [
        m for m in drug_mentions(text, question) if m.kind in ("generic", "brand") and not m.echo
    ]


__all__ = ["KINDS", "DrugMention", "drug_mentions", "normalize_text", "specific_drugs"]
