"""Traditional Chinese read as Simplified, so that one set of rules and lexicons serves
answers written for Taiwan and Hong Kong (建議回診所找醫師 reads as 建议回诊所找医师).

``to_simplified`` converts with OpenCC: first Taiwan phrases to mainland ones (``tw2sp``:
阿斯匹靈 -> 阿司匹林), and if that changes the length of the text, character by character
(``t2s``). The result always has the length of the input, so offsets found in it are offsets
in the original (the drug detector relies on that); text that would change length is returned
unchanged. Text without a Traditional-only character is returned as it is after one regular
expression scan (mainland wording is never rewritten). ``CJK`` matches one Chinese character
(CJK Unified Ideographs), the test the detectors share.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

CJK = re.compile(r"[\u4e00-\u9fff]")  # one Chinese character: text with one is Chinese


@lru_cache(maxsize=1)
def _converters() -> tuple[Any, Any]:
    import opencc

    return opencc.OpenCC("tw2sp"), opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional() -> re.Pattern:
    """A character class of the CJK characters that ``t2s`` changes."""
    _, chars = _converters()
    cjk = "".join(chr(c) for c in range(0x3400, 0xA000))
    simplified = chars.convert(cjk)
    if len(simplified) != len(cjk):  # pragma: no cover - t2s maps one character to one
        raise RuntimeError("OpenCC t2s changed the length of single characters")
    changed = [a for a, b in zip(cjk, simplified) if a != b]
    return re.compile("[" + "".join(changed) + "]")


def to_simplified(text: str) -> str:
    """``text`` in Simplified Chinese, same length (see the module docstring)."""
    if text.isascii() or not _traditional().search(text):
        return text
    phrases, chars = _converters()
    for converter in (phrases, chars):
        out = converter.convert(text)
        if len(out) == len(text):
            return out
    return text
