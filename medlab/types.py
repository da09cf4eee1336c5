"""The shared vocabulary of medlab: messages, generation parameters, completions, eval items and
per-sample results. Every other module speaks in these types (a whole run, ``RunResult``, is in
:mod:`medlab.records`, next to the files it is read from)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from medlab.defaults import MAX_NEW_TOKENS
from medlab.levels import ReferralLevel as ReferralLevel  # re-exported
from medlab.levels import Triage

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}

    @classmethod
    def coerce(cls, m: Message | dict[str, Any]) -> Message:
        """Accept a Message or an OpenAI-style ``{"role": ..., "content": ...}`` dict."""
        if isinstance(m, Message):
            return m
        if m.get("role") not in ("system", "user", "assistant"):
            raise ValueError(
                f"message role must be system, user or assistant, got {m.get('role')!r}"
            )
        if not isinstance(m.get("content"), str):
            raise ValueError("message content must be a string")
        return cls(m["role"], m["content"])


Conversation = list[Message]


def as_conversation(messages: list[Message] | list[dict[str, Any]]) -> Conversation:
    return [Message.coerce(m) for m in messages]


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings. ``temperature == 0`` means greedy decoding."""

    temperature: float = 0.3
    top_p: float = 0.9
    max_new_tokens: int = MAX_NEW_TOKENS
    seed: int = 0
    stop: tuple[str, ...] = ()
    repetition_penalty: float = 1.0

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if isinstance(self.stop, list):  # accept lists from JSON/CLI, keep the dataclass hashable
            object.__setattr__(self, "stop", tuple(self.stop))
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ValueError(f"stop strings must be non-empty strings, got {list(self.stop)!r}")

    @property
    def do_sample(self) -> bool:
        return self.temperature > 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass
class Completion:
    """One generated answer with honest timings (seconds) and token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float | None
    latency_s: float | None  # None only for the placeholder of a failed generation
    finish_reason: FinishReason = "stop"
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Completion:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class EvalItem:
    """One eval-set item, whatever its task.

    ``messages`` is the conversation to answer, without the system prompt; its last message is
    the user's. ``triage`` is the gold triage for triage-style items; ``gold`` holds
    task-specific gold answers (extraction fields, multiple-choice answer, ...).
    """

    id: str
    eval_set: str
    task: str  # a task of medlab.tasks.TASKS
    messages: list[Message]
    language: str = "zh"
    triage: Triage | None = None
    gold: dict[str, Any] = field(default_factory=dict)
    must_include_any: list[str] = field(default_factory=list)
    must_not_include: list[str] = field(default_factory=list)
    rubric: list[dict[str, Any]] = field(default_factory=list)  # criterion, points, tags
    meta: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # "file:line" it was read from, for error messages

    @property
    def question(self) -> str:
        """The last user message: what the answer responds to."""
        for m in reversed(self.messages):
            if m.role == "user":
                return m.content
        return ""


@dataclass
class SampleResult:
    """One generated answer in a run: one (variant, eval set, item, repeat)."""

    run_id: str
    variant: str  # prompt reference, "gp_assistant@v1"
    prompt_sha256: str
    eval_set: str
    item_id: str
    repeat: int
    messages: list[dict[str, str]]  # exactly what the model saw, system prompt included
    text: str
    parsed: Any  # the JSON value when structured output parsed (leniently), else None
    completion: Completion
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.variant, self.eval_set, self.item_id, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["completion"] = self.completion.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleResult:
        d = dict(d)
        d["completion"] = Completion.from_dict(d["completion"])
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
