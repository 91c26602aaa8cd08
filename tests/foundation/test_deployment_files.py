"""docker-compose.yml runs the same processes as `make run`; no Docker engine here, so read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared.settings import PROMETHEUS_DIR_VARIABLE, Settings
from shared.stack import SERVICES

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"gateway": 8000, "targets": 8001, "metrics": 8002, "reviews": 8003}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_compose_runs_postgres_migrations_and_the_four_processes() -> None:
    services = _compose()["services"]
    assert {"postgres", "migrate", "gateway", "targets", "metrics", "reviews"} <= services.keys()
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["pacer", "migrate"]


def test_each_process_runs_the_same_app_and_port_as_make_run() -> None:
    services = _compose()["services"]
    for spec in SERVICES:
        command = services[spec.name]["command"]
        assert command[:3] == ["uvicorn", spec.app, "--factory"]
        # The HTTP parser that refuses oversized headers, as `make run` names it too.
        assert command[command.index("--http") + 1] == "h11"
        port = PORTS[spec.name]
        assert command[-1] == str(port)
        assert services[spec.name]["ports"] == [f"{port}:{port}"]


def test_the_metrics_service_runs_as_many_workers_as_make_run_and_sums_their_prometheus_samples() -> None:
    services = _compose()["services"]
    for spec in SERVICES:
        command = services[spec.name]["command"]
        assert ("--workers" in command) == (spec.name == "metrics")
    command = services["metrics"]["command"]
    # The same setting as `make run`, with the same default.
    assert command[command.index("--workers") + 1] == (
        f"${{PACER_METRICS_WORKERS:-{Settings.model_fields['metrics_workers'].default}}}"
    )
    metrics = services["metrics"]
    folder = metrics["environment"][PROMETHEUS_DIR_VARIABLE]
    assert folder in metrics["tmpfs"]  # empty at every start of the container


def test_each_process_has_a_readiness_healthcheck_and_waits_for_migrations() -> None:
    services = _compose()["services"]
    for spec in SERVICES:
        service = services[spec.name]
        port = PORTS[spec.name]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])
        depends = service["depends_on"]
        if spec.name == "gateway":
            assert all(
                depends[n]["condition"] == "service_healthy" for n in ("targets", "metrics", "reviews")
            )
        else:
            assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_process_gets_the_database_and_the_other_services_urls() -> None:
    services = _compose()["services"]
    for name in ("migrate", *PORTS):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["PACER_TARGETS_URL"] == "http://targets:8001"
        assert env["PACER_METRICS_URL"] == "http://metrics:8002"
        assert env["PACER_REVIEWS_URL"] == "http://reviews:8003"
        assert "PACER_JWT_SECRET" in env


def test_the_image_installs_the_project_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile
    assert "USER pacer" in dockerfile
    for folder in ("shared", "services", "cli", "migrations"):
        assert f"COPY {folder} ./{folder}" in dockerfile
