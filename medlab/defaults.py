"""medlab's defaults, in one place: the home folder and the generation settings every entry point
starts from (the API's ``GenerationParams``, the command line, the backends, the server).

``medlab_home()`` is ``$MEDLAB_HOME`` (``~`` expanded), default ``~/.cache/medlab``: stand-in
models, the SQLite response cache and remembered model fingerprints live under it.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_NEW_TOKENS = 512  # new tokens per answer: GenerationParams, `medlab eval`, `medlab chat`
BATCH_SIZE = 16  # answers generated at once: transformers batch, HTTP concurrency, serve batch


def medlab_home() -> Path:
    """medlab's own folder: ``$MEDLAB_HOME`` with ``~`` expanded, default ``~/.cache/medlab``
    (an empty ``MEDLAB_HOME`` counts as unset)."""
    return Path(os.environ.get("MEDLAB_HOME") or "~/.cache/medlab").expanduser()
