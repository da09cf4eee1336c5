"""The one protocol every model backend implements, and the ``load_model`` dispatcher."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from medlab.types import Completion, Conversation, GenerationParams, Message

# Constrained JSON is written as json.dumps writes it: ", " and ": " between items, no other
# whitespace (a weak model would otherwise spend its whole token budget on newlines between
# fields). The llguidance options of every engine that constrains decoding (transformers
# in-process, vLLM's guidance backend), so that engines give the same greedy answers.
JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


class BatchError(RuntimeError):
    """Some conversations of one ``generate`` call failed, the others were answered.

    A backend that answers requests independently (an HTTP server) raises it instead of
    dropping the whole batch: ``completions[i]`` is the answer to conversation ``i`` or None,
    ``errors[i]`` the message of its failure or None. Callers keep the answers they paid for.
    """

    def __init__(self, completions: list[Completion | None], errors: list[str | None]):
        if len(completions) != len(errors):
            raise ValueError("completions and errors must have one entry per conversation")
        self.completions, self.errors = completions, errors
        failed = [e for e in errors if e is not None]
        super().__init__(f"{len(failed)} of {len(errors)} requests failed; first: {failed[:1]}")


@runtime_checkable
class Backend(Protocol):
    """A model that answers conversations.

    ``name`` is what users passed to ``load_model``; ``fingerprint`` identifies the exact weights
    (hub revision or a hash of the weight files) and goes into cache keys and run records.
    ``context_length`` is the largest prompt + completion the model accepts.
    """

    name: str
    fingerprint: str
    context_length: int

    def generate(
        self,
        conversations: list[Conversation] | list[list[Message]] | list[list[dict[str, Any]]],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """Answer each conversation; constrain the output to the JSON Schema when given."""
        ...

    def count_tokens(self, conversation: Conversation) -> int:
        """Prompt tokens the conversation takes once rendered with the chat template."""
        ...

    def info(self) -> dict[str, Any]:
        """Model description for run records: name, fingerprint, revision, dtype, devices..."""
        ...
