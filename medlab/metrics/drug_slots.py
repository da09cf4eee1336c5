"""Drug slots: a learned second look at the items of an answer for invented drug names.

``medlab.metrics.invented`` finds invented names by rules, each a kind of evidence with its own
threshold. This module weighs the same evidence together: every item of a sentence (the text
between separators: 、，/：brackets quotes 和 或 及 与, with a leading cue 如/包括/服用, a trailing 等 and a
purpose it runs on into (来降低, 以缓解) taken off) of 2-8 Chinese characters that no lexicon match
covers is scored by a logistic model over what the rules look at one at a time -- the name model's
score, whether the item reads as an everyday word, a dosage form, a stem, a chemical word, a dose
or an English gloss after it (and whether the gloss is a word the lexicons know), the real or
invented drugs beside it and in its sentence, a class before it, the separators around it, the list
cue and 等, a JSON string that holds it alone, the drugs of the lines around an item that is a whole
line (a list written one item per line) -- and the characters at its edges and around it. An item
whose probability reaches the model's threshold is an invented name, unless it reads as an everyday
word (``invented._maybe_drug``, as every rule asks), it is a real name cut short
(``invented._cut_off``) or a real drug's name starts with it (西咪替 for 西咪替丁).

The weights (``medlab/lexicon/data/drug_slots.json``) are learned by
``scripts/train_drug_slots.py`` (scikit-learn's ``LogisticRegression``) from the hand-labelled
real answers the rules were tuned on (``dev`` and the held-out batches whose errors were read,
listed in the file); the threshold is chosen there by cross-validation. Scoring is a sum of
weights: no learning library is needed to use it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from medlab.lexicon.name_model import name_likelihood
from medlab.metrics.drug_index import STEM, drug_name_starts_with
from medlab.metrics.invented import (
    _CHEMICAL,
    _GLOSS,
    _SENTENCE,
    _VERB_HEADS,
    MINERALS,
    Match,
    _cut_off,
    _maybe_drug,
    _names_no_drug,
    _stem_tail,
    _without_form,
    _word_like,
)

MODEL_PATH = Path(__file__).resolve().parents[1] / "lexicon" / "data" / "drug_slots.json"

_SPLIT = re.compile(r"[、，,/／：:（）()“”\"\[\]{}]|以及|和|或|及|与")
_LEAD = re.compile(
    r"(?:\s|\*|#|-|\d+[.、]|[一二三四五六七八九十]+、)*"
    r"((?:例如|比如|譬如|包括|如|像|是|可以|可|服用|使用|选用|试用|口服|吃点?|用|一些|小剂量)*)"
)
_TAIL = re.compile(r"(等药物|等药品|等药|等)?[\s*]*$")
# a purpose the item runs on into (茶酚来降低血脂, 痛舒宁以缓解疼痛): the item ends before it
_PURPOSE_TAIL = re.compile(f"[来以](?:{'|'.join(_VERB_HEADS)})")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,8}")
_GLOSS_OPEN = re.compile(r"\s*[（(]\s*[A-Za-z]")
# a dose right after the item (the model's feature; ``invented._DOSE_AFTER`` is the rules' wider one)
_DOSE = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|ml|毫升|片|粒)|[，,]?\s*每[次日天])")
# what may stand around an item that is a whole line: a bullet or a number, quotes, a comma
_LINE_HEAD = re.compile(r"[\s\-*•#\"“]*(?:\d+[.、．)）]\s*)?[\"“*]*")
_LINE_REST = re.compile(r"[\s\"”*，,]*")
# a person's name of two characters: a common surname and a common given name (王芬, 张伟, 李明)
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
_GIVEN_NAMES = set(
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚英华玲红燕鹏辉建文玉兰婷宇浩凯健俊帆帅旭宁龙斌"
    "波琳颖倩雪慧晶莉萍梅琴云峰亮成飞鑫欣佳悦瑶怡雅瑞芬丹莹蕾薇琪璐晨阳凤洁林"
)
_LONGEST_ITEM = 24  # characters between two separators, cue and 等 included
_LIST_SEPS = ("、", "/", "／", "和", "或", "及", "与", "以及")
_DRUG_KINDS = ("generic", "brand")


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a sentence: its span (cue and 等 taken off), whether it had them, the
    separators before and after it, and its sentence's span."""

    start: int
    end: int
    cue: bool
    deng: bool
    before: str
    after: str
    sentence: tuple[int, int]


@lru_cache(maxsize=4)
def items(norm: str) -> tuple[Item, ...]:
    """The items of every sentence of ``norm``, in order (kept for the last few texts: the
    drug-slot model and ``medlab.metrics.offered`` look at the same answer's)."""
    return tuple(_items(norm))


def _items(norm: str) -> list[Item]:
    out: list[Item] = []
    s0 = 0
    for sm in _SENTENCE.finditer(norm + "\n"):
        sent = (s0, sm.start())
        pos, before = s0, ""
        s0 = sm.end()
        for m in [*_SPLIT.finditer(norm, sent[0], sent[1]), None]:
            stop, sep = (m.start(), m.group()) if m else (sent[1], "")
            if stop - pos > _LONGEST_ITEM:  # a clause, no item: kept as a neighbour only
                out.append(Item(pos, pos, False, False, before, sep, sent))
            else:
                lead = _LEAD.match(norm, pos, stop)
                purpose = _PURPOSE_TAIL.search(norm, lead.end(), stop)
                tail = _TAIL.search(norm, lead.end(), purpose.start() if purpose else stop)
                cue, deng = bool(lead.group(1)), bool(tail.group(1))
                out.append(Item(lead.end(), tail.start(), cue, deng, before, sep, sent))
            pos, before = (m.end() if m else stop), sep
    return out


def _overlaps(s: int, e: int, spans: list[Match]) -> bool:
    return any(t[0] < e and s < t[1] for t in spans)


def _beside(other: Item | None, spans: list[Match]) -> bool:
    """Whether a neighbouring item (None at a sentence's edge) overlaps one of ``spans``."""
    return other is not None and _overlaps(other.start, other.end, spans)


def _count(s: int, e: int, spans: list[Match], cap: int) -> int:
    return min(cap, sum(1 for t in spans if s <= t[0] and t[1] <= e))


def _whole_line(norm: str, s: int, e: int) -> bool:
    """Whether [s, e) is its line but for a bullet or a number, quotes and a comma."""
    end = norm.find("\n", e)
    return bool(
        _LINE_HEAD.fullmatch(norm, norm.rfind("\n", 0, s) + 1, s)
        and _LINE_REST.fullmatch(norm, e, len(norm) if end == -1 else end)
    )


def _lines_around(norm: str, s: int, e: int, n: int = 2) -> tuple[int, int]:
    """The span of the line(s) holding [s, e) and of ``n`` lines before and after them."""
    a = norm.rfind("\n", 0, s) + 1
    for _ in range(n):
        if a == 0:
            break
        a = norm.rfind("\n", 0, a - 1) + 1
    b = norm.find("\n", e)
    for _ in range(n):
        if b == -1:
            break
        b = norm.find("\n", b + 1)
    return a, len(norm) if b == -1 else b


@lru_cache(maxsize=65536)
def _name_features(name: str) -> tuple[tuple[str, float], ...]:
    """The features of the item's own characters (cached: names repeat across answers)."""
    score = name_likelihood(name)
    core = _without_form(name)
    pairs = {
        "llr": max(-4.0, min(8.0, score)),
        "llr_pos": max(0.0, min(8.0, score)),
        "len2": len(name) == 2,
        "len3": len(name) == 3,
        "len5+": len(name) >= 5,
        "word_like": _word_like(name),
        "maybe_drug": _maybe_drug(name),
        "form": core != name,
        "stem": _stem_tail(name),
        "chemical": any(ch in _CHEMICAL for ch in name),
        "medicine_word": "药" in name or "类" in name,
        "mineral": bool(core) and all(ch in MINERALS for ch in core),
        "person": len(name) == 2 and name[0] in _SURNAMES and name[1] in _GIVEN_NAMES,
        "starts_real": drug_name_starts_with(name),
        "starts_class": drug_name_starts_with(name, classes=True),
        f"first={name[0]}": 1.0,
        f"last={name[-1]}": 1.0,
    }
    return tuple((k, float(v)) for k, v in pairs.items() if v)


def features(
    norm: str, taken: list[Match], found: list[Match], *, with_found: bool = False
) -> list[tuple[int, int, dict]]:
    """(start, end, features) of every item that may be a drug's name: 2-8 Chinese characters
    that no lexicon match (a drug, a class, a stop phrase) covers, nor a name in ``found``
    unless ``with_found`` (training learns from the rules' names too)."""
    drugs = [t for t in taken if t[2] in _DRUG_KINDS]
    classes = [t for t in taken if t[2] == "class"]
    invented = [t for t in taken if t[2] == "fabricated"] + found
    if not (drugs or classes or invented or "药" in norm):
        return []  # an answer that names no drug and no medicine offers none
    named = drugs + invented
    covered = [t for t in taken if t[2] != STEM]  # a stem inside an item is evidence, no cover
    all_items = items(norm)
    out = []
    for i, it in enumerate(all_items):
        s, e = it.start, it.end
        if e - s < 2 or not _NAME.fullmatch(norm, s, e) or _overlaps(s, e, covered):
            continue
        if not with_found and _overlaps(s, e, found):
            continue
        prev = all_items[i - 1] if i and all_items[i - 1].sentence == it.sentence else None
        nxt = all_items[i + 1] if i + 1 < len(all_items) else None
        nxt = nxt if nxt is not None and nxt.sentence == it.sentence else None
        ss, se = it.sentence

        f = dict(_name_features(norm[s:e]))
        if "\n" in norm and _whole_line(norm, s, e):  # a list written one item per line
            a, b = _lines_around(norm, s, e)
            f["line_item"] = 1.0  # its lines keep it company
            f["drugs_in_lines"] = _count(a, ss, named, 3) + _count(se, b, named, 3)
        f.update({
            "prev_drug": _beside(prev, drugs), "next_drug": _beside(nxt, drugs),
            "prev_invented": _beside(prev, invented), "next_invented": _beside(nxt, invented),
            "between": _beside(prev, named) and _beside(nxt, named),
            "prev_class": _beside(prev, classes),
            "drugs_in_sentence": _count(ss, se, drugs, 4),
            "classes_in_sentence": _count(ss, se, classes, 2),
            "invented_in_sentence": _count(ss, se, invented, 3),
            "list_before": it.before in _LIST_SEPS, "list_after": it.after in _LIST_SEPS,
            "colon_before": it.before in "：:" and bool(it.before),
            "colon_after": it.after in "：:" and bool(it.after),
            "cue": it.cue, "deng": it.deng,
            "quoted": s > 0 and norm[s - 1] == '"' and e < len(norm) and norm[e] == '"',
            "gloss": _GLOSS_OPEN.match(norm, e) is not None,
            # an English gloss that is no drug, class nor everyday word (地塞罗那（Dexamadine）)
            "gloss_no_word": bool((g := _GLOSS.match(norm, e)) and _names_no_drug(g[1])),
            "dose": _DOSE.match(norm, e) is not None,
            "medicine_in_sentence": "药" in norm[ss:se],
            f"b1={norm[s - 1 : s]}": 1.0, f"b2={norm[max(0, s - 2) : s]}": 1.0,
            f"a1={norm[e : e + 1]}": 1.0, f"a2={norm[e : e + 2]}": 1.0,
        })  # fmt: skip
        out.append((s, e, {k: float(v) for k, v in f.items() if v}))
    return out


@lru_cache(maxsize=1)
def model(path: Path = MODEL_PATH) -> dict[str, Any]:
    """The learned weights: ``{"weights": {feature: w}, "bias": b, "threshold": t, ...}``."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def probability(feats: dict[str, float], m: dict[str, Any]) -> float:
    """The model's probability that an item with these features is an invented name."""
    w = m["weights"]
    z = m["bias"] + sum(v * w.get(k, 0.0) for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def accepts(feats: dict[str, float], p: float, threshold: float) -> bool:
    """Whether an item with these features and probability is an invented name: the model
    says so, it is no everyday word (as every rule asks), no real name's start and no
    person's name (王芬, 张伟: a surname and a given name)."""
    return (
        p >= threshold
        and "maybe_drug" in feats
        and "starts_real" not in feats
        and "person" not in feats
    )


def slot_names(norm: str, taken: list[Match], found: list[Match]) -> list[Match]:
    """Invented names the model finds beyond ``found`` (those of the rules), as
    (start, end, "fabricated", name)."""
    m = model()
    out = []
    for s, e, feats in features(norm, taken, found):
        if not accepts(feats, probability(feats, m), m["threshold"]):
            continue
        # a real name cut short, also given a form (地塞米片: 地塞米松 cut), is no invented one
        if not _cut_off(norm, (s, e, "fabricated", _without_form(norm[s:e]))):
            out.append((s, e, "fabricated", norm[s:e]))
    return out


__all__ = ["Item", "accepts", "features", "items", "model", "probability", "slot_names"]
