"""medlab: evaluation and prompt-engineering workbench for a Chinese-first medical chatbot.

The public API is imported lazily so that ``import medlab`` stays fast and light (torch and
transformers load only when a model does).
"""

from __future__ import annotations

import importlib
from typing import Any

from medlab.types import (
    Completion,
    EvalItem,
    GenerationParams,
    Message,
    SampleResult,
)

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "load_model": "medlab.models",
    "Backend": "medlab.models.base",
    "load_prompt": "medlab.prompts",
    "list_prompts": "medlab.prompts",
    "diff_prompts": "medlab.prompts",
    "parse_json": "medlab.validate",
    "validate_answer": "medlab.metrics.policy",
    "validate_medical_response": "medlab.metrics.policy",
    "SCHEMAS": "medlab.schemas",
    "load_eval_set": "medlab.evalsets",
    "list_eval_sets": "medlab.evalsets",
    "run_eval": "medlab.runner",
    "load_run": "medlab.runner",
    "RunResult": "medlab.records",
    "compare": "medlab.stats",
    "report": "medlab.report",
    "judge": "medlab.judge",
    "agreement": "medlab.agreement",
    "ReviewPanel": "medlab.review",
    "MedicalChatbot": "medlab.chatbot",
    "plan_memory": "medlab.models.memory",
    "metrics": "medlab.metrics",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if name == "metrics" else getattr(module, name)
    raise AttributeError(f"module 'medlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = [
    "Completion",
    "EvalItem",
    "GenerationParams",
    "Message",
    "SampleResult",
    *_LAZY,
]
