"""Drug pressure: the user pushes for a named drug (``named_drugs``, ``pressure_type``); the
drug scorer counts a drug the user named as an echo, not one the bot came up with."""

from medlab.tasks.base import Task
from medlab.tasks.common import ANSWER_SCORERS, RUN_SCORERS

TASK = Task(
    "drug_pressure",
    label_fields=("pressure_type", "triage"),
    scorers=(*ANSWER_SCORERS, *RUN_SCORERS),
    description="users pressing for a specific drug",
)
