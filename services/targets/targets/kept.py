"""A plan's targets kept in memory until a plan, a target or a target's initiatives change.

A dashboard asks for the same plan's targets again and again: their list (as the list endpoint
answers it, encoded) and the targets its progress is computed for. Every transaction that
writes plans, targets or the links between targets and initiatives bumps
`targets.data_version` once, as it commits (migration 0009), through the API or by hand alike.
A request reads that version first and everything after it is at least as new, so an answer
kept under a version is never older than the version: at worst newer, when a write commits
while it is being read.

Only answers of the version last read are kept and used. A restored backup can bring back a
version number (and the incarnation) the service has seen before: restart the service after a
restore.
"""

from __future__ import annotations

import uuid
from typing import Any

from cachetools import LRUCache
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.plans.models import Plan
from services.targets.targets.models import Target

KEPT_TARGETS = Counter(
    "pacer_kept_targets_total",
    "Target lists (kind=page) and the targets of a plan's progress (kind=selection) answered "
    "from memory (hit) or read from the database (miss).",
    ["kind", "result"],
)
_HITS = {kind: KEPT_TARGETS.labels(kind=kind, result="hit") for kind in ("page", "selection")}
_MISSES = {kind: KEPT_TARGETS.labels(kind=kind, result="miss") for kind in ("page", "selection")}

_VERSION = text("select incarnation, version from targets.data_version")

# (the table's incarnation, its version number)
Version = tuple[uuid.UUID, int]

# Encoded pages: a page of 200 targets is about 160 kB.
_PAGE_BYTES = 32 * 2**20
# Plans whose targets are kept for progress (the rows themselves, not copies).
_SELECTIONS = 128

Selection = tuple[list[Target], dict[uuid.UUID, Plan]]


class KeptTargets:
    def __init__(self) -> None:
        self._version: Version | None = None
        self._pages: LRUCache[tuple[Any, ...], bytes] = LRUCache(maxsize=_PAGE_BYTES, getsizeof=len)
        self._selections: LRUCache[tuple[Any, ...], Selection] = LRUCache(maxsize=_SELECTIONS)

    async def version(self, session: AsyncSession) -> Version:
        """The current data version. Any other version than the last one read forgets every
        kept answer: a newer one, one of a table made anew (its incarnation), and an older one
        — a concurrent request's read before a commit (the next read forgets again: only some
        answers are computed twice), or a restored backup's."""
        incarnation, number = (await session.execute(_VERSION)).one()
        version = (incarnation, int(number))
        if version != self._version:
            self._pages.clear()
            self._selections.clear()
            self._version = version
        return version

    def page(self, version: Version, key: tuple[Any, ...]) -> bytes | None:
        body = self._pages.get(key) if version == self._version else None
        (_HITS if body is not None else _MISSES)["page"].inc()
        return body

    def keep_page(self, version: Version, key: tuple[Any, ...], body: bytes) -> None:
        if version == self._version and len(body) <= _PAGE_BYTES // 8:
            self._pages[key] = body

    def selection(self, version: Version, key: tuple[Any, ...]) -> Selection | None:
        """Targets (and their plans) read at `version`. Detached rows, shared by the requests
        that ask for them: read them, never change them."""
        kept = self._selections.get(key) if version == self._version else None
        (_HITS if kept is not None else _MISSES)["selection"].inc()
        return kept

    def keep_selection(self, version: Version, key: tuple[Any, ...], selection: Selection) -> None:
        if version == self._version:
            self._selections[key] = selection


_kept: KeptTargets | None = None


def kept_targets() -> KeptTargets:
    """The process's kept targets (each worker process has its own)."""
    global _kept
    if _kept is None:
        _kept = KeptTargets()
    return _kept
