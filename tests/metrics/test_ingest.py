"""Ingestion: every event stored exactly once, bad items rejected one by one with their own code."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Api
from tests.metrics.conftest import event, ingest_batches, push, query
from tests.proof.support import fetch


def gmv_of(client: httpx.Client, category: str, start: str = "2025-01-01", end: str = "2025-12-31") -> str:
    results = query(
        client, {"id": "q", "metric": "gmv", "start": start, "end": end, "filters": {"category": category}}
    )
    return str(results[0]["value"])


def test_a_json_batch_is_stored_and_answered_per_item(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"beauty-{unique}"
    answer = push(
        ingest,
        [
            event(f"{unique}-1", "gmv", "100.10", "2025-03-01T10:00:00+08:00", category=category),
            event(f"{unique}-2", "gmv", 0.2, "2025-03-02T10:00:00+08:00", category=category),
        ],
    )
    assert answer == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert gmv_of(reader, category) == "100.30"


def test_json_numbers_are_exact_decimals(ingest: httpx.Client, reader: httpx.Client, unique: str) -> None:
    category = f"exact-{unique}"
    push(
        ingest,
        [event(f"{unique}-{i}", "gmv", 0.1, "2025-03-01T10:00:00Z", category=category) for i in range(3)],
    )
    assert gmv_of(reader, category) == "0.3"


def test_json_integers_beyond_64_bits_and_exponents_are_exact_among_string_values(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"bigint-{unique}"
    body = (
        '{"events": ['
        f'{{"event_id": "{unique}-s", "metric": "gmv", "value": "1.25", '
        f'"occurred_at": "2025-03-01T10:00:00Z", "dims": {{"category": "{category}"}}}}, '
        f'{{"event_id": "{unique}-b", "metric": "gmv", "value": 123456789012345678901234, '
        f'"occurred_at": "2025-03-01T10:00:00Z", "dims": {{"category": "{category}"}}}}, '
        f'{{"event_id": "{unique}-e", "metric": "gmv", "value": 1E-2, '
        f'"occurred_at": "2025-03-01T10:00:00Z", "dims": {{"category": "{category}"}}}}]}}'
    )
    response = ingest.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert gmv_of(reader, category) == "123456789012345678901235.26"


def test_a_csv_batch_is_stored_like_json(ingest: httpx.Client, reader: httpx.Client, unique: str) -> None:
    category = f"home-{unique}"
    body = (
        "event_id,metric,value,occurred_at,category,channel,region,source\n"
        f"{unique}-a,gmv,250.00,2025-04-01T09:00:00+08:00,{category},app,east,erp\n"
        f"{unique}-b,gmv,50.5,2025-04-01T09:30:00+08:00,{category},,,erp\n"
        f"{unique}-c,gmv,abc,2025-04-01T09:30:00+08:00,{category},,,erp\n"
    )
    response = ingest.post("/v1/events", content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"]) == (2, 0)
    assert [(r["index"], r["event_id"], r["code"]) for r in answer["rejected"]] == [
        (2, f"{unique}-c", "invalid_value")
    ]
    assert gmv_of(reader, category) == "300.50"
    by_channel = query(
        reader,
        {
            "id": "q",
            "metric": "gmv",
            "start": "2025-04-01",
            "end": "2025-04-01",
            "filters": {"category": category},
            "group_by": ["channel"],
        },
    )[0]
    assert by_channel["groups"] == [
        {"key": {"channel": "app"}, "value": "250.00", "numerator": None, "denominator": None},
        {"key": {"channel": None}, "value": "50.5", "numerator": None, "denominator": None},
    ]


def test_a_csv_row_with_text_beyond_the_header_is_rejected_not_shifted(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"home-{unique}"
    body = (
        "event_id,metric,value,occurred_at,category,channel,region,source\n"
        # An unquoted comma: "home, garden" would put " garden" in the channel column.
        f"{unique}-a,gmv,10,2025-04-01T09:00:00+08:00,{category}, garden,app,east,erp\n"
        # A trailing comma leaves a blank cell: harmless.
        f"{unique}-b,gmv,5,2025-04-01T09:00:00+08:00,{category},app,east,erp,\n"
    )
    response = ingest.post("/v1/events", content=body, headers={"Content-Type": "text/csv"})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 1
    assert [(r["index"], r["event_id"], r["code"]) for r in answer["rejected"]] == [
        (0, f"{unique}-a", "invalid_csv_row")
    ]
    assert gmv_of(reader, category) == "5"


def test_a_csv_body_the_csv_reader_cannot_read_is_refused_whole(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"huge-{unique}"
    body = (
        "event_id,metric,value,occurred_at,category,channel,region,source\n"
        f"{unique}-a,gmv,5,2025-04-01T09:00:00+08:00,{category},app,east,erp\n"
        # A cell beyond the csv module's field size limit (131,072 characters); the body is
        # still far below the body size limit.
        f"{unique}-b,gmv,5,2025-04-01T09:00:00+08:00,{category},app,east,{'x' * 200_000}\n"
    )
    response = ingest.post("/v1/events", content=body, headers={"Content-Type": "text/csv"})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_csv"
    assert "Line 3" in response.json()["detail"]
    assert gmv_of(reader, category) == "0"  # nothing of the body is stored


def test_a_csv_without_the_required_columns_is_refused(ingest: httpx.Client) -> None:
    response = ingest.post(
        "/v1/events", content="metric,value\ngmv,1\n", headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_csv"


@pytest.mark.parametrize("body", ["", "\n", "\ufeff", "  \r\n\r\n"], ids=["empty", "newline", "bom", "blank"])
def test_a_csv_body_without_even_a_header_is_refused(ingest: httpx.Client, body: str) -> None:
    """An empty upload is a mistake (a failed export), not a batch of no events; a header with
    no rows is a batch of no events."""
    response = ingest.post("/v1/events", content=body.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_csv"
    assert "empty" in response.json()["detail"]

    header_only = ingest.post(
        "/v1/events", content=b"event_id,metric,value,occurred_at\n", headers={"Content-Type": "text/csv"}
    )
    assert header_only.status_code == 200
    assert header_only.json() == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_a_replayed_batch_stores_nothing_twice(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"replay-{unique}"
    batch = [event(f"{unique}-{i}", "gmv", "10", "2025-05-05T12:00:00Z", category=category) for i in range(5)]
    before = ingest_batches(api.client("metrics"))
    assert push(ingest, batch)["accepted"] == 5
    assert push(ingest, batch) == {"accepted": 0, "duplicates": 5, "rejected": []}
    assert gmv_of(reader, category) == "50"
    # The replay was answered from the ledger alone: nothing was written for it.
    after = ingest_batches(api.client("metrics"))
    assert {path: after[path] - before[path] for path in after} == {"known": 1, "new": 1, "retried": 0}


def test_a_resent_batch_with_new_events_stores_only_the_new_ones(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"resent-{unique}"
    first = [event(f"{unique}-{i}", "gmv", "10", "2025-05-05T12:00:00Z", category=category) for i in range(4)]
    push(ingest, first)
    added = [
        event(f"{unique}-new-{i}", "gmv", "1.5", "2025-05-06T12:00:00Z", category=category) for i in range(2)
    ]
    assert push(ingest, [*first, *added]) == {"accepted": 2, "duplicates": 4, "rejected": []}
    assert gmv_of(reader, category) == "43.0"


def test_a_resent_batch_with_one_changed_event_rejects_that_event_and_keeps_the_first_content(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"changed-{unique}"
    batch = [event(f"{unique}-{i}", "gmv", "10", "2025-05-05T12:00:00Z", category=category) for i in range(3)]
    push(ingest, batch)
    changed = [*batch[:1], {**batch[1], "value": "12"}, *batch[2:], batch[0]]
    answer = push(ingest, changed)
    assert (answer["accepted"], answer["duplicates"]) == (0, 3)
    assert [(r["index"], r["event_id"], r["code"]) for r in answer["rejected"]] == [
        (1, f"{unique}-1", "conflict")
    ]
    assert gmv_of(reader, category) == "30"


def test_a_batch_with_a_stored_event_between_new_ones_stores_the_new_ones_once(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"middle-{unique}"
    stored = event(f"{unique}-stored", "gmv", "7", "2025-05-05T12:00:00Z", category=category)
    push(ingest, [stored])
    fresh = [event(f"{unique}-{i}", "gmv", "1", "2025-05-05T13:00:00Z", category=category) for i in range(2)]
    changed = {**stored, "value": "8"}
    # Only the first and last ids are looked up beforehand: the stored one in the middle makes the
    # statement for new ids fail, and the push is stored by the general one.
    before = ingest_batches(api.client("metrics"))
    assert push(ingest, [fresh[0], stored, fresh[1]]) == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert ingest_batches(api.client("metrics"))["retried"] - before["retried"] == 1
    answer = push(
        ingest, [event(f"{unique}-a", "gmv", "1", "2025-05-05T14:00:00Z", category=category), changed]
    )
    assert answer["accepted"] == 1
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(1, "conflict")]
    assert gmv_of(reader, category) == "10"


def test_the_same_event_in_another_spelling_is_a_duplicate(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"spelling-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10.50", "2025-06-18T17:00:00Z", category=category)])
    again = push(ingest, [event(f"{unique}-1", "gmv", 10.5, "2025-06-19T01:00:00+08:00", category=category)])
    assert again == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert gmv_of(reader, category) == "10.50"


def test_a_reused_event_id_with_other_content_is_a_conflict_and_never_overwrites(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"conflict-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10", "2025-05-05T12:00:00Z", category=category)])
    answer = push(ingest, [event(f"{unique}-1", "gmv", "99", "2025-05-05T12:00:00Z", category=category)])
    assert answer["accepted"] == 0
    assert [(r["index"], r["event_id"], r["code"]) for r in answer["rejected"]] == [
        (0, f"{unique}-1", "conflict")
    ]
    assert gmv_of(reader, category) == "10"


def test_a_repeated_event_id_inside_one_batch_is_a_duplicate_or_a_conflict(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"inbatch-{unique}"
    answer = push(
        ingest,
        [
            event(f"{unique}-1", "gmv", "10", "2025-05-05T12:00:00Z", category=category),
            event(f"{unique}-1", "gmv", "10", "2025-05-05T12:00:00Z", category=category),
            event(f"{unique}-1", "gmv", "11", "2025-05-05T12:00:00Z", category=category),
        ],
    )
    assert (answer["accepted"], answer["duplicates"]) == (1, 1)
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(2, "conflict")]
    assert gmv_of(reader, category) == "10"


def test_a_mixed_batch_stores_the_good_items_and_rejects_each_bad_one_with_its_code(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"mixed-{unique}"
    channel_only = f"channel_only_{unique}"
    created = api.client("metrics", role="planner").post(
        "/v1/metrics",
        json={"key": channel_only, "name": "Channel only", "unit": "count", "dimensions": ["channel"]},
    )
    assert created.status_code == 201
    good = "2025-05-05T12:00:00Z"
    items: list[Any] = [
        event(f"{unique}-ok1", "gmv", "5", good, category=category),
        event(f"{unique}-m", "no_such_metric", "1", good, category=category),
        event(f"{unique}-v", "gmv", "twelve", good, category=category),
        event(f"{unique}-nan", "gmv", "NaN", good, category=category),
        event(f"{unique}-inf", "gmv", "Infinity", good, category=category),
        event(f"{unique}-tz", "gmv", "1", "2025-05-05T12:00:00", category=category),
        event(f"{unique}-ts", "gmv", "1", "yesterday at noon", category=category),
        event(f"{unique}-d", "conversion_rate", "0.1", good, category=category),
        {**event(f"{unique}-dim", "gmv", "1", good), "dims": {"colour": "red"}},
        event(f"{unique}-dim2", channel_only, "1", good, category=category),
        {"event_id": f"{unique}-mf", "metric": "gmv", "occurred_at": good},
        {"metric": "gmv", "value": "1", "occurred_at": good},
        event(f"{unique}-ok2", "gmv", "7", good, category=category),
    ]
    answer = push(ingest, items)
    assert answer["accepted"] == 2
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [
        (1, "unknown_metric"),
        (2, "invalid_value"),
        (3, "invalid_value"),
        (4, "invalid_value"),
        (5, "timestamp_without_zone"),
        (6, "invalid_timestamp"),
        (7, "derived_metric"),
        (8, "invalid_dimension"),
        (9, "invalid_dimension"),
        (10, "missing_field"),
        (11, "missing_field"),
    ]
    assert answer["rejected"][0]["event_id"] == f"{unique}-m"
    assert answer["rejected"][10]["event_id"] is None
    assert all(r["detail"] for r in answer["rejected"])
    assert gmv_of(reader, category) == "12"


def test_an_instant_at_the_edge_of_the_calendar_is_rejected_as_outside_the_years_kept(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    # In the business zone (+08:00) these instants would fall in year 10000 or year 0: outside
    # what a date can hold, and far outside the years Pacer keeps (1970-2199).
    category = f"edge-{unique}"
    edges = ["9999-12-31T23:45:00+05:30", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"]
    items: list[Any] = [
        event(f"{unique}-{i}", "gmv", "1", at, category=category) for i, at in enumerate(edges)
    ]
    items.append({**event(f"{unique}-exact", "gmv", "1", edges[0], category=category), "value": 1.5})
    items.append(event(f"{unique}-last", "gmv", "3", "2199-12-31T15:59:59Z", category=category))
    answer = push(ingest, items)
    assert answer["accepted"] == 1
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [
        (i, "invalid_timestamp") for i in range(4)
    ]
    assert "between 1970 and 2199" in answer["rejected"][0]["detail"]
    assert gmv_of(reader, category, "2199-01-01", "2199-12-31") == "3"


def test_a_batch_over_the_limit_is_refused_whole_with_413(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"huge-{unique}"
    batch = [
        event(f"{unique}-{i}", "gmv", "1", "2025-05-05T12:00:00Z", category=category) for i in range(10_001)
    ]
    response = ingest.post("/v1/events", json={"events": batch})
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert gmv_of(reader, category) == "0"


def test_a_body_that_is_not_an_envelope_is_refused(ingest: httpx.Client) -> None:
    assert ingest.post("/v1/events", json=[{"event_id": "x"}]).json()["code"] == "invalid_batch"
    malformed = ingest.post("/v1/events", content=b"{", headers={"Content-Type": "application/json"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed_json")


def test_an_empty_batch_answers_zeroes(ingest: httpx.Client) -> None:
    assert push(ingest, []) == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_a_retried_push_with_the_same_idempotency_key_answers_the_first_response(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"idem-{unique}"
    batch = [event(f"{unique}-{i}", "gmv", "3", "2025-05-05T12:00:00Z", category=category) for i in range(4)]
    headers = {"Idempotency-Key": f"push-{unique}"}
    first = ingest.post("/v1/events", json={"events": batch}, headers=headers)
    second = ingest.post("/v1/events", json={"events": batch}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    assert second.headers.get("idempotent-replayed") == "true"
    assert gmv_of(reader, category) == "12"


def test_the_same_idempotency_key_with_another_body_is_refused(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"idem2-{unique}"
    headers = {"Idempotency-Key": f"push-{unique}"}
    first = [event(f"{unique}-1", "gmv", "3", "2025-05-05T12:00:00Z", category=category)]
    other = [event(f"{unique}-2", "gmv", "4", "2025-05-05T12:00:00Z", category=category)]
    assert ingest.post("/v1/events", json={"events": first}, headers=headers).status_code == 200
    response = ingest.post("/v1/events", json={"events": other}, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert gmv_of(reader, category) == "3"


@pytest.mark.parametrize(
    ("role", "status"), [("admin", 200), ("planner", 403), ("viewer", 403), ("member", 403)]
)
def test_only_ingest_keys_and_admins_may_push(api: Api, unique: str, role: str, status: int) -> None:
    batch = [event(f"{unique}-1", "gmv", "1", "2025-05-05T12:00:00Z", category=f"perm-{unique}")]
    response = api.client("metrics", role=role).post("/v1/events", json={"events": batch})
    assert response.status_code == status


def test_an_ingest_key_may_not_read_metrics_but_a_viewer_may(api: Api, ingest: httpx.Client) -> None:
    body = {"queries": [{"id": "q", "metric": "gmv", "start": "2025-01-01", "end": "2025-01-31"}]}
    assert ingest.post("/v1/query", json=body).status_code == 403
    assert api.client("metrics", role="viewer").post("/v1/query", json=body).status_code == 200


def test_concurrent_batches_with_overlapping_event_ids_store_each_event_once(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"race-{unique}"
    batches = [
        [
            event(f"{unique}-{i}", "gmv", "1", f"2025-07-{1 + i % 28:02d}T12:00:00Z", category=category)
            for i in ids
        ]
        for ids in (range(0, 600), range(300, 900), range(600, 1200), range(0, 1200, 2))
    ]
    answers: list[dict[str, Any]] = []

    def send(batch: list[dict[str, Any]]) -> None:
        answers.append(push(ingest, batch))

    threads = [threading.Thread(target=send, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(a["accepted"] for a in answers) == 1200
    assert sum(a["duplicates"] for a in answers) == sum(len(b) for b in batches) - 1200
    assert all(a["rejected"] == [] for a in answers)
    assert gmv_of(reader, category) == "1200"


def test_an_item_whose_metric_is_not_a_string_is_rejected_and_the_others_stored(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"listmetric-{unique}"
    good = event(f"{unique}-good", "gmv", "4", "2025-03-01T10:00:00Z", category=category)
    odd = {**event(f"{unique}-odd", "gmv", "4", "2025-03-01T10:00:00Z", category=category), "metric": ["gmv"]}
    answer = push(ingest, [odd, good])
    assert answer["accepted"] == 1
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(0, "unknown_metric")]
    assert gmv_of(reader, category) == "4"


def test_rounds_of_racing_batches_over_shared_ids_and_days_all_succeed(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    """Batches share some of their ids with each other and add to the same days' rollup rows;
    some are first tried as all new, others then claim id by id. Every path claims its ids
    before it takes a rollup row, so no two batches wait for each other in a cycle (which
    PostgreSQL would end by failing one push)."""
    category = f"rounds-{unique}"
    spans = [(0, 400), (200, 600), (400, 800), (600, 1000), (0, 1000, 3), (100, 900, 2)]
    for round_ in range(3):
        batches = [
            [
                event(
                    f"{unique}-{round_}-{i}",
                    "gmv",
                    "1",
                    f"2025-07-{1 + i % 28:02d}T12:00:00Z",
                    category=category,
                )
                for i in range(*span)
            ]
            for span in spans
        ]
        with ThreadPoolExecutor(len(batches)) as pool:
            responses = list(pool.map(lambda b: ingest.post("/v1/events", json={"events": b}), batches))
        assert [r.status_code for r in responses] == [200] * len(spans)
        answers = [r.json() for r in responses]
        assert sum(a["accepted"] for a in answers) == 1000
        assert sum(a["duplicates"] for a in answers) == sum(len(b) for b in batches) - 1000
    assert gmv_of(reader, category) == "3000"


SHANGHAI_OFFSET = timedelta(hours=8)
FIRST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC) - SHANGHAI_OFFSET  # business day 1970-01-01
LAST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC) - SHANGHAI_OFFSET - timedelta(microseconds=1)


@settings(max_examples=25, deadline=None)
@given(
    at=st.datetimes(
        min_value=FIRST_INSTANT.replace(tzinfo=None), max_value=LAST_INSTANT.replace(tzinfo=None)
    ).map(lambda naive: naive.replace(tzinfo=UTC)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_an_event_time_is_kept_to_the_microsecond_across_the_supported_years(
    ingest: httpx.Client, reader: httpx.Client, at: datetime, offset_minutes: int
) -> None:
    category = f"instant-{uuid.uuid4().hex}"
    spelled = at.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()
    answer = push(ingest, [event(f"{category}-1", "gmv", "1", spelled, category=category)])
    assert answer["accepted"] == 1
    day = at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()  # +09:00 in summer 1986-1991
    [result] = query(
        reader, {"id": "q", "metric": "gmv", "start": day, "end": day, "filters": {"category": category}}
    )
    assert datetime.fromisoformat(result["last_event_at"]) == at


def test_the_first_push_of_a_day_adds_to_rollup_rows_someone_wrote_by_hand(
    api: Api, ingest: httpx.Client, reader: httpx.Client, database_url: str, unique: str
) -> None:
    # The first push of a day writes its rollup rows as new ones. A row already there (written
    # by hand, without the day's totals) makes that attempt fail; the push then adds to it.
    # A metric of its own: no other test's push can have made 2031-02-03 a known day for it.
    metric = f"handmade_{unique}"
    defined = api.client("metrics", role="planner").post(
        "/v1/metrics",
        json={
            "key": metric,
            "name": "Hand-made",
            "unit": "money",
            "dimensions": ["category", "channel", "region"],
        },
    )
    assert defined.status_code == 201, defined.text
    category, channel, region = f"hand-{unique}", "app", "east"
    fetch(
        database_url,
        "insert into metrics.daily_rollups (metric, business_day, category, channel, region, total,"
        " event_count, last_event_at) values ($1, '2031-02-03', $2, $3, $4, 5, 1, '2031-02-03T01:00Z')",
        metric,
        category,
        channel,
        region,
    )
    before = ingest_batches(api.client("metrics"))
    answer = push(
        ingest,
        [
            event(
                f"{unique}-1",
                metric,
                "7",
                "2031-02-03T10:00:00+08:00",
                category=category,
                channel=channel,
                region=region,
            ),
            event(
                f"{unique}-2",
                metric,
                "1",
                "2031-02-03T11:00:00+08:00",
                category=category,
                channel="web",
                region=region,
            ),
        ],
    )
    assert answer == {"accepted": 2, "duplicates": 0, "rejected": []}
    # The plain insert of the day's rollup rows met the hand-written one: the push was retried.
    after = ingest_batches(api.client("metrics"))
    assert (after["new"] - before["new"], after["retried"] - before["retried"]) == (0, 1)
    day = {"start": "2031-02-03", "end": "2031-02-03"}
    three_dims, other_channel, one_dim = query(
        reader,
        {
            "id": "a",
            "metric": metric,
            **day,
            "filters": {"category": category, "channel": channel, "region": region},
        },
        {
            "id": "b",
            "metric": metric,
            **day,
            "filters": {"category": category, "channel": "web", "region": region},
        },
        {"id": "c", "metric": metric, **day, "filters": {"category": category}},
    )
    assert (three_dims["value"], other_channel["value"]) == ("12", "1")
    # The rollups by one dimension never had the hand-written row: they hold the pushed events.
    assert one_dim["value"] == "8"
