"""Starts and stops Pacer's processes: three services and the gateway, each its own uvicorn.

Used by `pacer run` and by the test session, so both run exactly the same processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from shared.settings import PROMETHEUS_DIR_VARIABLE, Settings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    app: str  # uvicorn factory path


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("metrics", "services.metrics.app:create_app"),
    ServiceSpec("targets", "services.targets.app:create_app"),
    ServiceSpec("reviews", "services.reviews.app:create_app"),
    ServiceSpec("gateway", "services.gateway.app:create_app"),
)


@dataclass
class RunningService:
    spec: ServiceSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None
    log_handle: IO[bytes] | None = None
    # Where several worker processes keep their Prometheus samples (`shared.api` sums them).
    prometheus_dir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    database_url: str
    ports: dict[str, int]
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: dict[str, int] = field(default_factory=dict)
    running: dict[str, RunningService] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, database_url: str, **kwargs: object) -> Stack:
        ports = {
            "gateway": settings.gateway_port,
            "targets": settings.targets_port,
            "metrics": settings.metrics_port,
            "reviews": settings.reviews_port,
        }
        kwargs.setdefault("workers", {"metrics": settings.metrics_workers})
        return cls(database_url=database_url, ports=ports, host=settings.host, **kwargs)  # type: ignore[arg-type]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "PACER_TARGETS_URL": self.url("targets"),
                "PACER_METRICS_URL": self.url("metrics"),
                "PACER_REVIEWS_URL": self.url("reviews"),
                "PACER_GATEWAY_URL": self.url("gateway"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start_service(self, spec: ServiceSpec) -> RunningService:
        port = self.ports[spec.name]
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            spec.app,
            "--factory",
            # h11 refuses oversized request headers (431); httptools, were it installed, would not.
            "--http",
            "h11",
            "--host",
            self.host,
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "5",
        ]
        env = self.environment()
        workers = self.workers.get(spec.name, 1)
        prometheus_dir = None
        env.pop(PROMETHEUS_DIR_VARIABLE, None)  # one process: its own samples
        if workers > 1:
            # The supervisor's own lines are uvicorn's plain text: only its warnings (a worker
            # restarted) are written. The workers log JSON as any process does.
            command += ["--workers", str(workers), "--log-level", "warning"]
            # Empty at every start: samples of earlier processes would be counted again.
            prometheus_dir = Path(tempfile.mkdtemp(prefix=f"pacer-{spec.name}-prometheus-"))
            env[PROMETHEUS_DIR_VARIABLE] = str(prometheus_dir)
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{spec.name}.log" if self.log_dir else None
        handle = log_path.open("ab") if log_path else None
        process = subprocess.Popen(
            command,
            env=env,
            stdout=handle if handle else None,
            stderr=subprocess.STDOUT if handle else None,
            # Own process group: Ctrl-C reaches the supervisor, which stops children in order.
            start_new_session=True,
        )
        service = RunningService(spec, port, process, log_path, handle, prometheus_dir)
        self.running[spec.name] = service
        return service

    def start(self, names: tuple[str, ...] | None = None) -> None:
        for spec in SERVICES:
            if names is None or spec.name in names:
                self.start_service(spec)

    def wait_ready(self, timeout: float = 60.0, names: tuple[str, ...] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = {n for n in self.running if names is None or n in names}
        with httpx.Client(timeout=1.0) as client:
            while pending:
                for name in sorted(pending):
                    service = self.running[name]
                    if service.process.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited with {service.process.returncode}; see {service.log_path}"
                        )
                    try:
                        if client.get(f"{service.url}/readyz").status_code == 200:
                            pending.discard(name)
                    except httpx.TransportError:
                        pass
                if pending:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}")
                    time.sleep(0.1)

    def stop_service(self, name: str, *, kill: bool = False, timeout: float = 10.0) -> None:
        service = self.running.pop(name, None)
        if service is None:
            return
        process = service.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if service.log_handle:
            service.log_handle.close()
        if service.prometheus_dir is not None:
            shutil.rmtree(service.prometheus_dir, ignore_errors=True)

    def stop(self) -> None:
        # The gateway first, the services it calls after it.
        for spec in reversed(SERVICES):
            self.stop_service(spec.name)
