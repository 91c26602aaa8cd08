"""The metrics service with several worker processes, as `pacer run` starts it.

Each worker keeps its own answers and learns from the database's data version when they
changed, so whichever worker answers, an answer never predates a push. Prometheus samples of
all workers are summed by whichever worker is scraped. (The rest of the suite runs one
worker: it counts what a process kept in memory.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from shared.settings import Settings
from shared.stack import Stack
from tests.conftest import TEST_JWT_SECRET, Api, free_port
from tests.metrics.conftest import event

WORKERS = Settings.model_fields["metrics_workers"].default


@pytest.fixture(scope="module")
def workers(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(
        database_url=database_url,
        ports={name: free_port() for name in ("gateway", "targets", "metrics", "reviews")},
        log_dir=tmp_path_factory.mktemp("workers"),
        extra_env={"PACER_JWT_SECRET": TEST_JWT_SECRET, "PACER_LOG_LEVEL": "WARNING"},
        workers={"metrics": WORKERS},
    )
    running.start(("metrics",))
    try:
        running.wait_ready(timeout=90)
        yield running
    finally:
        running.stop()


def _fresh(stack: Stack, token: str) -> httpx.Client:
    """A client whose every request opens its own connection: requests reach any worker."""
    return httpx.Client(
        base_url=stack.url("metrics"),
        headers={"Authorization": f"Bearer {token}", "Connection": "close"},
        timeout=30.0,
    )


def test_the_service_runs_its_workers(workers: Stack) -> None:
    assert WORKERS >= 2
    supervisor = psutil.Process(workers.running["metrics"].process.pid)
    # Besides its workers, the supervisor may run multiprocessing's resource tracker.
    served = [child for child in supervisor.children() if "resource_tracker" not in " ".join(child.cmdline())]
    assert len(served) == WORKERS


def test_whichever_worker_answers_a_query_it_never_predates_a_push(
    workers: Stack, api: Api, ingest_key: str, unique: str
) -> None:
    category = f"workers-{unique}"
    query = {
        "queries": [
            {
                "id": "q",
                "metric": "gmv",
                "start": "2025-03-01",
                "end": "2025-03-31",
                "filters": {"category": category},
            }
        ]
    }
    with _fresh(workers, ingest_key) as ingest, _fresh(workers, api.token("viewer")) as reader:
        for round_ in range(4):
            pushed = ingest.post(
                "/v1/events",
                json={
                    "events": [
                        event(f"{unique}-{round_}", "gmv", "10.5", "2025-03-10T08:00:00Z", category=category)
                    ]
                },
            )
            assert pushed.status_code == 200, pushed.text
            # Asked again and again, over new connections: every worker, kept answers or not.
            answers = {reader.post("/v1/query", json=query).json()["results"][0]["value"] for _ in range(8)}
            assert answers == {str(Decimal("10.5") * (round_ + 1))}


def _route_count(text: str, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "pacer_http_requests_total" and sample.labels.get("route") == route
    )


def _recorded_by_each_worker(folder: Path, route: str) -> dict[str, float]:
    """The requests on `route` each worker process counted, read from its own samples file."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        counts[path.stem.rsplit("_", 1)[-1]] = sum(
            value
            for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
            if json.loads(key)[1] == "pacer_http_requests_total" and json.loads(key)[2].get("route") == route
        )
    return counts


def test_every_scrape_reports_the_requests_of_all_workers(workers: Stack, api: Api) -> None:
    folder = workers.running["metrics"].prometheus_dir
    assert folder is not None
    with _fresh(workers, api.token("viewer")) as reader:
        before = _route_count(reader.get("/metrics").text, "/v1/metrics")
        # New connections until every worker has answered some (which worker accepts a
        # connection is the kernel's choice).
        sent = 0
        deadline = time.monotonic() + 30
        while sent < 12 or min(_recorded_by_each_worker(folder, "/v1/metrics").values(), default=0) == 0:
            assert time.monotonic() < deadline, _recorded_by_each_worker(folder, "/v1/metrics")
            assert reader.get("/v1/metrics").status_code == 200
            sent += 1
        # A worker counts a request once it has answered it: wait for the last count to land.
        while sum(_recorded_by_each_worker(folder, "/v1/metrics").values()) < before + sent:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        scrapes = {_route_count(reader.get("/metrics").text, "/v1/metrics") for _ in range(8)}
    by_worker = _recorded_by_each_worker(folder, "/v1/metrics")
    assert len(by_worker) == WORKERS and all(by_worker.values())
    assert scrapes == {before + sent} == {sum(by_worker.values())}


def test_whichever_worker_takes_a_push_it_judges_it_by_the_definition_as_last_edited(
    workers: Stack, api: Api, ingest_key: str, unique: str
) -> None:
    key = f"bounded_{unique}"
    with _fresh(workers, api.token("planner")) as planner, _fresh(workers, ingest_key) as ingest:
        created = planner.post(
            "/v1/metrics", json={"key": key, "name": "Bounded", "unit": "count", "value_max": "10"}
        )
        assert created.status_code == 201, created.text

        folder = workers.running["metrics"].prometheus_dir
        assert folder is not None

        def codes(value: str, round_: int) -> set[str | None]:
            """What pushes of `value` answer, over new connections, until every worker has
            taken some of them (which worker accepts a connection is the kernel's choice)."""
            before = _recorded_by_each_worker(folder, "/v1/events")
            answers = set()
            deadline = time.monotonic() + 30
            i = 0
            while True:
                pushed = ingest.post(
                    "/v1/events",
                    json={"events": [event(f"{key}-{round_}-{i}", key, value, "2025-03-10T08:00:00Z")]},
                )
                assert pushed.status_code == 200, pushed.text
                rejected = pushed.json()["rejected"]
                answers.add(rejected[0]["code"] if rejected else None)
                i += 1
                took = _recorded_by_each_worker(folder, "/v1/events")
                if i >= 8 and len(took) == WORKERS and all(took[w] > before.get(w, 0) for w in took):
                    return answers
                assert time.monotonic() < deadline, took

        # Every worker reads (and keeps) the catalogue ...
        assert codes("5", 0) == {None}
        edited = planner.patch(
            f"/v1/metrics/{key}",
            json={"value_max": "3"},
            headers={"If-Match": f'"{created.json()["version"]}"'},
        )
        assert edited.status_code == 200, edited.text
        # ... and none goes on judging by the catalogue it kept.
        assert codes("5", 1) == {"invalid_value"}
        assert codes("3", 2) == {None}
