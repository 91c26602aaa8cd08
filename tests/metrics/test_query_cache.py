"""Answers come from memory when asked again — but never once the numbers have changed.

Every transaction writing the rollups or the catalogue bumps `metrics.data_version` once,
inside itself, and records which metric's months it wrote; a batch is kept under the version
it was answered at, a single query under the months it reads.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api
from tests.metrics.conftest import cache_results, event, push, query
from tests.proof.support import fetch


def gmv_query(category: str) -> dict[str, object]:
    return {
        "id": "gmv",
        "metric": "gmv",
        "start": "2025-05-01",
        "end": "2025-05-31",
        "filters": {"category": category},
    }


def test_a_batch_asked_again_is_answered_from_memory_with_the_same_bytes(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10.50", "2025-05-03T10:00:00+08:00", category=category)])
    body = {"queries": [gmv_query(category)]}
    first = reader.post("/v1/query", json=body)
    before = cache_results(api)

    again = reader.post("/v1/query", json=body)

    after = cache_results(api)
    assert again.status_code == first.status_code == 200
    assert again.content == first.content
    assert (after["hit"] - before["hit"], after["miss"] - before["miss"]) == (1, 0)


def test_events_pushed_are_in_the_very_next_answer(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10.50", "2025-05-03T10:00:00+08:00", category=category)])
    assert query(reader, gmv_query(category))[0]["value"] == "10.50"
    assert query(reader, gmv_query(category))[0]["value"] == "10.50"

    push(ingest, [event(f"{unique}-2", "gmv", "4.25", "2025-05-09T10:00:00+08:00", category=category)])

    assert query(reader, gmv_query(category))[0]["value"] == "14.75"


def test_a_changed_formula_is_in_the_very_next_answer(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    planner = api.client("metrics", role="planner")
    key = f"basket_{unique}"
    created = planner.post(
        "/v1/metrics",
        json={"key": key, "name": "Basket", "unit": "money", "kind": "derived", "formula": "gmv / orders"},
    )
    assert created.status_code == 201, created.text
    category = f"cache-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-g", "gmv", "100", "2025-05-03T10:00:00+08:00", category=category),
            event(f"{unique}-o", "orders", "4", "2025-05-03T10:00:00+08:00", category=category),
        ],
    )
    asked = {**gmv_query(category), "id": "basket", "metric": key}
    assert query(reader, asked)[0]["value"] == "25"

    changed = planner.patch(
        f"/v1/metrics/{key}",
        json={"formula": "gmv / (2 * orders)"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text

    assert query(reader, asked)[0]["value"] == "12.5"


def test_rollups_rebuilt_after_a_bulk_load_are_in_the_very_next_answer(
    reader: httpx.Client, ingest: httpx.Client, database_url: str, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10.50", "2025-05-03T10:00:00+08:00", category=category)])
    assert query(reader, gmv_query(category))[0]["value"] == "10.50"

    # A bulk load that bypasses the API: straight into the events, then the rollups rebuilt.
    fetch(
        database_url,
        "insert into metrics.events (event_id, metric, value, occurred_at, business_day, category, source)"
        " values ($1, 'gmv', 2, '2025-05-04T02:00:00Z', '2025-05-04', $2, 'bulk')",
        f"{unique}-bulk",
        category,
    )
    fetch(database_url, "select metrics.rebuild_rollups()")

    assert query(reader, gmv_query(category))[0]["value"] == "12.50"


def test_an_ingest_key_cannot_read_an_answer_kept_in_memory(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    body = {"queries": [gmv_query(f"cache-{unique}")]}
    assert reader.post("/v1/query", json=body).status_code == 200

    refused = ingest.post("/v1/query", json=body)

    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_a_push_stored_after_a_retried_statement_is_in_the_very_next_answer(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    first = event(f"{unique}-1", "gmv", "10", "2025-05-03T10:00:00+08:00", category=category)
    push(ingest, [first])
    assert query(reader, gmv_query(category))[0]["value"] == "10"

    # An id already stored in the middle of a batch: the fast insert fails and is undone to a
    # savepoint, then the batch is stored the careful way — in the same transaction.
    answer = push(
        ingest,
        [
            event(f"{unique}-0", "gmv", "1", "2025-05-04T10:00:00+08:00", category=category),
            first,
            event(f"{unique}-2", "gmv", "2", "2025-05-05T10:00:00+08:00", category=category),
        ],
    )

    assert (answer["accepted"], answer["duplicates"]) == (2, 1)
    assert query(reader, gmv_query(category))[0]["value"] == "13"


# Single queries: kept while none of the months they read has changed.


def between(category: str, start: str, end: str, metric: str = "gmv", **more: Any) -> dict[str, Any]:
    return {"id": f"{metric}-{start}-{end}", "metric": metric, "start": start, "end": end,
            "filters": {"category": category}, **more}  # fmt: skip


def computed_afresh(reader: httpx.Client, asked: dict[str, Any]) -> dict[str, Any]:
    """The answer to `asked` computed now, never from memory: the same query with one more
    category value that no event carries (a new query, the same numbers)."""
    twin = {**asked, "filters": {"category": [asked["filters"]["category"], f"none-{uuid.uuid4().hex}"]}}
    return query(reader, twin)[0]


def test_a_query_over_months_nobody_pushed_into_is_answered_from_memory_inside_a_new_batch(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10", "2024-05-03T10:00:00+08:00", category=category)])
    last_year = between(category, "2024-05-01", "2024-05-31", profile={"through": "2024-05-15"})
    first = query(reader, last_year)[0]

    push(ingest, [event(f"{unique}-2", "gmv", "7", "2025-05-03T10:00:00+08:00", category=category)])
    before = cache_results(api, "query")
    this_year = between(category, "2025-05-01", "2025-05-31")
    answers = query(reader, {**last_year, "id": "again"}, this_year)

    after = cache_results(api, "query")
    assert (after["hit"] - before["hit"], after["miss"] - before["miss"]) == (1, 1)
    assert answers[0] == {**first, "id": "again", "last_event_at": answers[1]["last_event_at"]}
    assert answers[1]["value"] == "7"


def test_a_push_into_any_month_a_query_reads_recomputes_it(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10", "2025-04-03T10:00:00+08:00", category=category)])
    quarter = between(category, "2025-04-01", "2025-06-30", bucket="month")
    assert query(reader, quarter)[0]["value"] == "10"

    # The last day of the quarter, late in the evening in Shanghai: still June's business day.
    push(ingest, [event(f"{unique}-2", "gmv", "5", "2025-06-30T15:59:59Z", category=category)])

    answer = query(reader, quarter)[0]
    assert answer["value"] == "15"
    assert [bucket["value"] for bucket in answer["series"]] == ["10", "0", "5"]
    assert answer == {**computed_afresh(reader, quarter), "id": quarter["id"]}


def test_the_latest_event_time_of_a_query_from_memory_is_read_afresh(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10", "2024-05-03T10:00:00+08:00", category=category)])
    may = between(category, "2024-05-01", "2024-05-31")
    assert query(reader, may)[0]["last_event_at"] == "2024-05-03T02:00:00+00:00"

    push(ingest, [event(f"{unique}-2", "gmv", "1", "2025-01-09T10:00:00+08:00", category=category)])
    before = cache_results(api, "query")
    answer = query(reader, may)[0]

    after = cache_results(api, "query")
    assert after["hit"] - before["hit"] == 1
    assert (answer["value"], answer["last_event_at"]) == ("10", "2025-01-09T02:00:00+00:00")


def test_a_query_from_memory_is_byte_for_byte_the_answer_computed_afresh(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(
        ingest,
        [
            event(
                f"{unique}-{i}", metric, str(7 + i), f"2024-05-{3 + i:02d}T10:00:00+08:00", category=category
            )
            for i, metric in enumerate(("gmv", "orders", "uv", "gmv", "uv"))
        ],
    )
    shapes: list[dict[str, Any]] = [
        {"metric": "conversion_rate", "bucket": "day", "series_format": "compact",
         "profile": {"through": "2024-05-10"}},
        {"metric": "gmv", "bucket": "week", "profile": {"through": "2024-05-10"}},
        {"metric": "aov", "bucket": "month", "group_by": ["category"]},
    ]  # fmt: skip
    asked = [
        {**between(category, "2024-05-01", "2024-05-31"), **shape, "id": f"q{i}"}
        for i, shape in enumerate(shapes)
    ]
    query(reader, *asked)
    # Another month changes: the batch is no longer answered whole, each query from memory.
    push(ingest, [event(f"{unique}-june", "gmv", "1", "2024-06-03T10:00:00+08:00", category=category)])
    before = cache_results(api, "query")

    kept = reader.post("/v1/query", json={"queries": asked})

    after = cache_results(api, "query")
    assert after["hit"] - before["hit"] == len(asked)
    twins = [{**q, "filters": {"category": [category, f"none-{uuid.uuid4().hex}"]}} for q in asked]
    afresh = reader.post("/v1/query", json={"queries": twins})
    assert kept.status_code == afresh.status_code == 200
    assert kept.content == afresh.content


def test_a_month_emptied_by_a_bulk_fix_and_rebuilt_rollups_is_in_the_very_next_answer(
    api: Api, reader: httpx.Client, ingest: httpx.Client, database_url: str, unique: str
) -> None:
    # A metric of its own: no other test's events are in its months.
    key = f"returns_{unique}"
    created = api.client("metrics", role="planner").post(
        "/v1/metrics", json={"key": key, "name": "Returns", "unit": "count"}
    )
    assert created.status_code == 201, created.text
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", key, "4", "2025-05-03T10:00:00+08:00", category=category)])
    may = between(category, "2025-05-01", "2025-05-31", metric=key)
    assert query(reader, may)[0]["value"] == "4"

    # The month's events removed by hand, the rollups rebuilt: no row of this metric's May is
    # written again, only the truncation of the rollup tables says that it changed.
    fetch(database_url, "delete from metrics.events where metric = $1", key)
    fetch(database_url, "select metrics.rebuild_rollups()")

    assert query(reader, may)[0]["value"] == "0"


def test_a_derived_query_is_recomputed_when_any_of_its_parts_changes(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cache-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-o", "orders", "3", "2025-05-03T10:00:00+08:00", category=category),
            event(f"{unique}-u", "uv", "100", "2025-05-03T10:00:00+08:00", category=category),
        ],
    )
    rate = between(category, "2025-05-01", "2025-05-31", metric="conversion_rate")
    assert query(reader, rate)[0]["value"] == "0.03"

    push(ingest, [event(f"{unique}-u2", "uv", "50", "2025-05-20T10:00:00+08:00", category=category)])

    assert query(reader, rate)[0]["value"] == "0.02"


def test_a_fix_by_hand_to_the_rollups_is_in_the_very_next_answer(
    ingest: httpx.Client, reader: httpx.Client, database_url: str, unique: str
) -> None:
    category = f"cache-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10", "2025-05-03T10:00:00+08:00", category=category)])
    may, june = between(category, "2025-05-01", "2025-05-31"), between(category, "2025-06-01", "2025-06-30")
    assert [a["value"] for a in query(reader, may, june)] == ["10", "0"]

    # Someone moves the day's totals to June by hand: both months changed.
    for table in ("daily_rollups", "daily_dimension_rollups"):
        column = "category" if table == "daily_rollups" else "value"
        fetch(
            database_url,
            f"update metrics.{table} set business_day = '2025-06-03'"
            f" where metric = 'gmv' and business_day = '2025-05-03' and {column} = $1",
            category,
        )

    assert [a["value"] for a in query(reader, may, june)] == ["0", "10"]

    fetch(
        database_url,
        "delete from metrics.daily_dimension_rollups where metric = 'gmv' and value = $1",
        category,
    )

    assert [a["value"] for a in query(reader, may, june)] == ["0", "0"]


MONTHS = ("2025-04", "2025-05", "2025-06")
RANGES = (
    ("2025-04-01", "2025-04-30"),
    ("2025-05-01", "2025-06-30"),
    ("2025-04-01", "2025-06-30"),
    ("2025-04-20", "2025-06-10"),
)
SHAPES: tuple[dict[str, Any], ...] = (
    {},
    {"bucket": "month"},
    {"bucket": "quarter"},
    {"bucket": "day", "series_format": "compact"},
    {"group_by": ["channel"]},
    {"bucket": "week"},
)
Step = tuple[str, str, str, int]  # ("push", metric, month, value) or ("ask", metric, range, shape)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("push"), st.sampled_from(("gmv", "orders", "uv", "dau")), st.sampled_from(MONTHS),
            st.integers(1, 99),
        ),
        st.tuples(
            st.just("ask"), st.sampled_from(("gmv", "conversion_rate", "orders", "dau")),
            st.sampled_from([f"{start}/{end}" for start, end in RANGES]),
            st.integers(0, len(SHAPES)),
        ),
    ),
    min_size=1,
    max_size=12,
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_every_answer_equals_one_computed_afresh_whatever_was_pushed_in_between(
    ingest: httpx.Client, reader: httpx.Client, steps: list[Step]
) -> None:
    category = f"cache-{uuid.uuid4().hex}"
    asked: dict[str, dict[str, Any]] = {}
    for number, (action, metric, where, detail) in enumerate(steps):
        if action == "push":
            at = f"{where}-{1 + detail % 28:02d}T23:30:00+08:00"
            channel = ("app", "web")[detail % 2]
            push(ingest, [event(f"{category}-{number}", metric, str(detail), at, category=category,
                                channel=channel)])  # fmt: skip
        else:
            start, end = where.split("/")
            shape = SHAPES[detail] if detail < len(SHAPES) else {"profile": {"through": end}}
            query_asked = between(category, start, end, metric=metric, **shape)
            asked[query_asked["id"] + repr(shape)] = query_asked
        # Every query asked so far, asked again one by one in a batch of its own (so from the
        # single-query memory whenever its months are unchanged), against a fresh computation.
        for again in asked.values():
            assert query(reader, again)[0] == {**computed_afresh(reader, again), "id": again["id"]}
