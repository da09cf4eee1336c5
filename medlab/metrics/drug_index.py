"""The drug lexicon as two Aho-Corasick automata (pyahocorasick), and the text normalisation
they match on.

Every lexicon name (``medlab.lexicon``: drug names, drug classes, the stop phrases that matter
and the Chinese INN stems) is a key, normalised character by character (NFKC, lower case, one
character for one character, so that offsets in the normalised text are offsets in the text)
and stored as its UTF-8 bytes. Names with a non-ASCII character go to one automaton, ASCII-only
names to the other, so that Chinese text never walks the English one. The automata are built
once and kept by ``medlab.lexicon.store``; the detectors also ask them whether a word is a
drug name (``is_drug_name``), so that scoring never loads the name table itself.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import ahocorasick
from rapidfuzz.distance import Levenshtein

from medlab.lexicon import drug_classes, drug_names, inn_stems, stoplist
from medlab.lexicon.store import compiled

STOP = "stop"  # kind of a stop phrase: it wins a span and reports nothing
STEM = "stem"  # kind of a Chinese INN stem: evidence for a fabricated name
_DRUG = ("generic", "brand")


@lru_cache(maxsize=1)
def _char_table() -> tuple[dict[str, str], re.Pattern]:
    return compiled("char_table", _build_char_table)


def _build_char_table() -> tuple[dict[str, str], re.Pattern]:
    """Characters whose NFKC + lower-case form is one other letter, digit, space or hyphen
    (Ａ -> a, ８ -> 8, － -> -), and a pattern that finds them. Punctuation (，（）) is left
    alone: names never contain it and it is never a letter next to a name."""
    table = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch).lower()
        if norm != ch and len(norm) == 1 and (norm.isalnum() or norm in " -"):
            table[ch] = norm
    pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(table)) + "]")
    return table, pattern


def normalize_text(text: str) -> str:
    """Same-length normalisation, so that offsets in the result are offsets in ``text``."""
    if text.isascii():
        return text.lower()
    table, pattern = _char_table()
    return pattern.sub(lambda m: table[m.group()], text)


def is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def latin1(text: str) -> str:
    """UTF-8 bytes of ``text`` as a str of code points 0-255. Matching on this keeps the
    automaton's nodes small (at most 256 children), which makes it several times faster on
    Chinese than matching on characters; UTF-8 guarantees matches start on characters."""
    return text.encode("utf-8").decode("latin-1")


@lru_cache(maxsize=1)
def automata() -> tuple[ahocorasick.Automaton, ahocorasick.Automaton]:
    """(names with any non-ASCII character, ASCII-only names): Chinese text skips the second."""
    return compiled("drug_automata", _build_automata, (ahocorasick.__file__,))


def _build_automata() -> tuple[ahocorasick.Automaton, ahocorasick.Automaton]:
    entries: dict[str, tuple[str, str]] = dict(drug_names())
    entries.update({name: ("class", canon) for name, canon in drug_classes().items()})
    stem_words = [s.stem for s in inn_stems()]
    for stop in stoplist():
        # A stop phrase matters only where it contains a name or a stem (黄曲霉素 is not a
        # fabricated -mycin): the others would only cost time.
        parts = {stop[i:j] for i in range(len(stop)) for j in range(i + 1, len(stop) + 1)}
        if any(w in stop for w in stem_words) or any(p in entries for p in parts):
            entries[stop] = (STOP, stop)
    # Chinese INN stems ride along (a stem inside a longer name, 奥美拉唑, is never reported).
    for stem in inn_stem_tables()[2]:
        entries.setdefault(stem, (STEM, stem))
    zh, en = ahocorasick.Automaton(), ahocorasick.Automaton()
    for key, (kind, canonical) in entries.items():
        key = normalize_text(key)
        data = latin1(key)
        value = (len(data), kind, canonical, is_ascii_alnum(key[0]), is_ascii_alnum(key[-1]))
        (en if key.isascii() else zh).add_word(data, value)
    zh.make_automaton()
    en.make_automaton()
    return zh, en


@lru_cache(maxsize=1)
def inn_stem_tables() -> tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(English suffix stems, English prefix stems, Chinese stem -> the Chinese stems it ends
    with, longest first: 伐他汀 -> (伐他汀, 他汀))."""
    stems = inn_stems()
    suffixes = tuple(s.stem for s in stems if s.lang == "en" and s.position == "suffix")
    prefixes = tuple(s.stem for s in stems if s.lang == "en" and s.position == "prefix")
    zh = sorted({s.stem for s in stems if s.lang == "zh"}, key=len, reverse=True)
    tails = {stem: tuple(x for x in zh if stem.endswith(x)) for stem in zh}
    return suffixes, prefixes, tails


def is_drug_name(word: str) -> bool:
    """Whether the normalised ``word`` is a drug name of the lexicon (generic or brand)."""
    zh, en = automata()
    value = (en if word.isascii() else zh).get(latin1(word), None)
    return value is not None and value[1] in _DRUG


def drug_name_starts_with(prefix: str, *, classes: bool = False) -> bool:
    """Whether a drug name of the lexicon (generic or brand; with ``classes``, also a drug
    class) starts with the normalised ``prefix``: 布洛 for a name the token limit cut, 苯二氮
    for 苯二氮卓类."""
    zh, en = automata()
    auto = en if prefix.isascii() else zh
    kinds = (*_DRUG, "class") if classes else _DRUG
    return any(value[1] in kinds for _, value in auto.items(latin1(prefix)))


def completed_name(prefix: str) -> tuple[str, str] | None:
    """(kind, canonical) of the one drug whose lexicon names one character longer start with the
    normalised Chinese ``prefix`` (西咪替 -> 西咪替丁, cimetidine), or None: none, or several
    drugs (头孢克 -> 头孢克洛 and 头孢克肟)."""
    zh, _ = automata()
    found = {
        (value[1], value[2])
        for key, value in zh.items(latin1(prefix))
        if value[1] in _DRUG and len(key.encode("latin-1").decode("utf-8")) == len(prefix) + 1
    }
    return found.pop() if len({c for _, c in found}) == 1 and len(found) == 1 else None


_WILDCARD = "\x01"  # never part of a key: keys are the UTF-8 bytes of names


# the last character of a Chinese medicine's name that says what it is prepared as (麻黄汤,
# 六味地黄丸, 逍遥散): another character there (麻黄酮) makes another thing, not a misspelling
_PREPARATIONS = "汤散丸膏片液饮丹茶"


def misspelt_drug(word: str) -> tuple[str, str] | None:
    """(kind, canonical) of the lexicon drug that the normalised Chinese ``word`` misspells by
    one character of a like sound (奥米拉唑 for 奥美拉唑, 布洛分 for 布洛芬), or None. A real
    misspelling names the real drug; a changed head of another sound (卡司匹林 beside 阿司匹林,
    卡托芬 beside 卡洛芬) is a different, invented name, and so is a changed preparation word
    (麻黄酮 beside 麻黄汤)."""
    if len(word) < 3 or word.isascii():
        return None
    zh, _ = automata()
    for i, ch in enumerate(word):
        width = len(ch.encode("utf-8"))
        pattern = latin1(word[:i]) + _WILDCARD * width + latin1(word[i + 1 :])
        for key in zh.keys(pattern, _WILDCARD, ahocorasick.MATCH_EXACT_LENGTH):
            real = key.encode("latin-1").decode("utf-8")
            value = zh.get(key)
            if (
                len(real) == len(word)
                and value[1] in _DRUG
                and not (i == len(word) - 1 and real[i] in _PREPARATIONS)
                and _sounds_alike(ch, real[i])
            ):
                return value[1], value[2]
    return None


@lru_cache(maxsize=4096)
def _readings(ch: str) -> frozenset[tuple[str, str]]:
    """(initial, final) of a character in each of its readings (美: m, ei)."""
    from pypinyin import Style, pinyin  # imported only when a name has a near neighbour

    syllables = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
    initials = pinyin(ch, style=Style.INITIALS, heteronym=True, strict=False)[0]
    return frozenset((i, s[len(i) :]) for s in syllables for i in initials if s.startswith(i))


def _sounds_alike(a: str, b: str) -> bool:
    """The same syllable (芬, 分), or the same initial consonant with finals one letter apart
    (美 mei, 米 mi); 兰 lan and 利 li, one initial but other vowels, are not alike."""
    return any(
        ia == ib and (fa == fb or (ia and Levenshtein.distance(fa, fb) <= 1))
        for ia, fa in _readings(a)
        for ib, fb in _readings(b)
    )


__all__ = [
    "STEM",
    "STOP",
    "automata",
    "completed_name",
    "drug_name_starts_with",
    "inn_stem_tables",
    "is_ascii_alnum",
    "is_drug_name",
    "latin1",
    "misspelt_drug",
    "normalize_text",
]
