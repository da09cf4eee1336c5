"""JSON-Schema-constrained decoding for the transformers backend.

At every decoding step a token mask allows only the tokens that keep the answer on a path to
JSON valid under the schema; once the JSON is complete only the end token is allowed.

The masks come from llguidance, the grammar engine that outlines ships as its
``LLGuidanceBackend``. outlines' default engine (outlines_core) compiles the whole schema into
a token-level automaton up front, and bounded strings (``maxLength``, which a weak model needs
to terminate) unroll into one state per character: with Qwen2.5's 151k-token vocabulary the
consultation schema with ``maxLength: 200`` took ~300 s to compile (30 s at 20, 80 s at 50).
llguidance builds masks lazily with an Earley parser over a regex lexer, so a schema is ready
in milliseconds and a mask costs well under a millisecond per sequence.

The llguidance tokenizer (~1 s to build) and each schema's grammar are compiled once and kept
for the life of the process; each ``generate`` call gets a fresh processor with one matcher per
sequence of the batch.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from medlab.models.base import JSON_OPTIONS

_lock = threading.Lock()
_tokenizers: dict[tuple, Any] = {}
_grammars: dict[str, str] = {}
_executor: Any = None
compile_seconds: dict[str, float] = {}  # schema json -> one-off compile time


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf  # noqa: F401  (not llguidance.torch: it starts torch.compile)
    except ImportError as e:  # pragma: no cover - the dev extra installs it
        raise ImportError(
            "structured output needs llguidance: pip install 'medlab[structured]'"
        ) from e
    return llguidance


def schema_json(schema: dict[str, Any] | str) -> str:
    """JSON text of a schema, keys in their given order: the grammar's cache key.

    Not sorted: the order of ``properties`` is the order the fields are written in
    (``summary`` first, as the prompts ask), so two orders are two grammars.
    """
    if isinstance(schema, str):
        schema = json.loads(schema)
    if not isinstance(schema, dict):
        raise TypeError(f"schema must be a JSON Schema dict, got {type(schema).__name__}")
    return json.dumps(schema, ensure_ascii=False)


def llg_tokenizer(tokenizer: Any, n_vocab: int) -> Any:
    """The llguidance view of a transformers fast tokenizer, built once per tokenizer."""
    llg = _llguidance()
    if tokenizer.eos_token_id is None:
        raise ValueError(
            f"tokenizer {tokenizer.name_or_path!r} has no eos token: constrained decoding "
            "needs one to end the JSON"
        )
    n_vocab = max(n_vocab, len(tokenizer))  # masks are cut to the logits' width when applied
    key = (tokenizer.name_or_path, len(tokenizer), tokenizer.eos_token_id, n_vocab)
    with _lock:
        if key not in _tokenizers:
            _tokenizers[key] = llg.hf.from_tokenizer(tokenizer, n_vocab=n_vocab)
        return _tokenizers[key]


def compile_schema(schema: dict[str, Any] | str, tokenizer: Any, n_vocab: int) -> str:
    """The llguidance grammar for a JSON Schema; raises ValueError when the schema is invalid."""
    llg = _llguidance()
    text = schema_json(schema)
    llg_tok = llg_tokenizer(tokenizer, n_vocab)
    with _lock:
        if text not in _grammars:
            start = time.perf_counter()
            grammar = llg.LLMatcher.grammar_from_json_schema(text, defaults=JSON_OPTIONS)
            is_error, messages = llg.LLMatcher.validate_grammar_with_warnings(grammar, llg_tok)
            if is_error:
                raise ValueError(f"invalid JSON Schema for constrained decoding: {messages[0]}")
            _grammars[text] = grammar
            compile_seconds[text] = time.perf_counter() - start
        return _grammars[text]


class JsonSchemaProcessor(LogitsProcessor):
    """Masks the logits of each sequence to the tokens its JSON Schema allows next.

    Works on left-padded batches (it only reads each row's newest token). A row that has ended
    (JSON complete and end token emitted) is left unmasked: its later tokens are padding that
    the backend discards.
    """

    def __init__(self, tokenizer: Any, schema: dict[str, Any] | str, n_vocab: int):
        global _executor
        self.llg = _llguidance()
        self.grammar = compile_schema(schema, tokenizer, n_vocab)
        self.llg_tok = llg_tokenizer(tokenizer, n_vocab)
        with _lock:
            if _executor is None:
                _executor = self.llg.LLExecutor()
        self.matchers: list[Any] | None = None
        self.bitmask: torch.Tensor | None = None
        self.bits: torch.Tensor | None = None
        self.ended: list[bool] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        batch, vocab = scores.shape
        if self.matchers is None:  # first step: nothing generated yet
            self.matchers = [self.llg.LLMatcher(self.llg_tok, self.grammar) for _ in range(batch)]
            words = (self.llg_tok.vocab_size + 31) // 32  # one bit per token, packed in int32
            self.bitmask = torch.full((batch, words), -1, dtype=torch.int32)
            self.bits = torch.arange(32, dtype=torch.int32, device=scores.device)
            self.ended = [False] * batch
        else:
            for i, token in enumerate(input_ids[:, -1].tolist()):
                matcher = self.matchers[i]
                if self.ended[i]:
                    continue
                if matcher.is_stopped():  # it only allowed the end token, which came
                    self.ended[i] = True
                    continue
                matcher.consume_token(token)
                self.ended[i] = matcher.is_error() or (
                    matcher.is_stopped() and token in self.llg_tok.eos_tokens
                )
        live = [(m, i) for i, m in enumerate(self.matchers) if not self.ended[i]]
        self.bitmask.fill_(-1)  # stopped rows: everything allowed (their output is discarded)
        if live:
            row_bytes = self.bitmask.shape[1] * 4
            _executor.unsafe_compute_mask_ptr(live, self.bitmask.data_ptr(), row_bytes, batch)
        if scores.device.type == "cpu":  # numpy unpacks bits ~10x faster than shifts on CPU
            bits = np.unpackbits(self.bitmask.numpy().view(np.uint8), axis=1, bitorder="little")
            allowed = torch.from_numpy(bits)
        else:  # one host-to-device copy of the packed mask, unpacked on the device
            mask = self.bitmask.to(scores.device, non_blocking=True)
            allowed = ((mask[:, :, None] >> self.bits) & 1).reshape(batch, -1)
        allowed = allowed[:, :vocab]
        if allowed.shape[1] < vocab:  # logits wider than the tokenizer: extra ids never allowed
            pad = torch.zeros(batch, vocab - allowed.shape[1], dtype=allowed.dtype)
            allowed = torch.cat([allowed, pad.to(scores.device)], dim=1)
        return scores.masked_fill_(allowed == 0, float("-inf"))

    def errors(self) -> list[str]:
        """Matcher errors, one per row ('' when fine); a non-empty one is a bug to report."""
        return [m.get_error() for m in self.matchers or []]


def clear_cache() -> None:
    """Forget compiled grammars and tokenizers (benchmarks use it to time a cold compile)."""
    with _lock:
        _tokenizers.clear()
        _grammars.clear()
        compile_seconds.clear()
