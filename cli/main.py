"""`pacer` — start the stack, migrate, mint a development token, manage API keys."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import httpx
import typer

from cli.client import CliError, ServiceCaller, credential
from cli.commands import events_app, plans_app, review_app, tasks_app
from shared.auth import Role, Scope, mint_dev_token
from shared.database_server import RunLock, ensure_database, start_embedded
from shared.migrate import upgrade
from shared.settings import Settings, get_settings
from shared.stack import Stack

app = typer.Typer(help="Pacer: annual plan, targets, metrics and retrospectives.", no_args_is_help=True)
api_key_app = typer.Typer(help="API keys for machines (ERP/BI pushes, scripts).", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")
app.add_typer(events_app, name="events")
app.add_typer(tasks_app, name="tasks")
app.add_typer(review_app, name="review")
app.add_typer(plans_app, name="plans")

EMBEDDED_DATABASE = "pacer"


def _say(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def database(settings: Settings, *, own_embedded: bool) -> Iterator[str]:
    """Yields the database URL: DATABASE_URL, or the embedded server (started, and stopped
    afterwards only when `own_embedded` — the supervisor owns it)."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = start_embedded(settings.data_dir / "pg")
    try:
        ensure_database(embedded.admin_url, EMBEDDED_DATABASE)
        yield embedded.url(EMBEDDED_DATABASE)
    finally:
        if own_embedded:
            embedded.stop()


@app.command()
def run(
    demo: Annotated[bool, typer.Option(help="Load the demo year once the stack is ready.")] = False,
) -> None:
    """Start the database, apply migrations, run the three services and the gateway until Ctrl-C."""
    settings = get_settings()
    lock = RunLock(settings.data_dir)
    if not lock.acquire():
        _say(f"Pacer is already running from {settings.data_dir} (supervisor pid {lock.holder()}).")
        raise typer.Exit(1)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack: Stack | None = None
    try:
        with database(settings, own_embedded=True) as url:
            _say("Applying migrations…")
            upgrade(url)
            stack = Stack.from_settings(settings, url)
            stack.start()
            stack.wait_ready(timeout=60)
            _say("")
            _say("Pacer is running:")
            _say(f"  gateway (GraphQL + dashboard)  {stack.url('gateway')}/graphql")
            _say(f"  targets                        {stack.url('targets')}/docs")
            _say(f"  metrics                        {stack.url('metrics')}/docs")
            _say(f"  reviews                        {stack.url('reviews')}/docs")
            _say("Get a token:  .venv/bin/pacer token --role planner --department operations")
            _say("Stop with Ctrl-C.")
            if demo:
                from cli.demo import load_demo

                load_demo(settings, gateway=stack.url("gateway"))
            while not stopping:
                for name, service in list(stack.running.items()):
                    if service.process.poll() is not None:
                        _say(f"{name} exited with code {service.process.returncode}; stopping.")
                        stopping = True
                time.sleep(0.2)
            _say("Stopping…")
            stack.stop()
            stack = None
    finally:
        if stack is not None:
            stack.stop()
        lock.release()
    _say("Stopped.")


@app.command()
def demo(
    small: Annotated[
        bool, typer.Option(help="Two categories and two channels only: a quick load for trying things.")
    ] = False,
    plan_code: Annotated[str | None, typer.Option(help="Plan code (default DEMO-<this year>).")] = None,
) -> None:
    """Load the demo year into the running stack (safe to re-run: nothing is stored twice)."""
    from cli.demo import CATEGORIES, CHANNELS, SMALL_CATEGORIES, SMALL_CHANNELS, load_demo

    settings = get_settings()
    report = load_demo(
        settings,
        gateway=settings.gateway_url,
        plan_code=plan_code,
        categories=SMALL_CATEGORIES if small else CATEGORIES,
        channels=SMALL_CHANNELS if small else CHANNELS,
    )
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Apply the database migrations (DATABASE_URL, or the embedded database)."""
    settings = get_settings()
    running = not RunLock(settings.data_dir).acquire()
    with database(settings, own_embedded=not running) as url:
        upgrade(url)
    _say("Migrations applied.")


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="admin, planner, member or viewer")] = Role.PLANNER,
    department: Annotated[str | None, typer.Option(help="Department claim (required for members).")] = None,
    subject: Annotated[str, typer.Option(help="Who the token speaks for.")] = "dev-user",
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds.")] = None,
) -> None:
    """Print a development JWT (HS256, the configured secret). Refused in production mode."""
    settings = get_settings()
    if settings.production:
        _say("Development tokens are not issued in production; use your identity provider.")
        raise typer.Exit(2)
    if role == Role.MEMBER and not department:
        _say("A member token needs --department.")
        raise typer.Exit(2)
    typer.echo(mint_dev_token(settings, subject=subject, role=role, department=department, ttl_seconds=ttl))


@api_key_app.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="Who will use it, e.g. erp.")],
    scope: Annotated[list[Scope], typer.Option(help="ingest, tasks or read (repeatable).")],
) -> None:
    """Create an API key (admin). The key is printed once, as the last line; only its hash is kept."""
    settings = get_settings()
    response = httpx.post(
        f"{settings.targets_url}/v1/api-keys",
        json={"name": name, "scopes": [s.value for s in scope]},
        headers={"Authorization": f"Bearer {credential(settings)}"},
        timeout=settings.http_timeout_seconds,
    )
    if response.status_code != 201:
        _say(f"Refused ({response.status_code}): {response.text}")
        raise typer.Exit(1)
    body = response.json()
    _say(f"API key '{body['name']}' with scopes {', '.join(body['scopes'])} (shown once):")
    typer.echo(body["key"])


@api_key_app.command("list")
def api_key_list() -> None:
    """List API keys (admin): id, name, scopes and whether revoked — never the secret."""
    settings = get_settings()
    with ServiceCaller(settings.targets_url, credential(settings)) as targets:
        for key in targets.items("/v1/api-keys"):
            state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
            typer.echo(f"{key['key_id']}\t{key['name']}\t{','.join(key['scopes'])}\t{state}")


@api_key_app.command("revoke")
def api_key_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (the part after pk_).")]) -> None:
    """Revoke an API key (admin): every later call with it is refused."""
    settings = get_settings()
    with ServiceCaller(settings.targets_url, credential(settings)) as targets:
        try:
            targets.call("DELETE", f"/v1/api-keys/{key_id}")
        except CliError as exc:
            _say(f"refused: {exc}")
            raise typer.Exit(1) from exc
    _say(f"API key {key_id} revoked.")


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
