"""The snapshot: every target active in the quarter, its variance explained by dimension and by
driver, the scorecard, re-snapshots that say what moved, and drift after finalize."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Api
from tests.reviews.support import Scenario, dec_sum, item_of, ok, problem

LAST_YEAR, THIS_YEAR = "2024-05-10", "2025-05-10"


@pytest.fixture
def world(api: Api, unique: str) -> dict[str, Any]:
    """Q2 2025 GMV target 1000 in the scenario's region; last year 1000 GMV at 2 % conversion and
    AOV 5 (categories a 60 % / b 40 %, channels app 60 % / web 40 %); this year 800 GMV, 9000 UV,
    160 orders (AOV still 5); a conversion-rate target of 2 % and a Q3 target."""
    s = Scenario(api, unique).create_plan()
    a, b = f"a-{unique}", f"b-{unique}"
    s.push(
        ("gmv", LAST_YEAR, 500, {"category": a, "channel": "app"}),
        ("gmv", LAST_YEAR, 100, {"category": a, "channel": "web"}),
        ("gmv", LAST_YEAR, 100, {"category": b, "channel": "app"}),
        ("gmv", LAST_YEAR, 300, {"category": b, "channel": "web"}),
        ("uv", LAST_YEAR, 6000, {"category": a, "channel": "app"}),
        ("uv", LAST_YEAR, 4000, {"category": b, "channel": "web"}),
        ("orders", LAST_YEAR, 120, {"category": a, "channel": "app"}),
        ("orders", LAST_YEAR, 80, {"category": b, "channel": "web"}),
        ("gmv", THIS_YEAR, 300, {"category": a, "channel": "app"}),
        ("gmv", THIS_YEAR, 50, {"category": a, "channel": "web"}),
        ("gmv", THIS_YEAR, 100, {"category": b, "channel": "app"}),
        ("gmv", THIS_YEAR, 350, {"category": b, "channel": "web"}),
        ("uv", THIS_YEAR, 5000, {"category": a, "channel": "app"}),
        ("uv", THIS_YEAR, 4000, {"category": b, "channel": "web"}),
        ("orders", THIS_YEAR, 80, {"category": a, "channel": "app"}),
        ("orders", THIS_YEAR, 80, {"category": b, "channel": "web"}),
    )
    gmv = s.target(name=f"GMV {unique}", target_value="1000", weight="2")
    conversion = s.target(
        name=f"Conversion {unique}", metric="conversion_rate", target_value="0.02", department="operations"
    )
    later = s.target(name=f"GMV Q3 {unique}", period="2025Q3", target_value="5000")
    review = s.open_review("2025Q2")
    return {"s": s, "a": a, "b": b, "gmv": gmv, "conversion": conversion, "later": later, "review": review}


def parts_by_value(item: dict[str, Any], dimension: str) -> dict[str | None, dict[str, Any]]:
    return {p["value"]: p for p in item["attribution"]["by_dimension"][dimension]}


def test_the_snapshot_compares_target_and_actual_for_every_target_active_in_the_quarter(
    world: dict[str, Any],
) -> None:
    review = world["s"].snapshot(world["review"]["id"])
    assert review["snapshot"]["as_of"] == "2025-06-30"
    ids = {i["target_id"] for i in review["snapshot"]["items"]}
    assert ids == {world["gmv"]["id"], world["conversion"]["id"]}  # the Q3 target is not active in Q2
    gmv = item_of(review, world["gmv"]["id"])
    assert Decimal(gmv["target_value"]) == 1000
    assert Decimal(gmv["actual"]) == 800
    assert Decimal(gmv["attainment"]) == Decimal("0.8")
    assert Decimal(gmv["variance"]) == -200
    assert Decimal(gmv["variance_pct"]) == Decimal("-0.2")
    assert gmv["health"] == "MISSED"


def test_the_gap_is_attributed_by_category_and_channel_against_last_years_mix(world: dict[str, Any]) -> None:
    gmv = item_of(world["s"].snapshot(world["review"]["id"]), world["gmv"]["id"])
    assert gmv["attribution"]["methods"] == {"category": "last_year_mix", "channel": "last_year_mix"}
    category = parts_by_value(gmv, "category")
    a, b = category[world["a"]], category[world["b"]]
    assert (Decimal(a["target"]), Decimal(a["actual"]), Decimal(a["variance"])) == (600, 350, -250)
    assert (Decimal(b["target"]), Decimal(b["actual"]), Decimal(b["variance"])) == (400, 450, 50)
    assert Decimal(a["share"]) == Decimal("1.25")  # a explains 125 % of the gap, b makes up 25 %
    channel = parts_by_value(gmv, "channel")
    assert Decimal(channel["app"]["variance"]) == -200 and Decimal(channel["web"]["variance"]) == 0
    for dimension in ("category", "channel"):
        assert dec_sum([p["variance"] for p in gmv["attribution"]["by_dimension"][dimension]]) == -200


def test_gmv_drivers_split_the_gap_into_traffic_conversion_and_basket_exactly(world: dict[str, Any]) -> None:
    gmv = item_of(world["s"].snapshot(world["review"]["id"]), world["gmv"]["id"])
    drivers = gmv["attribution"]["drivers"]
    assert drivers["method"] == "lmdi"
    traffic, conversion, basket = (Decimal(drivers[k]) for k in ("traffic", "conversion", "basket"))
    assert traffic + conversion + basket == Decimal(drivers["total"]) == Decimal(gmv["variance"]) == -200
    assert basket == 0  # AOV stayed at 5
    assert conversion < traffic < 0  # conversion (2 % → 1.78 %) fell more than traffic (−10 %)
    assert Decimal(drivers["planned"]["uv"]) == 10000 and Decimal(drivers["planned"]["aov"]) == 5
    assert Decimal(drivers["actual"]["uv"]) == 9000


def test_a_rate_target_is_attributed_by_each_childs_volume_weighted_rate_gap(world: dict[str, Any]) -> None:
    item = item_of(world["s"].snapshot(world["review"]["id"]), world["conversion"]["id"])
    assert item["attribution"]["methods"]["category"] == "rate_by_volume"
    category = parts_by_value(item, "category")
    # a: (80 − 2 % × 5000) / 9000 ; b: (80 − 2 % × 4000) / 9000 = 0
    assert abs(Decimal(category[world["a"]]["variance"]) - Decimal(-20) / 9000) < Decimal("0.000002")
    assert Decimal(category[world["b"]]["variance"]) == 0
    assert dec_sum([p["variance"] for p in category.values()]) == Decimal(item["variance"])
    assert item["attribution"]["drivers"] is None


def test_a_rate_target_decomposed_by_a_dimension_is_still_attributed_along_it(
    world: dict[str, Any],
) -> None:
    s, conversion = world["s"], world["conversion"]
    ok(
        s.targets_api().post(
            f"/v1/targets/{conversion['id']}/decompose",
            json={"by": "category", "values": [world["a"], world["b"]], "weights": "even"},
        ),
        201,
    )
    # Rates are not added up across children: the gap along the split is the volume-weighted
    # one, exactly as for a rate that was never decomposed.
    item = item_of(s.snapshot(world["review"]["id"]), conversion["id"])
    assert item["attribution"]["methods"]["category"] == "rate_by_volume"
    category = parts_by_value(item, "category")
    assert abs(Decimal(category[world["a"]]["variance"]) - Decimal(-20) / 9000) < Decimal("0.000002")
    assert dec_sum([p["variance"] for p in category.values()]) == Decimal(item["variance"])


def test_the_scorecard_weighs_attainment_by_evaluation_dimension(world: dict[str, Any]) -> None:
    review = world["s"].snapshot(world["review"]["id"])
    gmv = Decimal(item_of(review, world["gmv"]["id"])["attainment"])
    conversion = Decimal(item_of(review, world["conversion"]["id"])["attainment"])
    card = review["scorecard"]
    assert Decimal(card["financial"]["attainment"]) == gmv.quantize(Decimal("0.0001"))
    assert Decimal(card["operational"]["attainment"]) == conversion.quantize(Decimal("0.0001"))
    assert card["user"]["attainment"] is None and card["user"]["targets"] == 0
    overall = ((2 * gmv + conversion) / 3).quantize(Decimal("0.0001"))
    assert Decimal(card["overall"]["attainment"]) == overall
    assert card["overall"]["targets"] == 2


def test_a_resnapshot_replaces_the_snapshot_and_says_what_moved(world: dict[str, Any]) -> None:
    s, rid = world["s"], world["review"]["id"]
    first = s.snapshot(rid)
    assert first["changes"] is None
    assert s.snapshot(rid)["changes"] == []  # retaken with nothing new: nothing moved
    s.push(("gmv", "2025-06-01", 100, {"category": world["b"], "channel": "web"}))
    second = s.snapshot(rid)
    assert second["version"] == first["version"] + 2
    moved = {(c["target_id"], c["field"]): c for c in second["changes"]}
    actual = moved[(world["gmv"]["id"], "actual")]
    assert (Decimal(actual["from"]), Decimal(actual["to"])) == (800, 900)
    assert (world["conversion"]["id"], "actual") not in moved
    assert Decimal(item_of(second, world["gmv"]["id"])["variance"]) == -100


def test_variance_against_decomposed_children_uses_the_childrens_targets(api: Api, unique: str) -> None:
    s = Scenario(api, unique).create_plan()
    a, b = f"a-{unique}", f"b-{unique}"
    s.push(("gmv", THIS_YEAR, 350, {"category": a}), ("gmv", THIS_YEAR, 450, {"category": b}))
    parent = s.target(target_value="1000")
    ok(
        s.targets_api().post(
            f"/v1/targets/{parent['id']}/decompose",
            json={"by": "category", "values": [a, b], "weights": {a: "0.7", b: "0.3"}},
        ),
        201,
    )
    review = s.snapshot(s.open_review()["id"])
    item = item_of(review, parent["id"])
    assert item["attribution"]["methods"]["category"] == "children"
    category = parts_by_value(item, "category")
    assert Decimal(category[a]["target"]) == 700 and Decimal(category[a]["variance"]) == -350
    assert Decimal(category[b]["target"]) == 300 and Decimal(category[b]["variance"]) == 150
    assert dec_sum([p["variance"] for p in category.values()]) == Decimal(item["variance"]) == -200
    # The children are in the snapshot too, but the scorecard counts the goal once.
    assert len(review["snapshot"]["items"]) == 3
    assert review["scorecard"]["financial"]["targets"] == 1


def test_late_events_leave_the_frozen_snapshot_alone_and_show_as_drift(world: dict[str, Any]) -> None:
    s, rid = world["s"], world["review"]["id"]
    s.snapshot(rid)
    frozen = ok(s.reviews_api().post(f"/v1/reviews/{rid}/finalize"))
    s.push(("gmv", "2025-06-20", 50, {"category": world["a"], "channel": "app"}))
    again = ok(s.reviews_api("viewer").get(f"/v1/reviews/{rid}"))
    assert again["snapshot"] == frozen["snapshot"] and again["drift"] is None
    drift = ok(s.reviews_api("viewer").get(f"/v1/reviews/{rid}/drift"))
    assert drift["as_of"] == "2025-06-30" and drift["drifted"] is True
    moved = {d["target_id"]: d for d in drift["items"]}[world["gmv"]["id"]]
    assert (Decimal(moved["snapshot_actual"]), Decimal(moved["current_actual"])) == (800, 850)
    assert Decimal(moved["drift"]) == 50
    with_drift = ok(s.reviews_api().get(f"/v1/reviews/{rid}", params={"drift": "true"}))
    assert with_drift["drift"]["drifted"] is True
    problem(s.reviews_api().post(f"/v1/reviews/{rid}/snapshot"), 409, "review_finalized")


def _calls(api: Api, service: str, request_id: str) -> list[str]:
    calls = []
    for line in api.log(service).splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "request" and entry.get("request_id") == request_id:
            calls.append(f"{entry['method']} {entry['path']}")
    return calls


def test_a_snapshot_costs_the_same_calls_for_one_target_or_many(api: Api, unique: str) -> None:
    s = Scenario(api, unique).create_plan()
    s.target(name=f"GMV {unique}", target_value="1000")
    rid = s.open_review()["id"]

    def snapshot_calls(tag: str) -> tuple[list[str], list[str]]:
        request_id = f"snap-{unique}-{tag}"
        ok(s.reviews_api().post(f"/v1/reviews/{rid}/snapshot", headers={"x-request-id": request_id}))
        time.sleep(0.3)  # let the services flush their access log lines
        return sorted(_calls(api, "targets", request_id)), sorted(_calls(api, "metrics", request_id))

    one_targets, one_metrics = snapshot_calls("one")
    for n in range(4):
        s.target(
            name=f"GMV {unique} {n}",
            scope={"region": s.region, "category": f"c{n}-{unique}"},
            target_value="10",
        )
    many_targets, many_metrics = snapshot_calls("many")
    assert one_targets.count("POST /v1/progress") == 1
    assert (many_targets, many_metrics) == (one_targets, one_metrics)


def test_a_snapshot_may_be_taken_as_of_a_day_inside_the_quarter_only(world: dict[str, Any]) -> None:
    s, rid = world["s"], world["review"]["id"]
    api = s.reviews_api()
    problem(
        api.post(f"/v1/reviews/{rid}/snapshot", json={"as_of": "2025-07-01"}), 422, "as_of_outside_quarter"
    )
    review = ok(api.post(f"/v1/reviews/{rid}/snapshot", json={"as_of": "2025-05-05"}))
    assert review["snapshot"]["as_of"] == "2025-05-05"
    gmv = item_of(review, world["gmv"]["id"])
    # Mid-period the plan is what the progress module expected by then, not the whole target.
    # Last year's sales all came on 10 May: one day does not cover 2024Q2, so the expectation is
    # linear (35 of 91 days), not "nothing before the 10th".
    assert Decimal(gmv["target_value"]) == 1000
    assert (Decimal(gmv["planned"]), Decimal(gmv["actual"]), Decimal(gmv["variance"])) == (
        Decimal("384.62"),
        0,
        Decimal("-384.62"),
    )
