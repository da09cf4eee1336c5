"""Multiple-choice scoring: which letters an answer chose, and whether they are the gold ones."""

from __future__ import annotations

import pytest

from medlab.metrics.mcq import mcq_choice, mcq_correct

CASES = [
    ("B", {"B"}),
    ("B.", {"B"}),
    ("(C)", {"C"}),
    ("C\n", {"C"}),
    ("B. 因为患者有发热和咳嗽", {"B"}),
    ("答案：B", {"B"}),
    ("正确答案是 D", {"D"}),
    ("选B", {"B"}),
    ("选项A和C", {"A", "C"}),
    ("AC", {"A", "C"}),
    ("A、C", {"A", "C"}),
    ("The answer is (C).", {"C"}),
    ("Answer: B", {"B"}),
    ("The answer is a bit unclear, but B is best.", None),  # "a" is an article
    ("I answered this before: C", None),  # "answered" holds no option letters
    ("I think the correct option is B because of the rash.", {"B"}),
    ({"answer": "E"}, {"E"}),
    ({"answer": "BD"}, {"B", "D"}),
    ("根据题意，我认为患者可能是肺炎。", None),  # prose without a choice
    ("A patient with fever needs fluids.", None),  # the article "A" is not option A
    ("ACE inhibitors lower blood pressure.", None),
    ("Because of B cells.", None),
    ({"summary": "B"}, None),
    (None, None),
]


@pytest.mark.parametrize(("answer", "letters"), CASES)
def test_mcq_choice(answer, letters):
    chosen = mcq_choice(answer)
    assert (None if chosen is None else set(chosen)) == letters


def test_mcq_correct_needs_exactly_the_gold_letters():
    assert mcq_correct("B", "B") is True
    assert mcq_correct("答案：AC", "CA") is True
    assert mcq_correct("A", "AC") is False  # a multiple-answer question needs every letter
    assert mcq_correct("ABC", "AC") is False
    assert mcq_correct("我不确定", "A") is False  # no choice is a wrong answer
    assert mcq_correct("A", None) is None
