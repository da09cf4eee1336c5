"""Reviews: appended, never overwritten, several reviewers, resumed where a reviewer stopped;
the panel shows the detectors' and the judge's verdicts and writes what the reviewer set."""

from __future__ import annotations

import json

import pytest
from helpers import ScriptedGrader, scripted_run

from medlab.judge import judge
from medlab.review import ReviewPanel
from medlab.reviews import REVIEWS, append_review, latest_reviews, read_reviews, reviewed_keys

ANSWERS = ["请立即拨打120。", "可能是感冒，多喝水，可以吃布洛芬。", "建议到医院就诊。"]


@pytest.fixture
def run(tmp_path):
    return scripted_run(tmp_path, ANSWERS, eval_set="triage_zh")


def test_reviews_are_appended_and_the_latest_counts(run):
    key = run.records[0].key
    append_review(run.path, key, "a", {"referral_level": "routine"})
    append_review(run.path, key, "a", {"referral_level": "emergency"})  # changed their mind
    append_review(run.path, key, "b", {"referral_level": "emergency"})
    lines = read_reviews(run.path)
    assert [x["labels"]["referral_level"] for x in lines] == ["routine", "emergency", "emergency"]
    assert latest_reviews(run.path)[("a", key)]["labels"]["referral_level"] == "emergency"
    assert reviewed_keys(run.path, "a") == {key} and reviewed_keys(run.path, "c") == set()
    assert all(x["time"] and x["reviewer"] in "ab" for x in lines)


@pytest.mark.parametrize(
    ("reviewer", "labels", "message"),
    [
        ("", {}, "reviewer's name"),
        ("a", {"referral_level": "urgent"}, "referral_level must be one of"),
        ("a", {"triage": "x"}, "unknown review label"),
    ],
)
def test_bad_reviews_are_refused(run, reviewer, labels, message):
    with pytest.raises(ValueError, match=message):
        append_review(run.path, run.records[0].key, reviewer, labels)
    assert not (run.path / REVIEWS).exists()


def test_panel_records_labels_and_resumes_per_reviewer(run):
    n = sum(len(ReviewPanel(run, "x").rubric(i)) for i in range(2))
    run = judge(run, ScriptedGrader(*[{"met": True, "reason": "理由甲"}] * n), cache="off",
                progress=False, limit=2)  # fmt: skip
    panel = ReviewPanel(run, reviewer="dr_li")
    assert panel.position == 0
    assert "理由甲" in panel.body.value and "<mark" not in panel.body.value
    panel.referral.value = "emergency"
    panel.hedged.value = "none"
    panel.criteria[0].value = True
    panel.comment.value = "正确"
    saved = panel.save()
    assert saved["labels"] == {
        "referral_level": "emergency", "hedged": None, "comment": "正确",
        "criteria": [True] + [None] * (len(panel.rubric(0)) - 1),
    }  # fmt: skip
    assert panel.position == 1 and "布洛芬" in panel.body.value and "<mark" in panel.body.value
    assert panel.referral.value == "unset"  # inputs start empty, not at the detectors' values
    panel.save(specific_drug=True)

    again = ReviewPanel(run, reviewer="dr_li")  # resumes at the third answer
    assert again.position == 2
    other = ReviewPanel(run, reviewer="dr_wang")  # another reviewer starts at the first
    assert other.position == 0
    again.save(referral_level="routine")
    assert ReviewPanel(run, reviewer="dr_li").position == 3  # all done
    with pytest.raises(IndexError):
        ReviewPanel(run, reviewer="dr_li").save()

    back = ReviewPanel(run, reviewer="dr_li")
    back.show(0)  # a reviewed answer shows the reviewer's last labels; saving again appends
    assert back.referral.value == "emergency" and back.comment.value == "正确"
    back.save(comment="再看一遍")
    lines = [json.loads(x) for x in (run.path / REVIEWS).read_text().splitlines()]
    assert len(lines) == 4 and lines[0]["labels"]["comment"] == "正确"
