"""Answers of repeated query batches, kept until the data they were computed from changes.

A dashboard asks the same batches again and again between two pushes of events. The database
keeps one number, `metrics.data_version`, that every transaction writing the rollups or the
catalogue bumps once, inside that transaction (migration 0005). An answer is stored under the version
read before it was computed and the exact request body; a batch is served from memory only
while the version is still the one it was stored under, so a caller that has just pushed
events (and got its answer, so they are committed) never reads an answer older than its push.
Answers computed while a write commits may be newer than their version: never older.
"""

from __future__ import annotations

import hashlib

from cachetools import LRUCache
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.settings import get_settings

QUERY_CACHE = Counter(
    "pacer_query_cache_total",
    "Query batches answered from the cache (hit) or computed (miss).",
    ["result"],
)
# An answer bigger than this share of the cache is not kept: it would push out many others.
_LARGEST_SHARE = 8

_VERSION = text("select version from metrics.data_version")


class AnswerCache:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self._answers: LRUCache[bytes, bytes] = LRUCache(maxsize=max(1, capacity_bytes), getsizeof=len)
        self._version: int | None = None

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    async def version(self, session: AsyncSession) -> int:
        version = int((await session.execute(_VERSION)).scalar_one())
        if version != self._version:
            # Everything kept was computed from older data.
            self._answers.clear()
            self._version = version
        return version

    @staticmethod
    def key(version: int, body: bytes) -> bytes:
        return version.to_bytes(8, "big", signed=True) + hashlib.blake2b(body, digest_size=20).digest()

    def get(self, key: bytes) -> bytes | None:
        answer = self._answers.get(key)
        QUERY_CACHE.labels(result="hit" if answer is not None else "miss").inc()
        return answer

    def put(self, key: bytes, answer: bytes) -> None:
        if len(answer) <= self.capacity // _LARGEST_SHARE:
            self._answers[key] = answer


_cache: AnswerCache | None = None


def answer_cache() -> AnswerCache:
    """The process's cache (each worker process has its own)."""
    global _cache
    if _cache is None:
        _cache = AnswerCache(get_settings().query_cache_mb * 2**20)
    return _cache
