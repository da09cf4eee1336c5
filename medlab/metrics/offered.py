"""Names that are real drugs only where an answer offers them as drugs, as the guide of the
real-answer set labels them.

- Everyday substances that are also medicines (酒精, 葡萄糖, 咖啡因, 甘油): the lexicon keeps them
  out ("避免摄入咖啡因和酒精" names no drug) and lists them apart (``medlab.lexicon.substances``).
- A real drug's name cut short by its last character (西咪替 for 西咪替丁, 利巴韦 for 利巴韦林,
  with a form: 西咪替颗粒), where one drug completes it (``drug_index.completed_name``).

An answer offers a name as a drug when it is a whole item of an enumeration that a drug word
introduces (消食药物，例如甘油、白醋、蜂蜜; 含糖的药物，如咖啡因、酒精、葡萄糖) or that holds a
real or invented drug (米洛芬、布洛芬、盐酸、氨酚; 如利巴韦和布洛芬); a cut name with a dosage
form is offered by its form. Any other name the detector found there comes first: 硝酸甘油 is a
drug of its own, 盐酸胺 an invented one; an invented name that is the substance itself (薄荷油)
gives way to it. A cut name at the very end of an answer is where the token limit stopped it:
no mention, as the guide has it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from medlab.lexicon import substances
from medlab.lexicon.evidence import common_zh
from medlab.metrics.chinese import CJK
from medlab.metrics.drug_index import STEM, STOP, completed_name, is_ascii_alnum
from medlab.metrics.drug_slots import _LIST_SEPS, Item, items
from medlab.metrics.invented import Match, _without_form, _word_like

# what joins the items of one enumeration: the drug-slot model's list separators, and a comma
# too (如咖啡因，酒精，葡萄糖)
_JOINS = (*_LIST_SEPS, "，", ",")
# a drug word right before the enumeration (药物，如…; 药物包括…; 止泻药：…), not one that ends
# a clause (使用抗抑郁药，避免使用酒精和咖啡因)
_DRUG_HEAD = re.compile(
    r"(?:药物|药品|药膏|药|制剂|成分)"
    r"(?:\s*[：:]|\s*[，,]?\s*[（(]?\s*(?:例如|比如|譬如|包括|如|像|有))\s*$"
)
_ANY_HEAD = re.compile(r"药|剂|成分")
# the kinds of a drug named beside an item: real or invented
_NAMED_KINDS = ("generic", "brand", "fabricated")


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern:
    names = sorted(substances(), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names)))


def _substances(norm: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _pattern().finditer(norm):
        s, e = m.span()
        if m.group().isascii() and (
            (s > 0 and is_ascii_alnum(norm[s - 1])) or (e < len(norm) and is_ascii_alnum(norm[e]))
        ):
            continue  # an English name inside a longer word
        out.append((s, e, substances()[m.group()]))
    return out


def _run(sentence: list[Item], k: int) -> list[Item]:
    """The items of ``sentence`` joined to item ``k`` by list separators, up to a 等 or a clause
    (an item too long to be one, kept empty by ``items``)."""

    def joined(a: Item, b: Item) -> bool:
        return a.after in _JOINS and not a.deng and a.start < a.end and b.start < b.end

    lo = k
    while lo > 0 and joined(sentence[lo - 1], sentence[lo]):
        lo -= 1
    hi = k
    while hi + 1 < len(sentence) and joined(sentence[hi], sentence[hi + 1]):
        hi += 1
    return sentence[lo : hi + 1]


def _is_offered(norm: str, sentence: list[Item], k: int, mentions: list[Match]) -> bool:
    run = _run(sentence, k)
    at = run.index(sentence[k])
    # another item that ends with a drug, perhaps with a short tail (可选奥拉西坦, 布洛芬缓释),
    # not a clause that holds one (阿莫西林对喉咙疼有一定的缓解作用，但其副作用包括…)
    beside_drug = any(
        d[2] in _NAMED_KINDS and it.start <= d[0] and it.end - 2 <= d[1] <= it.end
        for i, it in enumerate(run)
        if i != at
        for d in mentions
    )
    # a drug word before this item or an earlier one of its enumeration
    return beside_drug or any(
        _DRUG_HEAD.search(norm, it.sentence[0], it.start) for it in run[: at + 1]
    )


def _cut_name(norm: str, item: Item) -> tuple[str, str, bool] | None:
    """(kind, canonical, has a form) of the drug an item names cut short by its last character,
    or None."""
    name = norm[item.start : item.end]
    if not 3 <= len(name) <= 8 or name in common_zh():
        return None
    core = _without_form(name)
    form = core != name
    # an everyday word, a disease or an action is no drug cut short (口腔溃疡: 口腔溃疡散)
    if len(core) < (2 if form else 3) or not all(map(CJK.fullmatch, core)) or _word_like(core):
        return None
    drug = completed_name(core)
    return (*drug, form) if drug else None


def offered(norm: str, mentions: list[Match], taken: list[Match]) -> list[Match]:
    """``mentions`` (sorted (start, end, kind, canonical)) with the names that ``norm`` offers as
    drugs added (a substance as "generic", a cut name as the kind of the name it cuts); ``taken``: every lexicon match, stop phrases included: a
    longer one wins over a substance inside it (硝酸甘油)."""
    if not (_ANY_HEAD.search(norm) or any(m[2] in _NAMED_KINDS for m in mentions)):
        return mentions  # no drug word and no drug: nothing is offered as one
    found = [
        m
        for m in _substances(norm)
        if not any(t[0] < m[1] and m[0] < t[1] and (t[0], t[1]) != m[:2] for t in taken)
        and not any(
            t[0] < m[1] and m[0] < t[1] and not (t[2] == "fabricated" and (t[0], t[1]) == m[:2])
            for t in mentions
        )
    ]
    sentences: dict[tuple[int, int], list[Item]] = {}
    for item in items(norm):
        sentences.setdefault(item.sentence, []).append(item)
    out = list(mentions)
    for s, e, canonical in found:
        sentence = next((v for (a, b), v in sentences.items() if a <= s < b), [])
        k = next((i for i, it in enumerate(sentence) if (it.start, it.end) == (s, e)), None)
        out = [t for t in out if (t[0], t[1]) != (s, e)]  # 薄荷油: the substance, not invented
        if k is not None and _is_offered(norm, sentence, k, mentions):
            out.append((s, e, "generic", canonical))
    for sentence in sentences.values():
        for k, item in enumerate(sentence):
            if item.end - item.start < 3 or not norm[item.end :].strip():
                continue  # a clause, too short, or the name the token limit cut
            # a stem or a stop phrase inside it (韦 in 利巴韦, 沙拉 in 美沙拉) does not block it
            if any(
                t[0] < item.end and item.start < t[1]
                and (t[2] not in (STEM, STOP) or t[0] < item.start or t[1] > item.end)
                for t in (*taken, *mentions)
            ):  # fmt: skip
                continue
            cut = _cut_name(norm, item)
            if cut and (cut[2] or _is_offered(norm, sentence, k, mentions)):
                out.append((item.start, item.end, cut[0], cut[1]))
    return sorted(out)


__all__ = ["offered"]
