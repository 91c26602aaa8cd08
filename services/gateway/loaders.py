"""Per-request DataLoaders: one loader per kind of batch call, so a dashboard costs a constant
number of calls to each service however many targets it shows.

Loaders are made by the context getter for every request — never at module level, where their
cache would be shared between callers with different rights.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader

from services.gateway.clients import Upstream
from services.gateway.types.metrics import MetricDefinition, SeriesPoint, series_points
from shared.errors import Problem
from shared.http import MAX_QUERIES_PER_CALL

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

# Items per batched call: the metrics service's maximum per query batch; progress batches (the
# targets service takes up to 2,000) are cut at the same size.
BATCH_LIMIT = MAX_QUERIES_PER_CALL

Json = dict[str, Any]


@dataclass(frozen=True)
class SeriesKey:
    """One bucketed series of a metric over a date range and scope."""

    metric: str
    start: date
    end: date
    filters: tuple[tuple[str, str], ...]
    bucket: str

    def query(self, query_id: str) -> Json:
        return {
            "id": query_id,
            "metric": self.metric,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "filters": dict(self.filters),
            "bucket": self.bucket,
            # A series point carries no event time: the metrics service need not look it up.
            "last_event": False,
        }


@dataclass(frozen=True)
class Family:
    """A plan's targets indexed by id and by parent once per request, so each target finds its
    children without scanning every sibling."""

    rows: list[Json]
    position_by_id: dict[str, int]
    positions_by_parent: dict[str, list[int]]

    @classmethod
    def of(cls, rows: list[Json]) -> Family:
        by_parent: dict[str, list[int]] = {}
        for position, raw in enumerate(rows):
            if raw.get("parent_id") is not None:
                by_parent.setdefault(str(raw["parent_id"]), []).append(position)
        return cls(rows, {str(raw["id"]): i for i, raw in enumerate(rows)}, by_parent)

    def children(self, target_id: str, children_ids: Sequence[str]) -> list[Json]:
        """The rows whose parent is the target or that it lists as children, in the plan's order."""
        positions = set(self.positions_by_parent.get(target_id, ()))
        positions.update(self.position_by_id[i] for i in children_ids if i in self.position_by_id)
        return [self.rows[i] for i in sorted(positions)]


def ready_or_load(loader: DataLoader[K, V], key: K) -> V | Awaitable[V]:
    """The loader's value for `key` when a batch has already brought it — returned as it is, so
    a field of 200 targets resolves without 200 awaits — else the loader's awaitable."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return loader.load(key)


def then(value: V | Awaitable[V], convert: Callable[[V], R]) -> R | Awaitable[R]:
    """`convert(value)` now when the value is here, after awaiting it otherwise."""
    if inspect.isawaitable(value):
        pending = value

        async def later() -> R:
            return convert(await pending)

        return later()
    return convert(cast(V, value))


def _chunks(items: Sequence[V], size: int = BATCH_LIMIT) -> list[Sequence[V]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def built(build: Callable[[Json], R], raw: Json | None) -> R | Exception | None:
    """`build(raw)` (None without an answer), or the error building it raised: only that key's
    field reports a malformed answer, not every field of the batch."""
    if raw is None:
        return None
    try:
        return build(raw)
    except Exception as error:
        return error


def per_key(fetch: Callable[[K], Awaitable[V]]) -> Callable[[list[K]], Awaitable[list[V | BaseException]]]:
    """For routes with no batch form: one call per distinct key, concurrently, each key failing alone."""

    async def load(keys: list[K]) -> list[V | BaseException]:
        return list(await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True))

    return load


class Loaders:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.progress: DataLoader[tuple[str, date], Json | None] = DataLoader(self._load_progress)
        self.series: DataLoader[SeriesKey, list[SeriesPoint] | None] = DataLoader(self._load_series)
        self.metric: DataLoader[str, MetricDefinition | None] = DataLoader(self._load_metrics)
        self.plan: DataLoader[str, Json] = DataLoader(per_key(self._fetch_plan))
        self.plan_targets: DataLoader[tuple[str, str | None], list[Json]] = DataLoader(
            per_key(self._fetch_plan_targets)
        )
        self.initiatives: DataLoader[str, list[Json]] = DataLoader(per_key(self._fetch_initiatives))
        self.risks: DataLoader[str, list[Json]] = DataLoader(per_key(self._fetch_risks))
        self.phases: DataLoader[str, list[Json]] = DataLoader(per_key(self._fetch_phases))
        self.plan_reviews: DataLoader[str, list[Json]] = DataLoader(per_key(self._fetch_plan_reviews))
        self.review: DataLoader[str, Json] = DataLoader(per_key(self._fetch_review))
        self._catalogue: asyncio.Task[list[Json]] | None = None
        self._plan_progress: dict[tuple[str, str | None, date], asyncio.Future[None]] = {}
        # Progress keys expected from a plan-wide call (see `expect_progress`).
        self._progress_coming: dict[tuple[str, date], asyncio.Future[None]] = {}
        self._families: dict[str, Family] = {}

    def release(self) -> None:
        """Drops what the request's loaders hold. They and their data loaders refer to each
        other (through the batch functions), so without this every future, key and answer a
        request gathered waits for a full garbage collection — about 3,000 objects per dashboard
        — instead of being freed when the request ends."""
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()
                loader.batch = None
        for call in self._plan_progress.values():
            call.cancel()  # nothing reads it any more (a finished call is left as it is)
        self._plan_progress.clear()
        self._progress_coming.clear()
        self._families.clear()
        self._catalogue = None

    # ---- metrics ------------------------------------------------------------------------------

    def catalogue(self) -> Awaitable[list[Json]]:
        """The whole metric catalogue, read once per request (one page covers it)."""
        if self._catalogue is None:
            self._catalogue = asyncio.ensure_future(self.upstream.get_all("metrics", "/v1/metrics"))
        return self._catalogue

    async def _load_metrics(self, keys: list[str]) -> list[MetricDefinition | Exception | None]:
        """Each definition built once, however many targets show it."""
        by_key = {definition["key"]: definition for definition in await self.catalogue()}
        return [built(MetricDefinition.from_json, by_key.get(key)) for key in keys]

    async def _load_series(self, keys: list[SeriesKey]) -> list[list[SeriesPoint] | Exception | None]:
        """The series' points, built as the answer arrives: while the dashboard still waits for
        progress, not after it."""
        results: dict[str, Json] = {}
        indexed = [(str(i), key) for i, key in enumerate(keys)]
        for chunk in _chunks(indexed):
            answer = await self.upstream.read(
                "metrics", "/v1/query", {"queries": [key.query(query_id) for query_id, key in chunk]}
            )
            results.update({str(result["id"]): result for result in answer.get("results", [])})
        return [built(series_points, results.get(query_id)) for query_id, _ in indexed]

    # ---- targets ------------------------------------------------------------------------------

    async def _load_progress(self, keys: list[tuple[str, date]]) -> list[Json | None]:
        """One POST /v1/progress per distinct as-of date (a dashboard has one)."""
        by_date: dict[date, list[str]] = {}
        for target_id, as_of in keys:
            by_date.setdefault(as_of, []).append(target_id)

        async def fetch(as_of: date, target_ids: list[str]) -> list[Json]:
            found: list[Json] = []
            for chunk in _chunks(target_ids):
                answer = await self.upstream.read(
                    "targets", "/v1/progress", {"as_of": as_of.isoformat(), "target_ids": list(chunk)}
                )
                found.extend(answer.get("results", []))
            return found

        answers = await asyncio.gather(*(fetch(as_of, ids) for as_of, ids in by_date.items()))
        progress = {
            (str(item["target_id"]), as_of): item
            for as_of, items in zip(by_date, answers, strict=True)
            for item in items
        }
        return [progress.get(key) for key in keys]

    def family_ready(self, plan_id: str) -> Family | None:
        """The plan's family when it has been read already in this request."""
        return self._families.get(plan_id)

    @staticmethod
    def fail(loader: DataLoader[K, V], keys: Sequence[K], error: Exception) -> None:
        """Settles `keys` of `loader` with `error`, for the fields that will ask for them."""
        for key in keys:
            if loader.cache_map.get(key) is None:
                failed: asyncio.Future[V] = asyncio.get_running_loop().create_future()
                failed.set_exception(error)
                # Retrieved here, so an error no field asks for is not logged as lost.
                failed.add_done_callback(lambda done: done.exception())
                loader.cache_map.set(key, failed)

    def progress_of_plan(self, plan_id: str, active_in: str | None, as_of: date) -> asyncio.Future[None]:
        """Progress of a plan's targets (those active in a quarter, or all) in one call by
        `plan_id`, begun before the targets are known — alongside the plan itself; each answer
        primes `progress`, so the targets find theirs without a call of their own."""
        key = (plan_id, active_in, as_of)
        if key not in self._plan_progress:
            fetch = self._fetch_plan_progress(plan_id, active_in, as_of)
            self._plan_progress[key] = asyncio.ensure_future(fetch)
        return self._plan_progress[key]

    def expect_progress(self, keys: Sequence[tuple[str, date]], coming: asyncio.Future[None]) -> None:
        """These keys' progress is expected from the plan-wide call `coming`: their fields wait
        for it rather than ask for it in a batch of their own. Should the call fail as a failing
        or unreachable service does (5xx), that failure is every key's: the same question per
        target would fail again, after its own timeouts and retries."""
        for key in keys:
            self._progress_coming.setdefault(key, coming)

        def settle(call: asyncio.Future[None]) -> None:
            failure = None if call.cancelled() else call.exception()
            if isinstance(failure, Problem) and failure.status >= 500:
                self.fail(self.progress, keys, failure)

        if coming.done():
            settle(coming)
        else:
            coming.add_done_callback(settle)

    def progress_for(self, key: tuple[str, date]) -> Json | Awaitable[Json | None] | None:
        """A progress field's value: at once when it is here; else, when the key is expected
        from a plan-wide call, once that call has ended (the key is then answered, failed, or
        asked for as any other); else through the loader."""
        coming = self._progress_coming.get(key)
        if coming is None or self.progress.cache_map.get(key) is not None:
            return ready_or_load(self.progress, key)

        async def after_the_plan() -> Json | None:
            await asyncio.wait((coming,))
            if self._progress_coming.get(key) is not coming:
                return None  # the request ended meanwhile (`release`): nothing reads this field
            return await self.progress.load(key)

        return after_the_plan()

    def plan_progress_begun(
        self, plan_id: str, active_in: str | None, as_of: date
    ) -> asyncio.Future[None] | None:
        return self._plan_progress.get((plan_id, active_in, as_of))

    async def _fetch_plan_progress(self, plan_id: str, active_in: str | None, as_of: date) -> None:
        body = {"as_of": as_of.isoformat(), "plan_id": plan_id}
        if active_in is not None:
            body["active_in"] = active_in
        answer = await self.upstream.read("targets", "/v1/progress", body)
        self.progress.prime_many(
            {(str(item["target_id"]), as_of): item for item in answer.get("results", [])}
        )

    async def family(self, plan_id: str) -> Family:
        """All of a plan's targets (one read, shared with `plan_targets`), indexed once."""
        rows = await self.plan_targets.load((plan_id, None))
        if plan_id not in self._families:
            self._families[plan_id] = Family.of(rows)
        return self._families[plan_id]

    async def _fetch_plan(self, plan_id: str) -> Json:
        result: Json = await self.upstream.get("targets", f"/v1/plans/{plan_id}")
        return result

    async def _fetch_plan_targets(self, key: tuple[str, str | None]) -> list[Json]:
        plan_id, active_in = key
        return await self.upstream.get_all("targets", f"/v1/plans/{plan_id}/targets", active_in=active_in)

    async def _fetch_initiatives(self, plan_id: str) -> list[Json]:
        return await self.upstream.get_all("targets", f"/v1/plans/{plan_id}/initiatives")

    async def _fetch_risks(self, plan_id: str) -> list[Json]:
        return await self.upstream.get_all("targets", f"/v1/plans/{plan_id}/risks")

    async def _fetch_phases(self, plan_id: str) -> list[Json]:
        return await self.upstream.get_all("targets", f"/v1/plans/{plan_id}/phases")

    # ---- reviews ------------------------------------------------------------------------------

    async def _fetch_plan_reviews(self, plan_id: str) -> list[Json]:
        return await self.upstream.get_all("reviews", "/v1/reviews", plan_id=plan_id)

    async def _fetch_review(self, review_id: str) -> Json:
        result: Json = await self.upstream.get("reviews", f"/v1/reviews/{review_id}")
        return result
