"""Ambiguity: a question on an ambiguous term (``term``, ``intended_reading``) whose
``must_include_any`` patterns check that the answer read it as meant."""

from medlab.tasks.base import Task
from medlab.tasks.common import ANSWER_SCORERS, RUN_SCORERS

TASK = Task(
    "ambiguity",
    label_fields=("term",),
    scorers=(*ANSWER_SCORERS, *RUN_SCORERS),
    description="ambiguous medical terms",
)
