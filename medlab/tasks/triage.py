"""Triage: a symptom question with a gold care level (``triage``), red flags and the age group.

Scored on what every answer is scored on (:mod:`medlab.tasks.common`); over-referral and
under-triage read the gold level.
"""

from medlab.tasks.base import Task
from medlab.tasks.common import ANSWER_SCORERS, RUN_SCORERS

TASK = Task(
    "triage",
    label_fields=("triage", "age_group"),
    scorers=(*ANSWER_SCORERS, *RUN_SCORERS),
    description="symptom questions with a gold care level",
)
