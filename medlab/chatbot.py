"""MedicalChatbot: the full guarded chatbot on any backend, as users meet it.

One turn: system prompt (optionally grounded with knowledge-base notes) + history trimmed to the
context budget + the question -> the model (constrained to the prompt's JSON Schema in
structured mode, through the response cache) -> post-check (schema + drug policy) -> at most
one repair request that names the violations -> a fixed safe fallback answer if the repair fails
too. The answer is then scored for its referral level and cross-checked against the knowledge
base. ``respond_batch`` runs the same pipeline for many conversations with one ``generate`` call
per stage (``medlab serve`` batches concurrent requests through it).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from medlab.cache import open_cache
from medlab.knowledge import KBFlag, KnowledgeBase, default_knowledge_base, language_of
from medlab.metrics.policy import drug_violations, validate_answer
from medlab.metrics.referral import referral_level
from medlab.models.cached import CachedBackend
from medlab.prompts import Prompt, load_prompt
from medlab.schemas import SCHEMAS
from medlab.types import Completion, GenerationParams, Message, as_conversation
from medlab.validate import Violation, answer_text, parse_json

FALLBACK = {
    ("zh", False): {
        "summary": "抱歉，我暂时无法就这个问题给出可靠的建议。",
        "analysis": ["您描述的情况需要医生结合面诊和必要的检查进一步评估。"],
        "suggestions": ["建议到医院就诊，咨询专业医生。"],
    },
    ("zh", True): {
        "summary": "您描述的情况可能比较紧急。",
        "analysis": ["其中一些症状可能提示需要紧急处理的情况。"],
        "suggestions": ["请立即就医，必要时拨打120急救电话。"],
    },
    ("en", False): {
        "summary": "Sorry, I cannot give reliable advice on this right now.",
        "analysis": ["What you describe needs to be assessed by a doctor in person."],
        "suggestions": ["Please see your GP or a doctor about it."],
    },
    ("en", True): {
        "summary": "What you describe may be an emergency.",
        "analysis": ["Some of these symptoms can need urgent treatment."],
        "suggestions": ["Seek care immediately: go to the ER now or call emergency services."],
    },
}
REPAIR = {
    "zh": "你上一条回答没有通过检查：\n{issues}\n请修正以上问题后重新完整回答。{rules}",
    "en": "Your previous answer failed the checks:\n{issues}\nPlease fix these problems and answer again in full. {rules}",
}
RULES = {
    (
        "zh",
        True,
    ): "只输出一个符合格式要求的 JSON 对象；不要写出任何具体药物的通用名或商品名，只能使用药物类别名称。",
    ("zh", False): "不要写出任何具体药物的通用名或商品名，只能使用药物类别名称。",
    (
        "en",
        True,
    ): "Output only one JSON object of the required shape; name no specific drug (generic or brand), only drug classes.",
    ("en", False): "Name no specific drug (generic or brand), only drug classes.",
}
EXTRA_SYSTEM = {
    "zh": "\n\n调用方的附加说明：\n",
    "en": "\n\nAdditional instructions from the caller:\n",
}


@dataclass
class Answer:
    """One chatbot turn. ``violations`` are what the post-check found in the model's first
    answer, ``repair_violations`` in the repaired one; the delivered ``text`` passed the checks
    unless both failed, in which case it is the safe fallback (``fallback=True``)."""

    text: str
    data: dict[str, Any] | None
    violations: list[Violation]
    referral_level: str
    latency_s: float
    cached: bool
    repaired: bool = False
    fallback: bool = False
    knowledge_hits: list[dict[str, Any]] = field(default_factory=list)
    kb_flags: list[KBFlag] = field(default_factory=list)
    repair_violations: list[Violation] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)  # what the model saw first

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.completions)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.completions)

    @property
    def finish_reason(self) -> str:
        return (
            "stop" if self.fallback or not self.completions else self.completions[-1].finish_reason
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MedicalChatbot:
    """The guarded chatbot. ``mode``: "structured" (JSON of the prompt's schema) or "normal".

    ``cache``: an ``open_cache`` spec or cache object (None: no cache; an object stays its
    owner's to close, a cache opened from a spec is closed by ``close()``). ``knowledge``: a
    ``KnowledgeBase`` (None: the shipped one; False: none) used for the cross-check, the
    emergency fallback and, with ``ground=True``, to add retrieved notes to the system prompt.
    ``max_history_tokens``: the prompt budget (default: context length - max_new_tokens).
    ``client_system``: what a caller's own system message does (``respond``): "merge" appends it
    to the chatbot's system prompt, "ignore" drops it, "replace" uses it instead.
    """

    def __init__(
        self,
        model: Any,
        prompt: str | Prompt = "gp_assistant",
        mode: str = "structured",
        params: GenerationParams | None = None,
        cache: Any = None,
        knowledge: KnowledgeBase | bool | None = None,
        max_history_tokens: int | None = None,
        ground: bool = False,
        client_system: str = "merge",
    ):
        if mode not in ("structured", "normal"):
            raise ValueError(f"mode must be 'structured' or 'normal', got {mode!r}")
        if client_system not in ("merge", "ignore", "replace"):
            raise ValueError(
                f"client_system must be merge, ignore or replace, got {client_system!r}"
            )
        self.model = model
        self.prompt = prompt if isinstance(prompt, Prompt) else load_prompt(prompt)
        self.mode = mode
        self.params = params or GenerationParams()
        self.cache = open_cache(cache)
        self._owns_cache = self.cache is not cache  # opened here from a spec: closed by close()
        if knowledge is None or knowledge is True:
            knowledge = default_knowledge_base()
        self.knowledge: KnowledgeBase | None = knowledge or None
        self.max_history_tokens = max_history_tokens
        self.ground = ground
        self.client_system = client_system
        self.language = self.prompt.language
        self.history: list[Message] = []
        self._notes_memo: dict[str, str] = {}

    @property
    def schema(self) -> dict[str, Any]:
        return SCHEMAS[self.prompt.schema or "consultation"]

    def reset(self) -> None:
        self.history = []

    def ask(self, text: str, params: GenerationParams | None = None) -> Answer:
        """Answer the next user message, with the conversation so far, and remember the turn."""
        conversation = [*self.history, Message("user", text)]
        answer = self.respond_batch([conversation], params=params)[0]
        self.history += [Message("user", text), Message("assistant", answer.text)]
        return answer

    def respond(self, conversation: list[Message] | list[dict[str, Any]], **kw: Any) -> Answer:
        """Answer a whole conversation (stateless; its last message is the user's)."""
        return self.respond_batch([conversation], **kw)[0]

    # --- pipeline --------------------------------------------------------------------------

    def budget(self, params: GenerationParams) -> int:
        return self.max_history_tokens or self.model.context_length - params.max_new_tokens

    def system_prompt(self, question: str, client_system: str | None = None) -> str:
        text = self.prompt.text.rstrip()
        if client_system and self.client_system == "replace":
            text = client_system.rstrip()
        elif client_system and self.client_system == "merge":
            text += EXTRA_SYSTEM[self.language] + client_system.strip()
        if self.ground and self.knowledge is not None:
            notes = self._notes(question)
            text += f"\n\n{notes}" if notes else ""
        return text

    def _notes(self, question: str) -> str:
        """Knowledge-base notes for a question, remembered: the server sizes a request and then
        answers it, and the same frequent questions come back."""
        if question not in self._notes_memo:
            if len(self._notes_memo) >= 1024:
                self._notes_memo.pop(next(iter(self._notes_memo)))
            self._notes_memo[question] = self.knowledge.ground(question)
        return self._notes_memo[question]

    def trim(self, messages: list[Message], budget: int, keep: int = 1) -> list[Message]:
        """Drop the oldest turns to fit: never the system prompt, never the last ``keep``
        messages (the question; for a repair also the first answer and the repair request)."""
        system, turns = messages[:1], list(messages[1:])
        while self.model.count_tokens(system + turns) > budget:
            last_cut = len(turns) - keep
            later_users = [i for i, m in enumerate(turns) if m.role == "user" and 0 < i <= last_cut]
            if not later_users:
                raise ValueError(
                    f"the system prompt and the last message take "
                    f"{self.model.count_tokens(system + turns)} tokens, over the budget of {budget}"
                )
            turns = turns[later_users[0] :]
        return system + turns

    def _split(self, conversation: list[Any]) -> tuple[Message, list[Message]]:
        """The system message this bot sends (its prompt, the caller's system messages merged
        in or in its place, knowledge-base notes when grounded) and the conversation's turns."""
        conv = as_conversation(conversation)
        client_system = "\n".join(m.content for m in conv if m.role == "system") or None
        turns = [m for m in conv if m.role != "system"]
        if not turns or turns[-1].role != "user":
            raise ValueError("the conversation must end with a user message")
        return Message("system", self.system_prompt(turns[-1].content, client_system)), turns

    def minimal_prompt(self, conversation: list[Any]) -> list[Message]:
        """The shortest prompt this bot can send for a conversation: its system message and
        the last user message (every older turn trimmed away)."""
        system, turns = self._split(conversation)
        return [system, turns[-1]]

    def _prepare(
        self, conversation: list[Any], params: GenerationParams
    ) -> tuple[str, list[Message]]:
        system, turns = self._split(conversation)
        return turns[-1].content, self.trim([system, *turns], self.budget(params))

    def _generate(
        self, conversations: list[list[Message]], params: GenerationParams, schema: dict | None
    ) -> list[Completion]:
        """One backend call for every conversation the cache does not already answer."""
        return CachedBackend(self.model, self.cache).generate(conversations, params, schema=schema)

    def close(self) -> None:
        """Close the response cache if the chatbot opened it (from a spec, not an object)."""
        if self.cache is not None and self._owns_cache:
            self.cache.close()

    def check(self, text: str, question: str, schema: dict | None) -> list[Violation]:
        """Post-check: the schema (structured) and the drug policy (no generic/brand/fabricated)."""
        if schema is not None:
            return validate_answer(text, schema, drug_policy=True, question=question)
        if not text.strip():
            return [Violation("empty", "$", "the answer is empty")]
        return drug_violations(text, question)

    def repair_message(self, violations: list[Violation], structured: bool) -> str:
        issues = "\n".join(f"- {v.code} ({v.path}): {v.message}" for v in violations[:8])
        return REPAIR[self.language].format(issues=issues, rules=RULES[self.language, structured])

    def fallback(self, question: str, schema: dict | None) -> str:
        lang = language_of(question) if question.strip() else self.language
        urgent = (
            self.knowledge is not None and self.knowledge.required_level(question) == "emergency"
        )
        data = FALLBACK[lang, urgent]
        if schema is None:
            return "\n".join([data["summary"], *data["analysis"], *data["suggestions"]])
        return json.dumps(data, ensure_ascii=False)

    def respond_batch(
        self,
        conversations: list[list[Message]] | list[list[dict[str, Any]]],
        params: GenerationParams | None = None,
        mode: str | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Answer]:
        """The full pipeline for many conversations: one generate call per stage."""
        start = time.perf_counter()
        params = params or self.params
        mode = mode or self.mode
        if schema is None and mode == "structured":
            schema = self.schema
        prepared = [self._prepare(c, params) for c in conversations]
        questions = [q for q, _ in prepared]
        messages = [m for _, m in prepared]
        first = self._generate(messages, params, schema)
        found = [self.check(c.text, q, schema) for c, q in zip(first, questions)]
        failed = [i for i, v in enumerate(found) if v]
        repaired: dict[int, Completion] = {}
        repair_found: dict[int, list[Violation]] = {}
        retry: dict[int, list[Message]] = {}
        for i in failed:
            request = [
                *messages[i],
                Message("assistant", first[i].text),
                Message("user", self.repair_message(found[i], schema is not None)),
            ]
            try:  # the question, the rejected answer and the request always go together
                retry[i] = self.trim(request, self.budget(params), keep=3)
            except ValueError:  # no room for a repair: the safe fallback answers
                repaired[i], repair_found[i] = first[i], found[i]
        if retry:
            fresh = self._generate(list(retry.values()), params, schema)
            for i, completion in zip(retry, fresh):
                repaired[i] = completion
                repair_found[i] = self.check(completion.text, questions[i], schema)
        latency = time.perf_counter() - start
        answers = []
        for i, question in enumerate(questions):
            second = repaired.get(i)
            completions = [
                first[i],
                *([second] if second is not None and second is not first[i] else []),
            ]
            use_fallback = i in repaired and bool(repair_found[i])
            text = self.fallback(question, schema) if use_fallback else completions[-1].text
            parsed = parse_json(text) if schema is not None else None
            data = parsed.value if parsed is not None and parsed.ok_lenient else None
            level = referral_level(answer_text(data if data is not None else text), question)
            answers.append(
                Answer(
                    text=text,
                    data=data,
                    violations=found[i],
                    referral_level=level,
                    latency_s=latency,
                    cached=all(c.cached for c in completions),
                    repaired=i in repaired and not use_fallback,
                    fallback=use_fallback,
                    knowledge_hits=self._hits(question),
                    kb_flags=self.knowledge.cross_check(question, level) if self.knowledge else [],
                    repair_violations=repair_found.get(i, []),
                    completions=completions,
                    messages=[m.to_dict() for m in messages[i]],
                )
            )
        return answers

    def _hits(self, question: str) -> list[dict[str, Any]]:
        if self.knowledge is None:
            return []
        return [
            {
                "id": h.condition.id,
                "name": h.condition.name_zh if self.language == "zh" else h.condition.name_en,
                "score": round(h.score, 3),
                "care_level": h.condition.care_level,
                "required": h.required,
            }
            for h in self.knowledge.search(question, k=3)
        ]
