"""The shapes a task is declared in: ``Answer`` (one answer, parsed at most once), ``Scorer``
(a family of per-sample columns, the function that fills them and the summary metrics read
from them) and ``Task`` (an item schema, its label fields, the answer schema its prompts use
and its scorers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from medlab.metrics.spec import MetricSpec
from medlab.types import Completion, EvalItem
from medlab.validate import ParseResult, answer_text, parse_json


@dataclass(frozen=True)
class Answer:
    """One answer to score. ``schema`` is the answer schema it was asked for (None: free text);
    ``parse`` runs ``parse_json`` on first use and only once for every scorer."""

    text: str
    schema: str | None = None
    completion: Completion | None = None

    @cached_property
    def parse(self) -> ParseResult:
        return parse_json(self.text)

    @property
    def value(self) -> dict[str, Any] | None:
        """The leniently parsed object, or None."""
        return self.parse.value if self.parse.ok_lenient else None

    @cached_property
    def prose(self) -> str:
        """What the text metrics read: summary + analysis + suggestions of a JSON answer, the
        raw text otherwise (``medlab.metrics.format.prose`` from the one parse)."""
        if "{" not in self.text or self.value is None:
            return self.text
        return answer_text(self.value)


ScoreFn = Callable[[EvalItem, Answer], dict[str, Any]]


@dataclass(frozen=True)
class Scorer:
    """A family of per-sample ``columns`` filled by ``score`` (None where it does not apply)
    and the summary ``metrics`` read from them. Columns filled elsewhere (the judge's rubric
    scores) leave ``columns`` empty."""

    name: str
    columns: tuple[str, ...]
    score: ScoreFn
    metrics: tuple[MetricSpec, ...] = ()


def field_label(record: dict[str, Any], field: str) -> Any:
    """The label of an item record for one label field: the record's own value."""
    return record.get(field)


@dataclass(frozen=True)
class Task:
    """One kind of eval item.

    ``item_schema`` names the JSON Schema under ``eval_sets/schemas/`` every item passes;
    ``label_fields`` are what ``medlab evalsets`` counts (``label`` reads one from a record);
    ``answer_schema`` is the answer schema a prompt must have to answer these items (None: any
    prompt whose schema belongs to no task); ``scorers`` run in order on every answer.
    """

    name: str
    label_fields: tuple[str, ...]
    scorers: tuple[Scorer, ...]
    answer_schema: str | None = None
    item_schema: str = ""
    label: Callable[[dict[str, Any], str], Any] = field_label
    description: str = ""

    def __post_init__(self) -> None:
        if not self.item_schema:
            object.__setattr__(self, "item_schema", f"{self.name}.json")

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for s in self.scorers for c in s.columns)

    @property
    def metrics(self) -> tuple[MetricSpec, ...]:
        return tuple(m for s in self.scorers for m in s.metrics)

    def score(self, item: EvalItem, answer: Answer) -> dict[str, Any]:
        """The per-sample columns of this task's scorers for one answer."""
        out: dict[str, Any] = {}
        for scorer in self.scorers:
            out.update(scorer.score(item, answer))
        return out
