"""`pacer review show PLAN QUARTER` prints the report; `pacer plans list` lists plans for scripts."""

from __future__ import annotations

from tests.conftest import Api
from tests.planner.conftest import DemoPlan, pacer


def test_review_show_prints_the_markdown_report_of_the_quarter(api: Api, demo_plan: DemoPlan) -> None:
    [review] = api.client("reviews").get("/v1/reviews", params={"plan_id": demo_plan.id}).json()["items"]
    expected = api.client("reviews").get(f"/v1/reviews/{review['id']}/report.md").text

    result = pacer(api, "review", "show", demo_plan.code, review["quarter"].lower())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected.strip()
    assert result.stdout.lstrip().startswith("#")


def test_review_show_of_a_quarter_without_review_exits_non_zero(api: Api, demo_plan: DemoPlan) -> None:
    result = pacer(api, "review", "show", demo_plan.code, "2001Q3")

    assert result.returncode == 1
    assert f"No review of {demo_plan.code} for 2001Q3" in result.stderr


def test_plans_list_prints_tab_separated_plans_for_scripts(api: Api, demo_plan: DemoPlan) -> None:
    result = pacer(api, "plans", "list")

    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert lines[0] == ["code", "name", "fiscal_year", "status", "id"]
    row = next(line for line in lines if line[0] == demo_plan.code)
    assert row[3:] == ["active", demo_plan.id]
