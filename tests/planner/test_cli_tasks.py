"""`pacer tasks import FILE --plan CODE`: a quarter's tasks from YAML or CSV, idempotent by external_ref."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import Api
from tests.planner.conftest import pacer


def _plan(api: Api, code: str) -> dict[str, Any]:
    created = api.client("targets").post(
        "/v1/plans", json={"code": code, "name": f"Plan {code}", "fiscal_year": 2025, "status": "active"}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _tasks(api: Api, plan_id: str) -> list[dict[str, Any]]:
    return list(
        api.client("targets").get(f"/v1/plans/{plan_id}/tasks", params={"limit": 500}).json()["items"]
    )


def test_yaml_import_creates_tasks_once_and_a_rerun_creates_nothing(
    api: Api, unique: str, tmp_path: Path
) -> None:
    plan = _plan(api, f"tasks-{unique}")
    path = tmp_path / "q3.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "tasks": [
                    {
                        "external_ref": "Q3-1",
                        "title": "Simplify sign-up",
                        "period": "2025Q3",
                        "department": "tech",
                    },
                    {
                        "external_ref": "Q3-2",
                        "title": "Member day in August",
                        "period": "2025-08",
                        "department": "marketing",
                        "assignee": "li.na",
                    },
                ]
            }
        )
    )

    first = pacer(api, "tasks", "import", str(path), "--plan", plan["code"])
    again = pacer(api, "tasks", "import", str(path), "--plan", plan["code"])

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "created 2, already present 0, differing 0"
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "created 0, already present 2, differing 0"
    stored = {t["external_ref"]: t for t in _tasks(api, plan["id"])}
    assert set(stored) == {"Q3-1", "Q3-2"}
    assert stored["Q3-2"]["assignee"] == "li.na"


def test_csv_import_reports_rows_that_differ_from_the_stored_task_and_keeps_it(
    api: Api, unique: str, tmp_path: Path
) -> None:
    plan = _plan(api, f"tasks-csv-{unique}")
    path = tmp_path / "q4.csv"
    path.write_text("external_ref,title,period,department\nQ4-1,Double 11 load test,2025Q4,tech\n")
    assert pacer(api, "tasks", "import", str(path), "--plan", plan["code"]).returncode == 0
    path.write_text("external_ref,title,period,department\nQ4-1,Double 11 load test x5,2025Q4,tech\n")

    result = pacer(api, "tasks", "import", str(path), "--plan", plan["code"])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created 0, already present 1, differing 1"
    assert "Q4-1: title" in result.stderr
    [task] = _tasks(api, plan["id"])
    assert task["title"] == "Double 11 load test"


def test_an_invalid_row_refuses_the_import_and_names_the_row(api: Api, unique: str, tmp_path: Path) -> None:
    plan = _plan(api, f"tasks-bad-{unique}")
    path = tmp_path / "bad.csv"
    path.write_text(
        "external_ref,title,period,department\nB-1,Fine,2025Q2,tech\nB-2,Outside the plan,2031Q1,tech\n"
    )

    result = pacer(api, "tasks", "import", str(path), "--plan", plan["code"])

    assert result.returncode == 1
    assert "refused: invalid_tasks" in result.stderr
    assert "row 2:" in result.stderr
    assert _tasks(api, plan["id"]) == []


def test_a_row_failing_the_schema_is_named_with_its_field(api: Api, unique: str, tmp_path: Path) -> None:
    plan = _plan(api, f"tasks-schema-{unique}")
    path = tmp_path / "blank.csv"
    path.write_text("external_ref,title,period,department\nS-1,Fine,2025Q2,tech\nS-2,,2025Q2,tech\n")

    result = pacer(api, "tasks", "import", str(path), "--plan", plan["code"])

    assert result.returncode == 1
    assert "refused: validation_error" in result.stderr
    assert "row 2: title:" in result.stderr
    assert _tasks(api, plan["id"]) == []


def test_a_csv_saved_with_a_byte_order_mark_imports_like_any_other(
    api: Api, unique: str, tmp_path: Path
) -> None:
    plan = _plan(api, f"tasks-bom-{unique}")
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffexternal_ref,title,period,department\nX-1,From a spreadsheet,2025Q2,tech\n".encode()
    )

    result = pacer(api, "tasks", "import", str(path), "--plan", plan["code"])

    assert result.returncode == 0, result.stderr
    assert [t["external_ref"] for t in _tasks(api, plan["id"])] == ["X-1"]


def test_an_unknown_plan_code_exits_non_zero(api: Api, unique: str, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("external_ref,title,period,department\nX-1,Anything,2025Q2,tech\n")

    result = pacer(api, "tasks", "import", str(path), "--plan", f"nope-{unique}")

    assert result.returncode == 1
    assert f"No plan with code nope-{unique}" in result.stderr
