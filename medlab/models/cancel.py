"""Cooperative cancellation of a generation whose callers went away.

``medlab serve`` runs each batch inside ``cancel_scope(check)``, where ``check()`` says whether
every client of the batch has disconnected. A backend that decodes step by step (the
transformers one) reads ``current_check()`` when ``generate`` starts and stops decoding at the
next step once it returns True, raising :class:`GenerationCancelled`. Outside a scope nothing
is ever cancelled, so the runner and notebooks are unaffected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_local = threading.local()


class GenerationCancelled(RuntimeError):
    """Generation stopped early because nobody waits for its answers any more."""


@contextmanager
def cancel_scope(check: Callable[[], bool]) -> Iterator[None]:
    """Within this block (in this thread), generation stops once ``check()`` is True."""
    previous = getattr(_local, "check", None)
    _local.check = check
    try:
        yield
    finally:
        _local.check = previous


def current_check() -> Callable[[], bool] | None:
    """The cancel check of the enclosing scope in this thread, or None."""
    return getattr(_local, "check", None)
