"""Answers kept in memory until the data they were computed from changes.

Two layers, both keyed by what the database says changed:
- A whole batch asked again byte for byte (a dashboard reloaded) is served as it was answered,
  while `metrics.data_version` is the number it was answered at. Every transaction that writes
  the rollups or the catalogue bumps that number once, inside itself (migration 0005), so a
  caller that has just pushed events never reads a batch answered before its push.
- A single query of a batch is served from an earlier answer while none of the business
  months it reads, of none of the base metrics it reads, changed since that answer was
  computed: migration 0007 records, per metric and month, the version that last wrote its
  rollups, and the version at which everything changed (the catalogue edited, a rollup table
  truncated). So a push of today's events recomputes the queries over this month, and last
  year's seasonal profiles are not computed again. The time of the latest event is no part of
  a kept query answer: it is read afresh for every query that asks for it.

Answers computed while a write commits may be newer than the version they are kept under:
never older.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cachetools import LRUCache
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.catalogue.service import Catalogue, kept_catalogue
from shared.periods import next_month
from shared.settings import get_settings

QUERY_CACHE = Counter(
    "pacer_query_cache_total",
    "Query batches (level=batch) and single queries of computed batches (level=query) answered "
    "from memory (hit) or computed (miss).",
    ["level", "result"],
)
_COUNTED = {
    (level, found): QUERY_CACHE.labels(level=level, result="hit" if found else "miss")
    for level in ("batch", "query")
    for found in (True, False)
}
# An answer bigger than this share of its layer is not kept: it would push out many others.
_LARGEST_SHARE = 8
# Of the memory: a quarter for whole batches, the rest for single queries.
_BATCH_SHARE = 4

# One statement: the versions and the changes since the last read are one snapshot.
_STATE = text(
    """
    select v.version, v.everything_changed_at, c.metric, c.month, c.version
    from metrics.data_version v
    left join metrics.data_changes c on c.version > :since
    """
)

Month = tuple[str, date]  # (base metric, first day of a business month)


@dataclass(frozen=True, slots=True)
class _Kept:
    version: int
    months: tuple[Month, ...]
    answer: dict[str, Any]
    size: int


def months_read(metrics: Iterable[str], start: date, end: date) -> tuple[Month, ...]:
    """The (metric, month) pairs a query over [start, end] of these base metrics reads."""
    return _months_read(tuple(sorted(metrics)), start, end)


@functools.lru_cache(maxsize=4096)
def _months_read(metrics: tuple[str, ...], start: date, end: date) -> tuple[Month, ...]:
    firsts = []
    month = start.replace(day=1)
    while month <= end:
        firsts.append(month)
        month = next_month(month)
    return tuple((metric, first) for metric in metrics for first in firsts)


class AnswerCache:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self._batch_capacity = capacity_bytes // _BATCH_SHARE
        self._query_capacity = capacity_bytes - self._batch_capacity
        self._batches: LRUCache[bytes, bytes] = LRUCache(maxsize=max(1, self._batch_capacity), getsizeof=len)
        self._queries: LRUCache[bytes, _Kept] = LRUCache(
            maxsize=max(1, self._query_capacity), getsizeof=lambda kept: kept.size
        )
        self._version: int | None = None
        self._everything_changed_at = 0
        self._changed: dict[Month, int] = {}

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    async def version(self, session: AsyncSession) -> int:
        """The current data version; learns which months changed since the last call."""
        since = self._version if self._version is not None else -1
        rows = (await session.execute(_STATE, {"since": since})).all()
        version, everything_changed_at = int(rows[0][0]), int(rows[0][1])
        # Concurrent requests may read in any order: keep the newest of everything.
        for _, _, metric, month, changed_at in rows:
            if metric is not None and changed_at > self._changed.get((metric, month), 0):
                self._changed[(metric, month)] = changed_at
        self._everything_changed_at = max(self._everything_changed_at, everything_changed_at)
        if self._version is None or version > self._version:
            # Every batch kept was answered at an older version.
            self._batches.clear()
            self._version = version
        return version

    async def catalogue(self, session: AsyncSession) -> Catalogue:
        """The catalogue, read again only when a definition may have changed since it was read
        (after `version`: never older than the version that call read)."""
        return await kept_catalogue().as_of(session, self._everything_changed_at)

    # Whole batches.

    @staticmethod
    def key(version: int, body: bytes) -> bytes:
        return version.to_bytes(8, "big", signed=True) + hashlib.blake2b(body, digest_size=20).digest()

    def get(self, key: bytes) -> bytes | None:
        answer = self._batches.get(key)
        _COUNTED["batch", answer is not None].inc()
        return answer

    def put(self, key: bytes, answer: bytes) -> None:
        if len(answer) <= self._batch_capacity // _LARGEST_SHARE:
            self._batches[key] = answer

    # Single queries.

    @staticmethod
    def query_key(query: Any) -> bytes:
        """What a query asks, without its id, and without `last_event`: the latest event time is
        no part of a kept answer (read afresh, or left null, for each query)."""
        asked = query.model_dump_json(exclude={"id", "last_event"})
        return hashlib.blake2b(asked.encode(), digest_size=20).digest()

    def _holds(self, kept: _Kept) -> bool:
        if self._everything_changed_at > kept.version:
            return False
        changed = self._changed
        return all(changed.get(month, 0) <= kept.version for month in kept.months)

    def answer(self, key: bytes) -> dict[str, Any] | None:
        """A query's answer computed before, when nothing it reads has changed since."""
        kept = self._queries.get(key)
        if kept is not None and not self._holds(kept):
            del self._queries[key]
            kept = None
        _COUNTED["query", kept is not None].inc()
        return kept.answer if kept is not None else None

    def keep(self, key: bytes, version: int, months: tuple[Month, ...], answer: dict[str, Any]) -> None:
        """Keeps a query's answer, computed from data at least as new as `version`."""
        size = _approximate_size(answer) + 80 * len(months)
        if size <= self._query_capacity // _LARGEST_SHARE:
            self._queries[key] = _Kept(version, months, answer, size)


def _approximate_size(answer: dict[str, Any]) -> int:
    """Bytes an answer holds in memory, roughly: a bucket is a small dict of decimal strings
    (about 500 bytes), a group one with its key too (about 750), a week's value or a compact
    day one string per column."""
    size = 1_000
    if answer.get("series"):
        size += 500 * len(answer["series"])
    if answer.get("groups"):
        size += 750 * len(answer["groups"])
    if answer.get("series_compact"):
        size += 180 * len(answer["series_compact"]["values"])
    if answer.get("profile"):
        size += 60 * len(answer["profile"]["weeks"])
    return size


_cache: AnswerCache | None = None


def answer_cache() -> AnswerCache:
    """The process's cache (each worker process has its own)."""
    global _cache
    if _cache is None:
        _cache = AnswerCache(get_settings().query_cache_mb * 2**20)
    return _cache
