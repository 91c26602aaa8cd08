"""A plan's targets kept in memory by the targets service are never older than the database:
an answer asked again comes from memory, and every write to a plan, a target or the links
between targets and initiatives — through the API or by hand — is in the very next list and the
very next progress."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from shared.db import asyncpg_dsn
from shared.pagination import encode_cursor
from tests.conftest import Api
from tests.proof.support import fetch
from tests.targets.helpers import create_plan, create_target, daily, push


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def listed(api: Api, plan: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    response = api.client("targets").get(f"/v1/plans/{plan['id']}/targets", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def progress(api: Api, plan: dict[str, Any], as_of: str = "2025-04-10", **body: Any) -> dict[str, Any]:
    response = api.client("targets").post(
        "/v1/progress", json={"as_of": as_of, "plan_id": plan["id"], **body}
    )
    assert response.status_code == 200, response.text
    return {r["target_id"]: r for r in response.json()["results"]}


def kept_answers(api: Api, kind: str) -> float:
    """The targets service's count of answers given from memory (its Prometheus counter)."""
    text = api.client("targets").get("/metrics").text
    line = f'pacer_kept_targets_total{{kind="{kind}",result="hit"}}'
    return sum(float(row.split()[-1]) for row in text.splitlines() if row.startswith(line))


@contextmanager
def from_memory(api: Api, kind: str, expected: bool) -> Iterator[None]:
    """Asserts that the request inside is (or is not) answered from memory."""
    before = kept_answers(api, kind)
    yield
    assert kept_answers(api, kind) == before + (1 if expected else 0)


def asked_again_then_changed(
    api: Api, read: Callable[[], Any], kind: str, change: Callable[[], None]
) -> tuple[Any, Any]:
    """(the answer asked again, from memory; the answer right after `change`, read afresh)."""
    read()
    with from_memory(api, kind, expected=True):
        again = read()
    change()
    with from_memory(api, kind, expected=False):
        after = read()
    return again, after


def test_a_list_from_memory_is_what_each_target_reads_alone(api: Api, plan: dict[str, Any]) -> None:
    for value in ("100.50", "0.0000001", "250000"):
        create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=value)
    listed(api, plan)

    with from_memory(api, "page", expected=True):
        response = api.client("targets").get(f"/v1/plans/{plan['id']}/targets")

    assert response.headers["content-type"] == "application/json"
    items = response.json()["items"]
    assert sorted(t["target_value"] for t in items) == ["0.0000001", "100.50", "250000"]
    client = api.client("targets")
    assert items == [client.get(f"/v1/targets/{t['id']}").json() for t in items]


def gmv_target_of_1000(api: Api, plan: dict[str, Any], unique: str) -> dict[str, Any]:
    """A Q2 GMV target of 1000 in a category of its own, with 100 booked by 10 April."""
    category = f"kept-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 10), 10, category=category))
    return create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", target_value=1000
    )


def patched(api: Api, path: str, version: int, **body: Any) -> dict[str, Any]:
    changed = api.client("targets").patch(path, json=body, headers={"If-Match": f'"{version}"'})
    assert changed.status_code == 200, changed.text
    answer: dict[str, Any] = changed.json()
    return answer


def test_a_changed_target_is_in_the_very_next_list_and_progress(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    target = gmv_target_of_1000(api, plan, unique)
    path = f"/v1/targets/{target['id']}"

    def change() -> None:
        target.update(patched(api, path, target["version"], name="GMV Q2, halved", target_value=500))

    again, after = asked_again_then_changed(api, lambda: listed(api, plan), "page", change)
    assert [t["target_value"] for t in again] == ["1000"]
    assert [(t["name"], t["target_value"]) for t in after] == [("GMV Q2, halved", "500")]

    def change_again() -> None:
        patched(api, path, target["version"], target_value=250)

    again, after = asked_again_then_changed(api, lambda: progress(api, plan), "selection", change_again)
    assert Decimal(again[target["id"]]["attainment"]) == Decimal("0.2")
    assert Decimal(after[target["id"]]["attainment"]) == Decimal("0.4")


def test_new_decomposed_and_deleted_targets_are_in_the_very_next_list_and_progress(
    api: Api, plan: dict[str, Any]
) -> None:
    first = create_target(api, plan["id"], metric="gmv", period="2025", target_value=1200)
    second: dict[str, Any] = {}

    def create() -> None:
        second.update(create_target(api, plan["id"], metric="orders", period="2025", target_value=10))

    _, after = asked_again_then_changed(api, lambda: listed(api, plan), "page", create)
    assert {t["id"] for t in after} == {first["id"], second["id"]}
    assert set(progress(api, plan)) == {first["id"], second["id"]}

    children: list[str] = []

    def decompose() -> None:
        decomposed = api.client("targets").post(
            f"/v1/targets/{first['id']}/decompose", json={"by": "quarter", "weights": "even"}
        )
        assert decomposed.status_code in (200, 201), decomposed.text
        children.extend(c["id"] for c in decomposed.json()["children"])

    _, after = asked_again_then_changed(api, lambda: progress(api, plan), "selection", decompose)
    assert set(after) == {first["id"], second["id"], *children}
    parent = next(t for t in listed(api, plan) if t["id"] == first["id"])
    assert parent["children_ids"] == children

    def delete() -> None:
        assert api.client("targets").delete(f"/v1/targets/{second['id']}").status_code == 204

    _, after = asked_again_then_changed(api, lambda: progress(api, plan), "selection", delete)
    assert second["id"] not in after
    assert second["id"] not in {t["id"] for t in listed(api, plan)}


def test_links_to_initiatives_made_changed_and_removed_are_in_the_very_next_list(
    api: Api, plan: dict[str, Any]
) -> None:
    target = create_target(api, plan["id"], metric="uv", period="2025", target_value=1000)
    other = create_target(api, plan["id"], metric="uv", period="2025Q1", target_value=100)
    client = api.client("targets")
    initiative: dict[str, Any] = {}

    def link() -> None:
        created = client.post(
            f"/v1/plans/{plan['id']}/initiatives", json={"name": "Search", "target_ids": [target["id"]]}
        )
        assert created.status_code == 201, created.text
        initiative.update(created.json())

    def links() -> dict[str, list[str]]:
        return {t["id"]: t["initiative_ids"] for t in listed(api, plan)}

    again, after = asked_again_then_changed(api, links, "page", link)
    assert again == {target["id"]: [], other["id"]: []}
    assert after == {target["id"]: [initiative["id"]], other["id"]: []}

    def relink() -> None:
        patched(api, f"/v1/initiatives/{initiative['id']}", initiative["version"], target_ids=[other["id"]])

    _, after = asked_again_then_changed(api, links, "page", relink)
    assert after == {target["id"]: [], other["id"]: [initiative["id"]]}

    def remove() -> None:
        assert client.delete(f"/v1/initiatives/{initiative['id']}").status_code == 204

    _, after = asked_again_then_changed(api, links, "page", remove)
    assert after == {target["id"]: [], other["id"]: []}


def test_a_plans_new_thresholds_colour_the_very_next_progress(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    # 100 of 1000 by 10 April: a linear forecast of 910, 91 % of the target.
    target = gmv_target_of_1000(api, plan, unique)

    def change() -> None:
        patched(
            api, f"/v1/plans/{plan['id']}", plan["version"], thresholds={"on_track": "0.9", "at_risk": "0.8"}
        )

    again, after = asked_again_then_changed(api, lambda: progress(api, plan), "selection", change)
    assert again[target["id"]]["health"] == "AT_RISK"
    assert after[target["id"]]["health"] == "ON_TRACK"


def test_pages_filters_and_quarters_are_kept_apart(api: Api, plan: dict[str, Any]) -> None:
    q2 = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1)
    q3 = create_target(api, plan["id"], metric="orders", period="2025Q3", target_value=2)
    for _ in range(2):
        assert [t["id"] for t in listed(api, plan, metric="gmv")] == [q2["id"]]
        assert [t["id"] for t in listed(api, plan, metric="orders")] == [q3["id"]]
        assert [t["id"] for t in listed(api, plan, limit=1)] == [q2["id"]]
        cursor = encode_cursor([q2["starts_on"], q2["id"]])
        assert [t["id"] for t in listed(api, plan, limit=1, cursor=cursor)] == [q3["id"]]
        assert set(progress(api, plan, active_in="2025Q2")) == {q2["id"]}
        assert set(progress(api, plan, active_in="2025Q3")) == {q3["id"]}
        assert set(progress(api, plan)) == {q2["id"], q3["id"]}


@pytest.mark.parametrize("values", [[10**24, "x"], ["\ud800", "x"], ["2025-01-01", "not-a-uuid"]])
def test_a_cursor_this_api_did_not_issue_is_refused_before_anything_is_kept(
    api: Api, plan: dict[str, Any], values: list[Any]
) -> None:
    response = api.client("targets").get(
        f"/v1/plans/{plan['id']}/targets", params={"cursor": encode_cursor(values)}
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_cursor"


def test_a_fix_by_hand_in_the_database_is_in_the_very_next_list_and_progress(
    api: Api, plan: dict[str, Any], database_url: str
) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1000)

    def fix() -> None:
        fetch(database_url, "update targets.targets set target_value = 750 where id = $1", target["id"])

    _, after = asked_again_then_changed(api, lambda: listed(api, plan), "page", fix)
    assert after[0]["target_value"] == "750"

    def remove() -> None:
        fetch(database_url, "delete from targets.targets where id = $1", target["id"])

    _, after = asked_again_then_changed(api, lambda: progress(api, plan), "selection", remove)
    assert after == {}
    assert listed(api, plan) == []


def test_a_table_made_anew_forgets_what_was_kept(api: Api, plan: dict[str, Any], database_url: str) -> None:
    create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1)
    listed(api, plan)
    with from_memory(api, "page", expected=True):
        listed(api, plan)

    fetch(database_url, "update targets.data_version set incarnation = gen_random_uuid()")

    with from_memory(api, "page", expected=False):
        listed(api, plan)


def test_a_version_set_back_forgets_what_was_kept_before_it_climbs_again(
    api: Api, plan: dict[str, Any], database_url: str
) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1)
    listed(api, plan)
    with from_memory(api, "page", expected=True):
        listed(api, plan)

    # As a restored backup would: the number goes back, the next write brings it to the old one.
    fetch(database_url, "update targets.data_version set version = version - 1")
    listed(api, plan)
    fetch(database_url, "update targets.targets set target_value = 7 where id = $1", target["id"])

    with from_memory(api, "page", expected=False):
        assert [t["target_value"] for t in listed(api, plan)] == ["7"]


def test_changing_a_targets_initiatives_and_an_initiatives_targets_at_once_does_not_deadlock(
    api: Api, plan: dict[str, Any], database_url: str
) -> None:
    # The version is bumped as a transaction commits: its row is never a lock held while the
    # transaction waits for another one. Both unlinking statements remove a row, so a bump per
    # row or per statement at once would each deadlock here.
    target = create_target(api, plan["id"], metric="uv", period="2025", target_value=1)
    other_target = create_target(api, plan["id"], metric="uv", period="2025Q1", target_value=1)
    client = api.client("targets")

    def initiative(name: str, linked: dict[str, Any]) -> uuid.UUID:
        created = client.post(
            f"/v1/plans/{plan['id']}/initiatives", json={"name": name, "target_ids": [linked["id"]]}
        )
        assert created.status_code == 201, created.text
        return uuid.UUID(created.json()["id"])

    initiative_id = initiative("Search", other_target)
    initiative("Loyalty", target)
    target_id = uuid.UUID(target["id"])

    async def both() -> None:
        editing_initiative = await asyncpg.connect(asyncpg_dsn(database_url))
        editing_target = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await editing_initiative.execute("set lock_timeout = '5s'")
            await editing_target.execute("set lock_timeout = '5s'")
            await editing_initiative.execute("begin")
            await editing_target.execute("begin")
            await editing_initiative.execute(
                "select 1 from targets.initiatives where id = $1 for update", initiative_id
            )
            unlinked = await editing_target.execute(
                "delete from targets.target_initiatives where target_id = $1", target_id
            )
            assert unlinked == "DELETE 1"
            unlinked = await editing_initiative.execute(
                "delete from targets.target_initiatives where initiative_id = $1", initiative_id
            )
            assert unlinked == "DELETE 1"
            link = asyncio.ensure_future(
                editing_target.execute(
                    "insert into targets.target_initiatives (target_id, initiative_id) values ($1, $2)",
                    target_id,
                    initiative_id,
                )
            )
            await editing_initiative.execute("commit")
            await link
            await editing_target.execute("commit")
        finally:
            await editing_initiative.close()
            await editing_target.close()

    asyncio.run(both())

    links = {t["id"]: t["initiative_ids"] for t in listed(api, plan)}
    assert links == {target["id"]: [str(initiative_id)], other_target["id"]: []}
