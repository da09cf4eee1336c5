"""Traditional Chinese read as Simplified, always at the same length."""

from __future__ import annotations

import pytest

from medlab.metrics.chinese import to_simplified


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("建議這週回診所找醫師", "建议这周回诊所找医师"),
        ("阿斯匹靈和撲熱息痛", "阿司匹林和扑热息痛"),  # Taiwan phrases to mainland ones
        ("如果食咗三日都仲係咁痛", "如果食咗三日都仲系咁痛"),  # Cantonese words stay words
        ("我今年52岁，阿斯匹灵", "我今年52岁，阿斯匹灵"),  # Simplified text is never rewritten
        ("Hello, 醫生!", "Hello, 医生!"),
        ("", ""),
    ],
)
def test_to_simplified(text, expected):
    out = to_simplified(text)
    assert out == expected and len(out) == len(text)


def test_a_phrase_that_would_change_the_length_falls_back_to_characters():
    text = "我在部落格上看到的"  # tw2sp: 部落格 -> 博客 (3 -> 2 characters)
    out = to_simplified(text + "醫生")
    assert len(out) == len(text) + 2 and out.endswith("医生")
