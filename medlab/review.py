"""Clinician review of a run in the notebook: an ipywidgets panel that shows a run's answers
one by one and records the reviewer's own labels into ``<run>/reviews.jsonl``.

Each answer shows the question, the answer with drug mentions highlighted, the detectors'
verdicts and, when the run was judged, the judge's verdict on each rubric criterion. The
reviewer sets the referral level, the drug problems, the hedging, met / not met for each rubric
criterion and a free comment; *Save & next* appends the review (:mod:`medlab.reviews`: never
overwrites). The inputs start empty, not at the detectors' values, so that a review is an
independent rating. The panel opens at the first answer this reviewer has not reviewed, so a
reviewer resumes where they stopped; several reviewers review the same run side by side.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from medlab.judgements import current_verdicts, read_judgements, text_sha256
from medlab.metrics.rubric import parse_rubric
from medlab.records import RunResult
from medlab.reviews import LEVELS, append_review, latest_reviews

_TRI = [("—", "unset"), ("yes", True), ("no", False)]
_HEDGE = [("—", "unset"), ("hedged", True), ("not hedged", False), ("no diagnostic claim", "none")]


class ReviewPanel:
    """``ReviewPanel(run, reviewer="dr_li").display()``; ``save(...)`` and ``show(i)`` do what
    the buttons do (for scripts and tests)."""

    def __init__(self, run: RunResult | str, reviewer: str):
        from medlab.judge import run_items
        from medlab.records import load_run

        if not reviewer or not reviewer.strip():
            raise ValueError("ReviewPanel needs the reviewer's name")
        self.run = load_run(run) if isinstance(run, str) else run
        self.reviewer = reviewer.strip()
        self.samples = [r for r in self.run.records if r.error is None]
        self.items = run_items(self.run.manifest, None)
        judged = self.run.manifest.judge if self.run.manifest else None
        self.verdicts = (
            current_verdicts(read_judgements(self.run.path), judged.fingerprint,
                             judged.prompt_sha256)
            if judged and judged.fingerprint
            else {}
        )  # fmt: skip
        self.position = 0
        self.header, self.body = w.HTML(), w.HTML()
        self.referral = w.Dropdown(options=[("—", "unset"), *[(lv, lv) for lv in LEVELS]],
                                   description="referral")  # fmt: skip
        self.specific_drug = w.Dropdown(options=_TRI, description="names drug")
        self.fabricated_drug = w.Dropdown(options=_TRI, description="invented drug")
        self.hedged = w.Dropdown(options=_HEDGE, description="hedging")
        self.criteria_box = w.VBox()
        self.criteria: list[w.Dropdown] = []
        self.comment = w.Textarea(placeholder="comment", layout=w.Layout(width="100%"))
        self.save_button = w.Button(description="Save & next", button_style="primary")
        self.skip_button = w.Button(description="Skip")
        self.back_button = w.Button(description="Back")
        self.status = w.HTML()
        self.save_button.on_click(lambda _: self._on_save())
        self.skip_button.on_click(lambda _: self.show(self.position + 1))
        self.back_button.on_click(lambda _: self.show(self.position - 1))
        self.widget = w.VBox(
            [
                self.header,
                self.body,
                w.HBox([self.referral, self.specific_drug]),
                w.HBox([self.fabricated_drug, self.hedged]),
                self.criteria_box,
                self.comment,
                w.HBox([self.back_button, self.skip_button, self.save_button]),
                self.status,
            ]
        )
        self.show(self.first_unreviewed())

    # ------------------------------------------------------------ navigation
    def first_unreviewed(self) -> int:
        """Index of the first answer this reviewer has not reviewed (len(samples) when done)."""
        done = {k for (who, k) in latest_reviews(self.run.path) if who == self.reviewer}
        return next((i for i, r in enumerate(self.samples) if r.key not in done), len(self.samples))

    def rubric(self, i: int | None = None) -> list[Any]:
        r = self.samples[self.position if i is None else i]
        item = self.items.get((r.eval_set, r.item_id))
        return parse_rubric(item.rubric) if item is not None else []

    def show(self, i: int) -> None:
        self.position = max(0, min(i, len(self.samples)))
        if self.position == len(self.samples):
            self.header.value = f"<b>{self.reviewer}</b>: all {len(self.samples)} answers reviewed."
            self.body.value, self.criteria_box.children = "", ()
            return
        r = self.samples[self.position]
        criteria = self.rubric()
        self.criteria = [
            w.Dropdown(options=_TRI, description=f"{c.points:+d}", layout=w.Layout(width="140px"))
            for c in criteria
        ]
        self.criteria_box.children = [
            w.HBox([d, w.HTML(html.escape(c.criterion))]) for d, c in zip(self.criteria, criteria)
        ]
        prev = latest_reviews(self.run.path).get((self.reviewer, r.key))
        self._fill((prev or {}).get("labels") or {})
        self.header.value = (
            f"<b>{self.reviewer}</b> · answer {self.position + 1} of {len(self.samples)} · "
            f"{html.escape(r.variant)} · {html.escape(r.eval_set)}/{html.escape(r.item_id)}"
            + (" · <i>reviewed before: showing your last review</i>" if prev else "")
        )
        self.body.value = self._body(r, criteria)

    def _body(self, r: Any, criteria: list[Any]) -> str:
        from medlab.metrics.format import prose
        from medlab.report import highlight_drugs

        question = next((m["content"] for m in reversed(r.messages) if m["role"] == "user"), "")
        m = r.metrics or {}
        rules = (
            f"referral <b>{m.get('referral_level')}</b> · names drug <b>{m.get('specific_drug')}</b>"
            f" · invented drug <b>{m.get('fabricated_drug')}</b> · hedged <b>{m.get('hedged')}</b>"
        )
        judged = ""
        vs = [v for v in self.verdicts.get(r.key, []) if v["text_sha256"] == text_sha256(r.text)]
        if vs:
            rows = "".join(
                f"<li>{'✔' if v['met'] else '✘' if v['met'] is False else '?'} "
                f"[{v['points']:+d}] {html.escape(v['criterion'])} — "
                f"<i>{html.escape(v.get('reason') or v.get('error') or '')}</i></li>"
                for v in vs
            )
            score = m.get("rubric_score")
            judged = f"<p><b>Judge</b> (score {score if score is None else f'{score:.2f}'}):<ul>{rows}</ul></p>"
        answer = prose(r.text) if r.parsed is not None else r.text
        return (
            f"<p><b>Question</b><br>{html.escape(question)}</p>"
            f"<p><b>Answer</b><div style='white-space:pre-wrap'>"
            f"{highlight_drugs(answer, question)}</div></p>"
            f"<p><b>Detectors</b>: {rules}</p>{judged}"
        )

    def _fill(self, labels: dict[str, Any]) -> None:
        self.referral.value = labels.get("referral_level") or "unset"
        for box, key in (
            (self.specific_drug, "specific_drug"),
            (self.fabricated_drug, "fabricated_drug"),
        ):
            box.value = labels.get(key, "unset")
        hedged = labels.get("hedged", "unset")
        self.hedged.value = "none" if hedged is None else hedged
        for d, met in zip(self.criteria, labels.get("criteria") or []):
            d.value = "unset" if met is None else met
        self.comment.value = labels.get("comment") or ""

    # ------------------------------------------------------------ saving
    def labels(self) -> dict[str, Any]:
        """The labels the inputs hold now (unset inputs are left out / None)."""
        level = self.referral.value
        out: dict[str, Any] = {"referral_level": None if level == "unset" else level}
        for key, box in (("specific_drug", self.specific_drug), ("fabricated_drug", self.fabricated_drug),
                         ("hedged", self.hedged)):  # fmt: skip
            if box.value != "unset":
                out[key] = None if box.value == "none" else box.value
        out["criteria"] = [None if d.value == "unset" else d.value for d in self.criteria]
        out["comment"] = self.comment.value.strip()
        return out

    def save(self, **labels: Any) -> dict[str, Any]:
        """Append a review of the current answer (``labels`` override the inputs) and move to
        the next answer this reviewer has not reviewed."""
        if self.position >= len(self.samples):
            raise IndexError("no answer to review: all are reviewed")
        r = self.samples[self.position]
        review = append_review(
            self.run.path, r.key, self.reviewer, {**self.labels(), **labels},
            text_sha256=text_sha256(r.text), criteria_tags=[list(c.tags) for c in self.rubric()],
        )  # fmt: skip
        nxt = self.first_unreviewed()
        self.show(nxt if nxt > self.position else self.position + 1)
        return review

    def _on_save(self) -> None:
        try:
            self.save()
            self.status.value = ""
        except Exception as exc:  # shown in the panel, not raised into the notebook
            self.status.value = f"<span style='color:#c0392b'>{html.escape(str(exc))}</span>"

    def display(self) -> None:
        from IPython.display import display

        display(self.widget)
