"""Multi-turn: a conversation whose last question depends on an earlier turn (``depends_on``);
a drug the user named in any turn is an echo."""

from medlab.tasks.base import Task
from medlab.tasks.common import ANSWER_SCORERS, RUN_SCORERS

TASK = Task(
    "multiturn",
    label_fields=("depends_on",),
    scorers=(*ANSWER_SCORERS, *RUN_SCORERS),
    description="conversations that depend on an earlier turn",
)
