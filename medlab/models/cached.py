"""A backend that answers from the response cache first: ``CachedBackend(backend, cache)``.

It has the backends' ``generate(conversations, params, schema)``. Each conversation's
``cache_key`` (model fingerprint, the messages exactly as the model sees them, the generation
parameters with the seed, the JSON Schema and the repeat index) is looked up in the cache; only
the misses go to the backend, in one call, and their answers are stored. A cached answer comes
back with its original timings and ``cached=True``. The runner, the chatbot and the judge all
generate through it, so this loop exists once.

The cache is any object with ``get(key) -> Completion | None`` and ``put(key, completion)``
(:class:`ResponseCache`: the SQLite and Redis caches of :mod:`medlab.cache`, or one of your own),
or None for no cache. The wrapper never closes it: whoever opened a cache closes it.

The key function and the cache protocol live here, below :mod:`medlab.cache` (which re-exports
them), so that imports point down the layers: models must not import the cache module above it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from medlab.models.base import BatchError
from medlab.types import Completion, GenerationParams, Message

log = logging.getLogger(__name__)


def _canonical_schema(node: Any, fields: bool = False) -> Any:
    """A schema with its keys sorted, except the order of the fields under ``properties``:
    constrained decoding writes the fields in that order, at every depth."""
    if isinstance(node, dict):
        keys = list(node) if fields else sorted(node)
        return [[k, _canonical_schema(node[k], fields=k == "properties" and not fields)]
                for k in keys]  # fmt: skip
    if isinstance(node, list):
        return [_canonical_schema(x) for x in node]
    return node


def cache_key(
    fingerprint: str,
    messages: list[Message] | list[dict[str, Any]] | str,
    params: GenerationParams | dict[str, Any] | None,
    schema: dict[str, Any] | None,
    repeat: int = 0,
) -> str:
    """sha256 of a canonical JSON of everything that determines an answer.

    ``messages`` is the conversation exactly as the model sees it (system prompt included) or
    its rendered chat-template string.
    """
    if isinstance(messages, str):
        msgs: Any = messages
    else:
        msgs = [Message.coerce(m).to_dict() for m in messages]
    if params is None:
        params = GenerationParams()
    p = params.to_dict() if isinstance(params, GenerationParams) else dict(params)
    payload = {
        "fingerprint": fingerprint,
        "messages": msgs,
        "params": p,
        "schema": None if schema is None else json.dumps(_canonical_schema(schema)),
        "seed": p.get("seed"),
        "repeat": repeat,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache(Protocol):
    """What a response cache offers (its owner also closes it)."""

    def get(self, key: str) -> Completion | None: ...

    def put(self, key: str, completion: Completion) -> None: ...

    def close(self) -> None: ...


class CachedBackend:
    """``backend`` answering from ``cache`` first; every other attribute is the backend's.

    ``hits`` and ``misses`` count the conversations answered from the cache and sent to the
    backend since the wrapper was made.
    """

    def __init__(self, backend: Any, cache: ResponseCache | None) -> None:
        self.backend = backend
        self.cache = cache
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:  # name, fingerprint, count_tokens, info, ...
        if name == "backend":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.backend, name)

    def __repr__(self) -> str:
        return f"CachedBackend({self.backend!r}, {self.cache!r})"

    def generate(
        self,
        conversations: Sequence[Any],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
        repeat: int | Sequence[int] = 0,
    ) -> list[Completion]:
        """One answer per conversation: cached ones from the cache, the others from one backend
        call (then stored). ``repeat``: the repeat index of every conversation, or of each.

        A backend failure is raised as it came; a ``BatchError`` (some requests failed) is
        raised with one entry per conversation given here, the cached answers included, after
        the answers that did come back are stored.
        """
        keys, out = self._lookup(conversations, params, schema, repeat)
        self._fill(conversations, params, schema, keys, out)
        return out  # type: ignore[return-value]

    def answer(
        self,
        conversations: Sequence[Any],
        params: GenerationParams | None = None,
        schema: dict[str, Any] | None = None,
        repeat: int | Sequence[int] = 0,
    ) -> tuple[list[Completion | None], list[str | None]]:
        """As ``generate``, but a failure is an error message per conversation, not an
        exception: (answers, errors), an answer None where its error says why. The cached
        answers and those a partly failed call returned are kept (a run records the failed
        ones as error samples and retries them on resume)."""
        keys, out = self._lookup(conversations, params, schema, repeat)
        errors: list[str | None] = [None] * len(out)
        try:
            self._fill(conversations, params, schema, keys, out)
        except BatchError as e:  # some requests failed: keep the answers of the others
            failed = [m for m in e.errors if m is not None]
            log.warning("%d of %d requests failed: %s", len(failed), len(out), failed[:1])
            return list(e.completions), list(e.errors)
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
            log.warning("a batch of %d failed: %s", sum(c is None for c in out), error)
            errors = [error if c is None else None for c in out]
        return out, errors

    def _lookup(
        self,
        conversations: Sequence[Any],
        params: GenerationParams | None,
        schema: dict[str, Any] | None,
        repeat: int | Sequence[int],
    ) -> tuple[list[str], list[Completion | None]]:
        repeats = [repeat] * len(conversations) if isinstance(repeat, int) else list(repeat)
        if len(repeats) != len(conversations):
            raise ValueError(
                f"{len(repeats)} repeat indices for {len(conversations)} conversations"
            )
        fingerprint = self.backend.fingerprint
        keys = [
            cache_key(fingerprint, c, params, schema, r) for c, r in zip(conversations, repeats)
        ]
        out = [self.cache.get(k) if self.cache is not None else None for k in keys]
        hits = sum(c is not None for c in out)
        self.hits += hits
        self.misses += len(out) - hits
        return keys, out

    def _fill(
        self,
        conversations: Sequence[Any],
        params: GenerationParams | None,
        schema: dict[str, Any] | None,
        keys: list[str],
        out: list[Completion | None],
    ) -> None:
        """Generate the misses of ``out`` in one call, store and place them."""
        todo = [i for i, c in enumerate(out) if c is None]
        if not todo:
            return
        try:
            fresh: list[Completion | None] = list(
                self.backend.generate([conversations[i] for i in todo], params, schema=schema)
            )
        except BatchError as e:  # keep the answers paid for, then report the failure
            errors: list[str | None] = [None] * len(out)
            for i, c, error in zip(todo, e.completions, e.errors):
                out[i], errors[i] = c, error
                self._put(keys[i], c)
            raise BatchError(list(out), errors) from e
        if len(fresh) != len(todo):
            raise RuntimeError(f"backend returned {len(fresh)} answers for {len(todo)}")
        for i, c in zip(todo, fresh):
            out[i] = c
            self._put(keys[i], c)

    def _put(self, key: str, completion: Completion | None) -> None:
        if completion is not None and self.cache is not None:
            self.cache.put(key, completion)
