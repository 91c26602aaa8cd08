"""A batch asked again is answered from memory — but never once the numbers have changed.

Every transaction writing the rollups or the catalogue bumps `metrics.data_version` once,
inside itself; answers are kept under the version they were computed at.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api
from tests.metrics.conftest import event, push, query
from tests.proof.support import fetch


def cache_results(api: Api) -> dict[str, float]:
    """The metrics service's count of batches answered from memory (hit) and computed (miss)."""
    text = api.client("metrics").get("/metrics").text
    counts = {"hit": 0.0, "miss": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "pacer_query_cache_total":
                counts[sample.labels["result"]] += sample.value
    return counts


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
