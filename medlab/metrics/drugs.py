"""Drug-name mentions in an answer: generic, brand, class or fabricated.

One Aho-Corasick automaton (pyahocorasick) holds every lexicon name (``medlab.lexicon``): drug
names, drug classes and the reviewed stoplist. Text is normalised character by character
(NFKC, lower case, one character for one character) so offsets always point into the original
text. Of all matches, the longest wins and overlaps are dropped (头孢类抗生素 is one class
mention, not 头孢 plus a drug); English names need ASCII word boundaries, Chinese names none.
Stoplist phrases win like any match and report nothing. Fabricated names are drug-like words
carrying a WHO INN stem (fantoprazole, 卡美拉唑) that are in no lexicon.

A mention is a mention whatever the sentence says about it: "不要吃布洛芬" names 布洛芬.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from medlab.lexicon import drug_classes, drug_names, inn_stems, stoplist

KINDS = ("generic", "brand", "class", "fabricated")
_STOP = "stop"


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


@lru_cache(maxsize=1)
def _char_table() -> tuple[dict[str, str], re.Pattern]:
    """Characters whose NFKC + lower-case form is one other character (Ａ -> a, （ -> ( ),
    and a pattern that finds them."""
    table = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch).lower()
        if norm != ch and len(norm) == 1:
            table[ch] = norm
    pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(table)) + "]")
    return table, pattern


def normalize_text(text: str) -> str:
    """Same-length normalisation, so that offsets in the result are offsets in ``text``."""
    if text.isascii():
        return text.lower()
    table, pattern = _char_table()
    return pattern.sub(lambda m: table[m.group()], text)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _latin1(text: str) -> str:
    """UTF-8 bytes of ``text`` as a str of code points 0-255. Matching on this keeps the
    automaton's nodes small (at most 256 children), which makes it several times faster on
    Chinese than matching on characters; UTF-8 guarantees matches start on characters."""
    return text.encode("utf-8").decode("latin-1")


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    entries: dict[str, tuple[str, str]] = dict(drug_names())
    entries.update({name: ("class", canon) for name, canon in drug_classes().items()})
    entries.update({name: (_STOP, name) for name in stoplist()})
    for key, (kind, canonical) in entries.items():
        key = _latin1(normalize_text(key))
        needs_left, needs_right = key[0].isascii() and key[0].isalnum(), _is_ascii_alnum(key[-1])
        auto.add_word(key, (len(key), kind, canonical, needs_left, needs_right))
    auto.make_automaton()
    return auto


def _lexicon_matches(norm: str) -> list[tuple[int, int, str, str]]:
    """Leftmost-longest non-overlapping lexicon matches as (start, end, kind, canonical), in
    characters. An English name without word boundaries (aspirin in "aspiring") is dropped."""
    data = _latin1(norm)
    n = len(data)
    found = []
    for end_idx, (length, kind, canonical, left, right) in _automaton().iter_long(data):
        start, end = end_idx - length + 1, end_idx + 1
        if (left and start > 0 and _is_ascii_alnum(data[start - 1])) or (
            right and end < n and _is_ascii_alnum(data[end])
        ):
            continue
        found.append((start, end, kind, canonical))
    if not found or n == len(norm):  # ASCII only: byte offsets are character offsets
        return found
    raw = data.encode("latin-1")
    out = []
    pos = chars = 0
    for start, end, kind, canonical in found:
        chars += len(raw[pos:start].decode("utf-8"))
        width = len(raw[start:end].decode("utf-8"))
        out.append((chars, chars + width, kind, canonical))
        chars += width
        pos = end
    return out


# Characters that end a Chinese name when walking back from an INN stem: function words, verbs
# and punctuation that commonly precede a drug name ("服用", "和", "建议").
_ZH_STOP_CHARS = set("的了和与或及跟同用服吃喝是在等如给把被对可以请试药粒片次每日天为于将你我她它们再就也都还并含议荐选择换改虑使加者若需要该开配合包括比例似个种")
_ZH_MODIFIERS = ("这些", "这类", "其他", "某些", "各种", "一些", "常用", "新型", "国产", "进口", "长效", "短效", "强效", "高效", "口服", "外用", "静脉", "注射")
# A stem may be followed by punctuation, a function character or a dosage form.
_ZH_FOLLOW_OK = _ZH_STOP_CHARS | set("片胶缓颗注软肠口分滴混乳凝贴喷气栓糖")
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _stem_patterns() -> tuple[re.Pattern, re.Pattern | None, ahocorasick.Automaton]:
    stems = inn_stems()
    by_len = lambda s: -len(s.stem)  # noqa: E731
    en_suffix = "|".join(re.escape(s.stem) for s in sorted(stems, key=by_len) if s.lang == "en" and s.position == "suffix")
    en_prefix = "|".join(re.escape(s.stem) for s in sorted(stems, key=by_len) if s.lang == "en" and s.position == "prefix")
    zh = ahocorasick.Automaton()
    for s in stems:
        if s.lang == "zh":
            zh.add_word(s.stem, len(s.stem))
    zh.make_automaton()
    en_re = re.compile(rf"(?<![a-z0-9])[a-z][a-z-]{{2,}}(?:{en_suffix})(?![a-z0-9])")
    pre_re = re.compile(rf"(?<![a-z0-9])(?:{en_prefix})[a-z]{{4,}}(?![a-z0-9])") if en_prefix else None
    return en_re, pre_re, zh


def _zh_candidate(norm: str, start: int, end: int) -> int | None:
    """Start of the Chinese name ending with the stem at norm[start:end], or None."""
    if end < len(norm) and _CJK.match(norm[end]) and norm[end] not in _ZH_FOLLOW_OK:
        return None
    i = start
    while i > 0 and start - i < 4 and _CJK.match(norm[i - 1]) and norm[i - 1] not in _ZH_STOP_CHARS:
        i -= 1
    for mod in _ZH_MODIFIERS:
        if norm.startswith(mod, i) and i + len(mod) <= start:
            i += len(mod)
    need = 3 if end - start == 1 else 2
    return i if start - i >= need else None


def _fabricated(norm: str, taken: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    en_re, pre_re, zh_re = _stem_patterns()
    known = drug_names()
    classes = drug_classes()
    stops = stoplist()
    cands: list[tuple[int, int]] = []
    if norm.isascii() or re.search(r"[a-z]", norm):
        cands += [m.span() for m in en_re.finditer(norm)]
        if pre_re is not None:
            cands += [m.span() for m in pre_re.finditer(norm)]
    best: dict[int, int] = {}  # end -> earliest start of a Chinese candidate ending there
    for end_idx, length in zh_re.iter(norm):
        start, end = end_idx - length + 1, end_idx + 1
        begin = _zh_candidate(norm, start, end)
        if begin is None:
            continue
        word = norm[begin:end]
        # Not fabricated when a tail of the word is a real name (选择奥美拉唑 -> 奥美拉唑).
        if any(word[k:] in known or word[k:] in stops for k in range(len(word) - length)):
            best[end] = -1
        elif best.get(end, end) > begin and best.get(end) != -1:
            best[end] = begin
    cands += [(b, e) for e, b in best.items() if b >= 0]
    out = []
    for s, e in cands:
        word = norm[s:e]
        if word in known or word in classes or word in stops:
            continue
        # A real drug or stop phrase overlapping the word means it is not fabricated; a class
        # strictly inside it (泽伐他汀 contains 他汀) gives way.
        clash = [t for t in taken if not (e <= t[0] or s >= t[1])]
        if any(t[2] != "class" or not (s <= t[0] and t[1] <= e and (e - s) > (t[1] - t[0])) for t in clash):
            continue
        out.append((s, e, "fabricated", word))
    return out


def _mentions(text: str) -> list[tuple[int, int, str, str]]:
    norm = normalize_text(text)
    taken = _lexicon_matches(norm)
    fab = _fabricated(norm, taken)
    if fab:
        taken = [t for t in taken if all(t[1] <= f[0] or t[0] >= f[1] for f in fab)] + fab
        taken.sort()
    return [t for t in taken if t[2] != _STOP]


def drug_mentions(text: str, question: str | None = None) -> list[DrugMention]:
    """All drug mentions in ``text`` in order; ``question`` marks the user's own drugs as echoes."""
    if not text:
        return []
    asked = {c for _, _, _, c in _mentions(question)} if question else set()
    return [
        DrugMention(text[s:e], s, e, kind, canonical, canonical in asked)
        for s, e, kind, canonical in _mentions(text)
    ]


def specific_drugs(text: str, question: str | None = None) -> list[DrugMention]:
    """Generic or brand names that the user did not name first."""
    return [m for m in drug_mentions(text, question) if m.kind in ("generic", "brand") and not m.echo]


__all__ = ["KINDS", "DrugMention", "drug_mentions", "normalize_text", "specific_drugs"]
