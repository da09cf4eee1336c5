"""Lexicon structures built once and then loaded, so that a new process does not build them.

The drug detector's automata, the drug-name table and the word lists the invented-drug
detector weighs its evidence with take about a quarter of a second to build from the shipped
files, on every process's first scored answer; loading them back with ``pickle`` takes a third
of that. ``compiled(name, build)`` returns ``build()``'s result, kept in
``$MEDLAB_HOME/lexicon/<name>-<key>.pickle``.

The key is a SHA-256 over every file of the lexicon folder (``MEDLAB_LEXICON_DIR`` included),
the source of the lexicon package, the source of the module that defines ``build``, any
``extra`` key parts (a library version) and the Python version, so that an edited lexicon or
an edited builder is built afresh: a stale file is never read. Writing is atomic (a temporary
file renamed into place), so processes that build at once never see half a file; only the
three newest files of a name are kept. A folder that cannot be written means building in every
process; a file that cannot be read is built again and replaced. ``MEDLAB_LEXICON_CACHE=off``
turns the store off. Errors of the build (a malformed lexicon row) are raised as they are and
nothing is stored.

The files are pickles written by medlab into the user's own folder, like the response cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from medlab.defaults import medlab_home
from medlab.lexicon.files import data_dir

T = TypeVar("T")
KEEP = 3  # newest files kept per name
_PACKAGE = Path(__file__).resolve().parent


def store_dir() -> Path:
    return medlab_home() / "lexicon"


def enabled() -> bool:
    return os.environ.get("MEDLAB_LEXICON_CACHE", "").lower() not in ("off", "0", "false", "no")


def _digest_files(h, paths: list[Path]) -> None:
    for path in paths:
        h.update(path.name.encode("utf-8") + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")


def key(build: Callable[[], object], extra: tuple[str, ...] = ()) -> str:
    """The store key of ``build``'s result on the current lexicon files and sources."""
    h = hashlib.sha256()
    h.update(f"{sys.version_info[:3]}|{pickle.HIGHEST_PROTOCOL}|{'|'.join(extra)}\0".encode())
    data = sorted(p for p in data_dir().iterdir() if p.is_file())
    _digest_files(h, data)
    sources = sorted(_PACKAGE.glob("*.py"))
    builder = Path(build.__code__.co_filename).resolve()
    if builder not in sources:
        sources.append(builder)
    _digest_files(h, sources)
    h.update(f"{build.__module__}.{build.__qualname__}".encode())
    return h.hexdigest()[:24]


def compiled(name: str, build: Callable[[], T], extra: tuple[str, ...] = ()) -> T:
    """``build()``, loaded from the store when it was built before on the same files."""
    if not enabled():
        return build()
    path = store_dir() / f"{name}-{key(build, extra)}.pickle"
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except OSError:  # not built yet, or a folder that cannot be read: build it
        pass
    except Exception as exc:  # a truncated or foreign file: build it again and replace it
        warnings.warn(f"{path}: unreadable ({exc!r}); building it again", stacklevel=2)
    value = build()
    _store(path, value)
    return value


def _store(path: Path, value: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        name = path.stem.rsplit("-", 1)[0]
        siblings = sorted(
            path.parent.glob(f"{name}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in siblings[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:  # a read-only or full home folder: build in every process instead
        pass


__all__ = ["compiled", "enabled", "key", "store_dir"]
