"""Agreement statistics: kappa against published worked examples, and agreement / confusion of
rules, judge and reviewers on a real (scripted) run."""

from __future__ import annotations

import math

import pytest
from helpers import ScriptedGrader, scripted_run

import medlab
from medlab.agreement import KAPPA_COLUMNS, cohen_kappa, confusion, fleiss_kappa, kappa_ci
from medlab.judge import judge
from medlab.reviews import append_review


def pairs(table: list[list[int]]) -> tuple[list[str], list[str]]:
    """Paired labels from a 2x2 table [[yes-yes, yes-no], [no-yes, no-no]] (rater A rows)."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += ["yes" if i == 0 else "no"] * count
            b += ["yes" if j == 0 else "no"] * count
    return a, b


@pytest.mark.parametrize(
    ("table", "kappa"),
    [
        ([[20, 5], [10, 15]], 0.4),  # Wikipedia "Cohen's kappa", worked example
        ([[45, 15], [25, 15]], 0.1304),  # same observed agreement, different kappa
        ([[25, 35], [5, 35]], 0.2593),
        ([[10, 0], [0, 10]], 1.0),
        ([[0, 10], [10, 0]], -1.0),
    ],
)
def test_cohen_kappa_matches_published_examples(table, kappa):
    assert cohen_kappa(*pairs(table)) == pytest.approx(kappa, abs=1e-4)


def test_cohen_kappa_edge_cases():
    assert math.isnan(cohen_kappa(["a"] * 5, ["a"] * 5))  # chance agreement 1: undefined
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError, match="differ in length"):
        cohen_kappa([1], [1, 2])


def test_fleiss_kappa_matches_the_published_example():
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories -> 0.210
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[1, 1], [2, 1]])


def test_kappa_interval_contains_the_estimate_and_is_seeded():
    a, b = pairs([[20, 5], [10, 15]])
    rows = list(zip(a, b))
    low, high = kappa_ci(rows)
    assert low < 0.4 < high and (low, high) == kappa_ci(rows)


def test_agreement_of_rules_judge_and_two_reviewers(tmp_path):
    answers = ["请立即拨打120，马上去急诊。", "多喝水休息，可以吃布洛芬。"]
    run = scripted_run(tmp_path, answers, eval_set="triage_zh")
    n = sum(len(it.rubric) for it in medlab.evalsets.load_items("triage_zh", limit=2))
    run = judge(run, ScriptedGrader(*[{"met": True, "reason": "x"}] * n), cache="off",
                progress=False)  # fmt: skip
    for who, levels in (("a", ["emergency", "none"]), ("b", ["emergency", "routine"])):
        for r, level in zip(run.records, levels):
            append_review(run.path, r.key, who, {"referral_level": level, "specific_drug": False})
    table = medlab.agreement(run)
    assert list(table.columns) == KAPPA_COLUMNS
    rows = table.set_index(["quantity", "raters"])
    # the rules read 120 + 急诊 as emergency and the second answer as none; reviewer a agrees
    assert rows.loc[("referral_level", "rules vs reviewer:a"), "agreement"] == 1.0
    assert rows.loc[("referral_level", "rules vs reviewer:b"), "agreement"] == 0.5
    assert rows.loc[("referral_level", "all 3"), "method"] == "fleiss"
    # the second item is urgent: its rubric says nothing of an emergency referral, so the judge
    # labels that quantity on the first answer only
    assert rows.loc[("emergency_referral", "judge vs reviewer:a"), "n"] == 1
    assert rows.loc[("emergency_referral", "rules vs reviewer:b"), "n"] == 2
    cm = confusion(run, "specific_drug", "rules", "reviewer:a")
    assert cm.loc["True", "False"] == 1 and cm.loc["False", "False"] == 1


def test_cli_agreement(tmp_path, capsys):
    from medlab.cli import main

    run = scripted_run(tmp_path, ["请立即拨打120。"], eval_set="triage_zh")
    assert main(["agreement", str(run.path)]) == 0
    assert "nothing to compare" in capsys.readouterr().out
    append_review(run.path, run.records[0].key, "a", {"referral_level": "emergency"})
    assert main(["agreement", str(run.path), "--json"]) == 0
    assert '"rules vs reviewer:a"' in capsys.readouterr().out
