"""The dashboard in a real headless Chromium, against the demo year: what it shows is what the
GraphQL API answers for the same plan, and a screenshot of it illustrates the README."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Api
from tests.planner.conftest import REPO, DemoPlan

CHROMIUM = os.environ.get("PACER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "docs" / "dashboard.png"
HEALTH_LABEL = {
    "ON_TRACK": "on track",
    "AT_RISK": "at risk",
    "OFF_TRACK": "off track",
    "ACHIEVED": "achieved",
    "MISSED": "missed",
    "NOT_STARTED": "not started",
    "INSUFFICIENT_DATA": "insufficient data",
}

if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's `chromium` package (`make browser`)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)


# ---- the page's number formatting, restated in Decimal ---------------------------------------


def number(text: str | None, places: int, shift: int = 0) -> str:
    if text is None:
        return "—"
    value = Decimal(text).scaleb(shift).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{abs(value) if value == 0 else value:,.{places}f}"


def percent(text: str | None) -> str:
    return "—" if text is None else number(text, 1, 2) + " %"


def shown(text: str | None, unit: str) -> str:
    if text is None:
        return "—"
    return {
        "money": lambda: "¥" + number(text, 2),
        "ratio": lambda: number(text, 2, 2) + " %",
        "percent": lambda: number(text, 2) + " %",
        "score": lambda: number(text, 1),
    }.get(unit, lambda: number(text, 0))()


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except sync_api.Error as error:
            pytest.skip(f"Chromium at {CHROMIUM} does not start headless here: {error}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"


def today_in_business_zone() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def sign_in(page: Any, api: Api, fragment: str, token: str | None = None) -> None:
    page.goto(f"{api.stack.url('gateway')}/#{fragment}")
    page.fill("#token-input", token or api.token("viewer"))
    page.click("#sign-in")


def graphql(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = api.client("gateway", role="viewer").post(
        "/graphql", json={"query": query, "variables": variables}
    )
    body = answer.json()
    assert "errors" not in body, body
    return dict(body["data"])


BOARD = """
query($id: ID!, $asOf: Date!, $activeIn: String) {
  metricDefinitions { key unit }
  plan(id: $id) {
    targets(activeIn: $activeIn) {
      id parentId name department targetValue metricKey
      progress(asOf: $asOf) { actual expectedToDate attainment pace forecast health stale }
    }
  }
}
"""


def rows_on_page(page: Any) -> dict[str, dict[str, Any]]:
    return dict(
        page.evaluate(
            """() => {
              const cells = (row) => [...row.querySelectorAll('[data-field]')].map((cell) =>
                [cell.dataset.field, {text: cell.textContent.trim(), raw: cell.dataset.raw ?? null}]);
              const rows = [...document.querySelectorAll('#targets tbody tr[data-target-id]')];
              return Object.fromEntries(
                rows.map((row) => [row.dataset.targetId, Object.fromEntries(cells(row))]));
            }"""
        )
    )


# ---- tests -----------------------------------------------------------------------------------


def test_the_board_shows_every_target_with_the_apis_numbers(page: Any, api: Api, demo_plan: DemoPlan) -> None:
    as_of = today_in_business_zone()
    sign_in(page, api, f"plan={demo_plan.code}&asOf={as_of}")
    page.wait_for_selector("body[data-ready='targets']", timeout=60_000)

    data = graphql(api, BOARD, {"id": demo_plan.id, "asOf": as_of, "activeIn": None})
    units = {m["key"]: m["unit"] for m in data["metricDefinitions"]}
    targets = {t["id"]: t for t in data["plan"]["targets"]}
    rows = rows_on_page(page)

    # Top-level targets and their quarters are shown; the quarters' category splits are folded.
    depth = {tid: 0 if t["parentId"] is None else 1 + (targets[t["parentId"]]["parentId"] is not None)
             for tid, t in targets.items()}  # fmt: skip
    assert set(rows) == {tid for tid, d in depth.items() if d <= 1}
    for target_id, row in rows.items():
        target, progress = targets[target_id], targets[target_id]["progress"]
        unit = units[target["metricKey"]]
        assert row["name"]["text"] == target["name"]
        for field in ("actual", "attainment", "pace", "forecast"):
            assert row[field]["raw"] == progress[field], (target["name"], field)
        assert row["target"]["raw"] == target["targetValue"]
        assert row["attainment"]["text"] == percent(progress["attainment"])
        assert row["pace"]["text"] == percent(progress["pace"])
        assert row["actual"]["text"] == shown(progress["actual"], unit)
        assert row["target"]["text"] == shown(target["targetValue"], unit)
        assert row["forecast"]["text"] == shown(progress["forecast"], unit)
        assert row["expected"]["text"] == shown(progress["expectedToDate"], unit)
        assert row["health"]["text"] == HEALTH_LABEL[progress["health"]]
        assert ("stale" in row) == progress["stale"]
    # A chart per target: actual and expected lines.
    assert page.locator("#targets svg.spark polyline.actual").count() == len(rows)

    page.locator("tr[data-target-id] button.fold").first.click()
    assert len(rows_on_page(page)) == len(rows) + 2  # one quarter unfolds into its two categories

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_department_and_quarter_filters_narrow_the_board(page: Any, api: Api, demo_plan: DemoPlan) -> None:
    as_of = today_in_business_zone()
    year = as_of[:4]
    sign_in(page, api, f"plan={demo_plan.code}&asOf={as_of}")
    page.wait_for_selector("body[data-ready='targets']", timeout=60_000)

    page.select_option("#department", "finance")
    finance = rows_on_page(page)

    page.evaluate("document.body.dataset.ready = ''")
    page.select_option("#quarter", f"{year}Q2")
    page.wait_for_selector("body[data-ready='targets']", timeout=60_000)
    finance_q2 = rows_on_page(page)
    page.select_option("#department", "")
    q2 = rows_on_page(page)

    everything = graphql(api, BOARD, {"id": demo_plan.id, "asOf": as_of, "activeIn": None})["plan"]["targets"]
    in_q2 = graphql(api, BOARD, {"id": demo_plan.id, "asOf": as_of, "activeIn": f"{year}Q2"})["plan"][
        "targets"
    ]
    assert set(finance) == {t["id"] for t in everything if t["department"] == "finance"}
    assert finance and set(finance_q2) == set(finance)  # annual finance targets overlap Q2
    assert set(q2) <= {t["id"] for t in in_q2}
    names = {tid: next(t["name"] for t in everything if t["id"] == tid) for tid in q2}
    assert not any(name.endswith(f"{year}Q1") or name.endswith(f"{year}Q3") for name in names.values())
    assert "#" in page.url and "quarter=" in page.url


def test_the_review_page_shows_the_scorecard_snapshot_and_action_items(
    page: Any, api: Api, demo_plan: DemoPlan
) -> None:
    sign_in(page, api, f"plan={demo_plan.code}&view=reviews")
    page.wait_for_selector("body[data-ready='reviews']", timeout=60_000)

    [listed] = api.client("reviews").get("/v1/reviews", params={"plan_id": demo_plan.id}).json()["items"]
    review = api.client("reviews").get(f"/v1/reviews/{listed['id']}").json()
    for dimension in ("financial", "operational", "user", "overall"):
        cell = page.locator(f"[data-dimension='{dimension}'] [data-field='attainment']")
        assert cell.get_attribute("data-raw") == review["scorecard"][dimension]["attainment"]
        assert cell.inner_text() == percent(review["scorecard"][dimension]["attainment"])
    snapshot_rows = page.locator("[data-section='snapshot'] tbody tr")
    assert snapshot_rows.count() == len(review["snapshot"]["items"])
    for item in review["snapshot"]["items"]:
        row = page.locator(f"[data-section='snapshot'] tr[data-target-id='{item['target_id']}']")
        assert row.locator("[data-field='actual']").get_attribute("data-raw") == item["actual"]
        assert row.locator("[data-field='variance']").get_attribute("data-raw") == item["variance"]
    assert page.locator("[data-section='action-items'] tbody tr").count() == len(review["action_items"])
    assert "drivers:" in page.locator("[data-section='snapshot']").inner_text()

    page.click("text=Show the Markdown report")
    page.wait_for_selector("pre.report:not([hidden])")
    assert page.locator("pre.report").inner_text().lstrip().startswith("#")


def test_a_refused_token_sends_the_person_back_to_sign_in(page: Any, api: Api, demo_plan: DemoPlan) -> None:
    sign_in(page, api, f"plan={demo_plan.code}", token="not-a-jwt")

    page.wait_for_selector("#login:not([hidden]) #login-error:text('refused')", timeout=30_000)
    assert page.evaluate("sessionStorage.getItem('pacer.token')") is None


def test_the_development_viewer_button_signs_in_and_keeps_the_token_in_session_storage(
    page: Any, api: Api, demo_plan: DemoPlan
) -> None:
    page.goto(f"{api.stack.url('gateway')}/#plan={demo_plan.code}")
    page.click("#dev-token")
    page.wait_for_selector("body[data-ready='targets']", timeout=60_000)

    token = page.evaluate("sessionStorage.getItem('pacer.token')")
    assert token and token.count(".") == 2
    assert page.evaluate("localStorage.length") == 0
    assert rows_on_page(page)
