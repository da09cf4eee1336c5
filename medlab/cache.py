"""Response cache: never pay twice for a generation medlab already has.

A cached answer is keyed by everything that determines it (model fingerprint, the messages the
model saw, generation parameters including the seed, the JSON Schema and the repeat index) and
comes back with its original timings and ``cached=True``, so latency statistics can leave it out.

Backends: SQLite (default, ``$MEDLAB_HOME/cache.sqlite``, WAL journal so several processes can
share it) and Redis (redis-py, with a TTL, like the reference chatbot's 1 h cache of frequent
questions). When the Redis server goes away mid-run the cache warns once and the run goes on
uncached. So does a SQLite file that is not a database or is damaged (reported once, with its
path); a row that cannot be read back is a miss.

``cache_key`` and the ``ResponseCache`` protocol are defined beside the caching backend wrapper
(:mod:`medlab.models.cached`, a layer below) and re-exported here. Whoever opens a cache closes
it: ``run_eval`` and ``judge`` close a cache they opened from a spec, never one passed in.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from medlab.defaults import medlab_home
from medlab.models.cached import ResponseCache, cache_key
from medlab.types import Completion

__all__ = ["RedisCache", "ResponseCache", "SQLiteCache", "cache_key", "open_cache"]


def _dump(completion: Completion) -> str:
    d = completion.to_dict()
    d["cached"] = False  # stored as generated; flagged when served
    return json.dumps(d, ensure_ascii=False)


def _load(raw: str | bytes) -> Completion:
    c = Completion.from_dict(json.loads(raw))
    c.cached = True
    return c


class SQLiteCache:
    """A key -> completion table in one SQLite file, safe for concurrent processes (WAL).

    A file that is not a SQLite database, or a damaged one, turns the cache off with one
    warning naming the file (the run goes on uncached, as when Redis is down); a row that is
    not a stored completion is a miss, also reported once."""

    def __init__(self, path: str | Path | None = None, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path else medlab_home() / "cache.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._timeout = timeout_s
        self._local = threading.local()
        self.available = True
        self._bad_rows = 0
        try:
            with self._conn() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS responses "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
                )
        except sqlite3.DatabaseError as e:
            self._broken(e)

    def _broken(self, error: BaseException) -> None:
        if self.available:
            warnings.warn(
                f"response cache {self.path} is unreadable ({error}); continuing without a "
                "cache (move or delete the file to start a new one)",
                RuntimeWarning,
                stacklevel=3,
            )
        self.available = False

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Completion | None:
        if not self.available:
            return None
        try:
            row = (
                self._conn().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            )
        except sqlite3.DatabaseError as e:
            self._broken(e)
            return None
        if not row:
            return None
        try:
            return _load(row[0])
        except (ValueError, TypeError, AttributeError) as e:  # not a stored completion: a miss
            if not self._bad_rows:
                warnings.warn(
                    f"response cache {self.path}: unreadable row for key {key[:12]} ({e}); "
                    "treated as a miss (further bad rows are not reported)",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._bad_rows += 1
            return None

    def put(self, key: str, completion: Completion) -> None:
        if not self.available:
            return
        try:
            with self._conn() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
                    (key, _dump(completion), time.time()),
                )
        except sqlite3.DatabaseError as e:
            self._broken(e)

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r})"


class RedisCache:
    """Completions in Redis with a TTL; degrades to "no cache" (one warning) if the server dies."""

    def __init__(
        self, url: str, ttl_s: int | None = 3600, prefix: str = "medlab:", timeout_s: float = 2.0
    ) -> None:
        import redis

        self.url = url
        self.ttl_s = ttl_s
        self.prefix = prefix
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self.available = True
        try:
            self._client.ping()
        except self._errors as e:
            self._gone(e)

    def _gone(self, error: BaseException) -> None:
        if self.available:
            warnings.warn(
                f"Redis cache at {self.url} is unreachable ({error}); continuing without a cache",
                RuntimeWarning,
                stacklevel=3,
            )
        self.available = False

    def get(self, key: str) -> Completion | None:
        if not self.available:
            return None
        try:
            raw = self._client.get(self.prefix + key)
        except self._errors as e:
            self._gone(e)
            return None
        return _load(raw) if raw is not None else None

    def put(self, key: str, completion: Completion) -> None:
        if not self.available:
            return
        try:
            self._client.set(self.prefix + key, _dump(completion), ex=self.ttl_s or None)
        except self._errors as e:
            self._gone(e)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisCache({self.url!r}, ttl_s={self.ttl_s})"


def open_cache(spec: Any = "sqlite", ttl_s: int | None = 3600) -> ResponseCache | None:
    """Open a cache from a spec.

    ``"sqlite"``: the default SQLite file; ``"off"``/``None``/``False``: no cache; a path
    (``*.sqlite`` or any file name): that SQLite file; ``"redis://..."``/``"rediss://..."``: Redis
    with ``ttl_s``; an object with ``get``/``put``: used as is. The TTL applies to Redis only:
    the SQLite cache keeps answers until its file is deleted.
    """
    if spec is None or spec is False or spec in ("off", "none", ""):
        return None
    if hasattr(spec, "get") and hasattr(spec, "put"):
        return spec
    if isinstance(spec, Path):
        return SQLiteCache(spec)
    if not isinstance(spec, str):
        raise ValueError(f"cache spec must be 'sqlite', 'off', a path or redis://..., got {spec!r}")
    if spec == "sqlite":
        return SQLiteCache()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(spec, ttl_s=ttl_s)
    if "://" in spec:
        raise ValueError(f"unknown cache URL scheme in {spec!r}: use redis://host:port/db")
    return SQLiteCache(spec)
