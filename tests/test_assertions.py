"""Item assertions: must_include_any / must_not_include with literal and "re:" patterns."""

from __future__ import annotations

import pytest

from medlab.metrics.assertions import assertions_pass

CASES = [
    # text, must_include_any, must_not_include, expected
    ("请立即拨打120。", ["120", "急诊"], [], True),
    ("请尽快就医。", ["120", "急诊"], [], False),
    ("建议服用布洛芬。", [], ["布洛芬"], False),
    ("建议服用非甾体抗炎药。", [], ["布洛芬"], True),
    ("Call 911 now.", ["call 911"], [], True),  # case-insensitive
    ("请拨打１２０", ["120"], [], True),  # full-width digits fold (NFKC)
    ("体温38.5℃以上需要退烧。", ["re:3[89](\\.\\d)?\\s*℃"], [], True),
    ("可能是感冒", ["re:^可能"], ["re:确诊|肯定是"], True),
    ("肯定是感冒", ["re:感冒"], ["re:确诊|肯定是"], False),
    ("随便一段话", [], [], None),
]


@pytest.mark.parametrize("text,include,exclude,expected", CASES)
def test_assertions_pass(text, include, exclude, expected) -> None:
    assert assertions_pass(text, include, exclude) is expected


def test_bad_regex_names_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"re:\(unclosed"):
        assertions_pass("text", ["re:(unclosed"], [])
