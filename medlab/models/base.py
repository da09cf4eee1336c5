"""The one protocol every model backend implements, and the ``load_model`` dispatcher."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from medlab.types import Completion, Conversation, GenerationParams, Message


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
