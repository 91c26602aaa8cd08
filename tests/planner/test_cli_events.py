"""`pacer events push FILE.csv`: batches, a summary, a non-zero exit on rejects, safe to re-run."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from tests.conftest import Api
from tests.planner.conftest import pacer

COLUMNS = ["event_id", "metric", "value", "occurred_at", "category", "channel", "region", "source"]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _gmv_rows(unique: str, n: int) -> list[dict[str, str]]:
    return [
        {
            "event_id": f"cli-{unique}-{i}",
            "metric": "gmv",
            "value": f"{100 + i}.25",
            "occurred_at": f"2025-03-{1 + i % 28:02d}T12:00:00+08:00",
            "category": f"beauty-{unique}",
            "channel": "app",
            "region": "east",
            "source": "test",
        }
        for i in range(n)
    ]


def _gmv(api: Api, unique: str) -> Decimal:
    answer = api.client("metrics").post(
        "/v1/query",
        json={
            "queries": [
                {
                    "id": "q",
                    "metric": "gmv",
                    "start": "2025-01-01",
                    "end": "2025-12-31",
                    "filters": {"category": f"beauty-{unique}"},
                }
            ]
        },
    )
    return Decimal(answer.json()["results"][0]["value"])


def test_pushed_csv_is_stored_in_batches_and_a_rerun_only_counts_duplicates(
    api: Api, unique: str, tmp_path: Path
) -> None:
    rows = _gmv_rows(unique, 25)
    path = _write(tmp_path / "events.csv", rows)

    first = pacer(api, "events", "push", str(path), "--batch-size", "10")
    again = pacer(api, "events", "push", str(path), "--batch-size", "10")

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "accepted 25, duplicates 0, rejected 0"
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "accepted 0, duplicates 25, rejected 0"
    assert _gmv(api, unique) == sum(Decimal(r["value"]) for r in rows)


def test_rejected_rows_are_listed_the_good_ones_kept_and_the_exit_code_is_non_zero(
    api: Api, unique: str, tmp_path: Path
) -> None:
    rows = _gmv_rows(unique, 3)
    rows.append(rows[0] | {"event_id": f"cli-{unique}-bad-metric", "metric": "no_such_metric"})
    rows.append(rows[0] | {"event_id": f"cli-{unique}-no-zone", "occurred_at": "2025-03-02T12:00:00"})
    path = _write(tmp_path / "events.csv", rows)

    result = pacer(api, "events", "push", str(path), "--batch-size", "2")

    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == "accepted 3, duplicates 0, rejected 2"
    # Rows are numbered as in the file (header = line 1), across batches.
    assert f"row 5: cli-{unique}-bad-metric — unknown_metric" in result.stderr
    assert f"row 6: cli-{unique}-no-zone — timestamp_without_zone" in result.stderr
    assert _gmv(api, unique) == sum(Decimal(r["value"]) for r in rows[:3])


def test_an_ingest_api_key_in_pacer_token_is_enough_to_push(api: Api, unique: str, tmp_path: Path) -> None:
    created = api.client("targets", role="admin").post(
        "/v1/api-keys", json={"name": f"erp-{unique}", "scopes": ["ingest"]}
    )
    assert created.status_code == 201, created.text
    path = _write(tmp_path / "events.csv", _gmv_rows(unique, 2))

    result = pacer(api, "events", "push", str(path), PACER_TOKEN=created.json()["key"])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("accepted 2, duplicates 0, rejected 0")


def test_a_refused_credential_is_one_clear_line_not_a_traceback(
    api: Api, unique: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "events.csv", _gmv_rows(unique, 1))

    result = pacer(api, "events", "push", str(path), PACER_TOKEN="not-a-token")

    assert result.returncode == 1
    assert "refused: " in result.stderr
    assert "Traceback" not in result.stderr
