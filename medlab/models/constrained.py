"""JSON-Schema-constrained decoding for the transformers backend, with outlines.

outlines (``outlines_core``) turns a JSON Schema into a regular expression and then into an
index over the tokenizer's vocabulary: for every state, which tokens keep the output on a path
to valid JSON. Building that index is the slow part (~3 s with Qwen2.5's 151k-token
vocabulary), so it is compiled once per (tokenizer, schema) and kept for the life of the
process. Each ``generate`` call gets a fresh, cheap logits processor on top of the shared
index (a processor is stateful: one guide per sequence of the batch).

Whitespace between JSON tokens is limited to at most one space, so a weak model cannot spend
its whole token budget on newlines between fields; schemas should bound their strings
(``maxLength``) and arrays (``maxItems``) for the same reason.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

# one optional space between JSON tokens: compact, still readable, and always terminates
WHITESPACE_PATTERN = r"[ ]?"

_lock = threading.Lock()
_vocabularies: dict[tuple, Any] = {}
_indexes: dict[tuple, Any] = {}
compile_seconds: dict[tuple, float] = {}  # (tokenizer key, schema json) -> one-off compile time


def _require_outlines() -> None:
    try:
        import outlines  # noqa: F401
        import outlines_core  # noqa: F401
    except ImportError as e:  # pragma: no cover - the dev extra installs it
        raise ImportError(
            "structured output needs outlines: pip install 'medlab[structured]'"
        ) from e


def _tokenizer_key(tokenizer: Any) -> tuple:
    return (tokenizer.name_or_path, len(tokenizer), tokenizer.eos_token_id)


def schema_json(schema: dict[str, Any] | str) -> str:
    """Canonical JSON text of a schema (sorted keys), used as the cache key."""
    if isinstance(schema, str):
        schema = json.loads(schema)
    if not isinstance(schema, dict):
        raise TypeError(f"schema must be a JSON Schema dict, got {type(schema).__name__}")
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)


def _vocabulary(tokenizer: Any) -> Any:
    key = _tokenizer_key(tokenizer)
    if key not in _vocabularies:
        from outlines.backends.outlines_core import OutlinesCoreBackend
        from outlines.models.transformers import TransformerTokenizer

        if tokenizer.eos_token_id is None:
            raise ValueError(
                f"tokenizer {tokenizer.name_or_path!r} has no eos token: constrained decoding "
                "needs one to end the JSON"
            )
        wrapped = TransformerTokenizer(tokenizer)
        _vocabularies[key] = OutlinesCoreBackend.create_outlines_core_vocabulary(
            tokenizer.get_vocab(),
            tokenizer.eos_token_id,
            tokenizer.eos_token,
            wrapped.convert_token_to_string,
        )
    return _vocabularies[key]


def compiled_index(tokenizer: Any, schema: dict[str, Any] | str) -> Any:
    """The outlines_core ``Index`` for this tokenizer and schema, compiled on first use."""
    _require_outlines()
    text = schema_json(schema)
    key = (_tokenizer_key(tokenizer), text)
    with _lock:  # replicas share one index; compile it once, not once per thread
        if key not in _indexes:
            from outlines_core import Index
            from outlines_core.json_schema import build_regex_from_schema

            start = time.perf_counter()
            regex = build_regex_from_schema(text, WHITESPACE_PATTERN)
            _indexes[key] = Index(regex, _vocabulary(tokenizer))
            compile_seconds[key] = time.perf_counter() - start
        return _indexes[key]


def json_logits_processor(tokenizer: Any, schema: dict[str, Any] | str) -> Any:
    """A fresh logits processor (usable for one ``model.generate`` call) for the schema."""
    from outlines.backends.outlines_core import OutlinesCoreLogitsProcessor

    return OutlinesCoreLogitsProcessor(compiled_index(tokenizer, schema), "torch")


def clear_cache() -> None:
    """Forget compiled indexes (benchmarks use it to time a cold compile)."""
    with _lock:
        _vocabularies.clear()
        _indexes.clear()
        compile_seconds.clear()
