"""Where the lexicon's data files are: ``medlab/lexicon/data``, or ``$MEDLAB_LEXICON_DIR``."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    env = os.environ.get("MEDLAB_LEXICON_DIR")
    return Path(env) if env else Path(__file__).resolve().parent / "data"


__all__ = ["data_dir"]
