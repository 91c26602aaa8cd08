"""The `pacer` command: development tokens, and `pacer run` starting and stopping everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_JWT_SECRET, Api, free_port

PACER = str(Path(sys.executable).with_name("pacer"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACER_")}
    env["PACER_JWT_SECRET"] = TEST_JWT_SECRET
    env.update(extra)
    return env


def test_pacer_token_prints_a_jwt_that_the_services_accept(api: Api) -> None:
    result = subprocess.run(
        [PACER, "token", "--role", "planner", "--department", "operations"],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    token = result.stdout.strip().splitlines()[-1]
    assert api.client("targets", token=token).get("/v1/plans").status_code == 200


def test_pacer_token_refuses_in_production_mode() -> None:
    result = subprocess.run(
        [PACER, "token", "--role", "admin"],
        capture_output=True,
        text=True,
        env=_env(PACER_ENVIRONMENT="production"),
    )
    assert result.returncode != 0
    assert "production" in result.stderr


def test_pacer_api_key_create_prints_a_working_ingest_key(api: Api, unique: str) -> None:
    result = subprocess.run(
        [PACER, "api-key", "create", "--name", f"erp-{unique}", "--scope", "ingest"],
        capture_output=True,
        text=True,
        env=_env(PACER_TARGETS_URL=api.stack.url("targets")),
        check=True,
    )
    key = result.stdout.strip().splitlines()[-1]
    assert api.client("metrics", token=key).post("/v1/events", json={"events": []}).status_code == 200


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="exercises the embedded database path")
def test_pacer_run_starts_everything_and_sigint_stops_it_all(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("GATEWAY", "TARGETS", "METRICS", "REVIEWS")}
    env = _env(
        PACER_DATA_DIR=str(tmp_path / "data"),
        **{f"PACER_{name}_PORT": str(port) for name, port in ports.items()},
        **{f"PACER_{name}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    )
    supervisor = subprocess.Popen(
        [PACER, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        ready: set[str] = set()
        while len(ready) < 4 and time.monotonic() < deadline:
            assert supervisor.poll() is None, supervisor.stderr.read() if supervisor.stderr else ""
            for name, port in ports.items():
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        ready.add(name)
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        assert len(ready) == 4, f"ready: {ready}"

        second = subprocess.run([PACER, "run"], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "already running" in second.stderr

        supervisor.send_signal(signal.SIGINT)
        _, stderr = supervisor.communicate(timeout=60)
        assert supervisor.returncode == 0, stderr
        assert "Stopped." in stderr
        assert not any(_listening(port) for port in ports.values())
        pgdata = tmp_path / "data" / "pg"
        assert not (pgdata / "postmaster.pid").exists(), "the embedded PostgreSQL is still running"
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_pacer_api_key_list_and_revoke_shut_a_leaked_key_out(api: Api, unique: str) -> None:
    env = _env(PACER_TARGETS_URL=api.stack.url("targets"))
    created = subprocess.run(
        [PACER, "api-key", "create", "--name", f"cli-{unique}", "--scope", "ingest"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    key_id = key[len("pk_") :].split("_", 1)[0]
    listed = subprocess.run([PACER, "api-key", "list"], capture_output=True, text=True, env=env, check=True)
    assert f"{key_id}\tcli-{unique}\tingest\tactive" in listed.stdout
    subprocess.run([PACER, "api-key", "revoke", key_id], capture_output=True, text=True, env=env, check=True)
    assert api.client("metrics", token=key).post("/v1/events", json={"events": []}).status_code == 401
    unknown = subprocess.run(
        [PACER, "api-key", "revoke", "nosuchkey"], capture_output=True, text=True, env=env
    )
    assert unknown.returncode == 1
    assert "api_key_not_found" in unknown.stderr
