"""Progress fields wait for the plan-wide progress call on their own, and ask nothing twice.

The timing these tests need — a plan-wide call still under way while the target list is
completed, a request ended before it returns — cannot be arranged through the running services,
so the gateway's loaders talk here to a stand-in for the targets service whose plan-wide answer
the test releases. Through the running services the same paths are taken by the dashboards of
`test_dashboard.py` and `test_partial_answers.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from services.gateway.loaders import Loaders
from shared.errors import Problem

AS_OF = date(2025, 6, 30)
PLAN = "plan-1"
TARGETS = ["t-1", "t-2", "t-3"]


class StandIn:
    """Answers `POST /v1/progress` like the targets service: by plan (once `release` is
    called) or by target ids (at once); every call is recorded."""

    def __init__(self, plan_answer: Callable[[], Any]) -> None:
        self.calls: list[dict[str, Any]] = []
        self.released = asyncio.Event()
        self._plan_answer = plan_answer

    async def read(self, service: str, path: str, body: dict[str, Any]) -> Any:
        assert (service, path) == ("targets", "/v1/progress")
        self.calls.append(body)
        if "plan_id" in body:
            await self.released.wait()
            return self._plan_answer()
        return {"results": [_progress(target_id) for target_id in body["target_ids"]]}


def _progress(target_id: str) -> dict[str, Any]:
    return {"target_id": target_id, "as_of": AS_OF.isoformat(), "health": "ON_TRACK"}


def _outcome(value: Any) -> Any:
    return value if not isinstance(value, BaseException) else type(value).__name__


async def _dashboard(stand_in: StandIn, keys: list[tuple[str, date]]) -> tuple[Loaders, list[Awaitable[Any]]]:
    loaders = Loaders(stand_in)  # type: ignore[arg-type]
    coming = loaders.progress_of_plan(PLAN, None, AS_OF)
    await asyncio.sleep(0)  # the plan-wide call is sent, and waits for its answer
    loaders.expect_progress(keys, coming)
    fields = [loaders.progress_for(key) for key in keys]
    assert all(asyncio.iscoroutine(field) for field in fields)  # nothing is here yet
    return loaders, fields  # type: ignore[return-value]


def _run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def test_fields_expecting_the_plan_wide_call_answer_from_it_without_a_call_of_their_own() -> None:
    async def test() -> None:
        stand_in = StandIn(lambda: {"results": [_progress(t) for t in TARGETS]})
        _, fields = await _dashboard(stand_in, [(t, AS_OF) for t in TARGETS])
        stand_in.released.set()
        answers = await asyncio.gather(*fields)
        assert [a["target_id"] for a in answers] == TARGETS
        assert len(stand_in.calls) == 1

    _run(test)


def test_keys_the_plan_wide_call_did_not_bring_are_asked_for_in_one_batch_after_it() -> None:
    async def test() -> None:
        stand_in = StandIn(lambda: {"results": [_progress("t-1")]})
        _, fields = await _dashboard(stand_in, [(t, AS_OF) for t in TARGETS])
        stand_in.released.set()
        answers = await asyncio.gather(*fields)
        assert [a["target_id"] for a in answers] == TARGETS
        assert stand_in.calls[1:] == [{"as_of": "2025-06-30", "target_ids": ["t-2", "t-3"]}]

    _run(test)


@pytest.mark.parametrize(
    ("status", "expected_calls"),
    [(503, 1), (404, 2)],  # a failing service is every field's error; a refusal is asked again
)
def test_a_failed_plan_wide_call_fails_every_field_only_when_the_service_failed(
    status: int, expected_calls: int
) -> None:
    async def test() -> None:
        def refuse() -> Any:
            raise Problem(status, "refused", "The plan-wide call failed.")

        stand_in = StandIn(refuse)
        _, fields = await _dashboard(stand_in, [(t, AS_OF) for t in TARGETS])
        stand_in.released.set()
        answers = [_outcome(a) for a in await asyncio.gather(*fields, return_exceptions=True)]
        if status >= 500:
            assert answers == ["Problem"] * len(TARGETS)
        else:
            assert [a["target_id"] for a in answers] == TARGETS
        assert len(stand_in.calls) == expected_calls

    _run(test)


def test_a_field_still_waiting_when_the_request_ends_asks_and_keeps_nothing() -> None:
    async def test() -> None:
        stand_in = StandIn(lambda: {"results": [_progress("t-1")]})  # t-2, t-3 would be asked for
        loaders, fields = await _dashboard(stand_in, [(t, AS_OF) for t in TARGETS])
        loaders.release()  # GraphQL left these fields (their target was nulled), the request ended
        stand_in.released.set()
        assert await asyncio.gather(*fields) == [None, None, None]
        assert len(stand_in.calls) == 1
        # Nothing primed after the release either.
        assert all(loaders.progress.cache_map.get((t, AS_OF)) is None for t in TARGETS)

    _run(test)
