"""Commands scripts run against the running stack: push events, import tasks, read plans and reviews."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cli.client import CliError, ServiceCaller, credential
from shared.auth import Role
from shared.settings import get_settings

events_app = typer.Typer(help="Metric events.", no_args_is_help=True)
tasks_app = typer.Typer(help="Tasks of a plan.", no_args_is_help=True)
review_app = typer.Typer(help="Quarterly reviews.", no_args_is_help=True)
plans_app = typer.Typer(help="Plans.", no_args_is_help=True)

console = Console(stderr=True)


def _batches(rows: list[dict[str, str]], size: int) -> list[list[dict[str, str]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


@events_app.command("push")
def push_events(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            readable=True,
            help="CSV: event_id,metric,value,occurred_at,category,channel,region,source",
        ),
    ],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 5_000,
) -> None:
    """Push a CSV of metric events in batches. Safe to re-run: events already stored count as
    duplicates. Exits non-zero when any event is rejected."""
    settings = get_settings()
    with file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        rows = list(reader)
    accepted = duplicates = 0
    rejected: list[dict[str, Any]] = []
    with (
        ServiceCaller(settings.metrics_url, credential(settings)) as metrics,
        Progress(console=console) as bar,
    ):
        task = bar.add_task("pushing events", total=len(rows))
        for offset, batch in enumerate(_batches(rows, batch_size)):
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(batch)
            body = buffer.getvalue().encode()
            answer = metrics.call(
                "POST",
                "/v1/events",
                content=body,
                headers={
                    "content-type": "text/csv",
                    "Idempotency-Key": "push-" + hashlib.sha256(body).hexdigest()[:40],
                },
            ).json()
            accepted += answer["accepted"]
            duplicates += answer["duplicates"]
            for item in answer["rejected"]:
                rejected.append(item | {"index": item["index"] + offset * batch_size})
            bar.advance(task, len(batch))
    for item in rejected[:20]:
        console.print(
            f"  row {item['index'] + 2}: {item.get('event_id')} — {item['code']}: {item.get('detail', '')}"
        )
    typer.echo(f"accepted {accepted}, duplicates {duplicates}, rejected {len(rejected)}")
    if rejected:
        raise typer.Exit(1)


def _read_tasks(file: Path) -> list[dict[str, Any]]:
    if file.suffix.lower() in (".yaml", ".yml"):
        loaded = yaml.safe_load(file.read_text())
        tasks = loaded.get("tasks", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(tasks, list):
            raise typer.BadParameter("the YAML must be a list of tasks or {tasks: [...]}")
        return [dict(t) for t in tasks]
    with file.open(newline="") as handle:
        tasks = []
        for row in csv.DictReader(handle):
            task: dict[str, Any] = {k: v for k, v in row.items() if v not in (None, "")}
            if "target_ids" in task:
                task["target_ids"] = [t for t in str(task["target_ids"]).split(";") if t]
            tasks.append(task)
        return tasks


@tasks_app.command("import")
def import_tasks(
    file: Annotated[Path, typer.Argument(exists=True, readable=True, help="YAML or CSV of tasks")],
    plan: Annotated[str, typer.Option(help="The plan's code.")],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 2_000,
) -> None:
    """Create a quarter's tasks from a file. Re-runnable: tasks are matched by external_ref;
    existing ones are left as they are and changed fields are reported."""
    settings = get_settings()
    tasks = _read_tasks(file)
    created = existing = 0
    changed: list[str] = []
    with ServiceCaller(settings.targets_url, credential(settings, role=Role.PLANNER)) as targets:
        plan_id = targets.plan_id(plan)
        for offset, batch in enumerate(_batches(tasks, batch_size)):
            try:
                answer = targets.call("POST", f"/v1/plans/{plan_id}/tasks/bulk", json={"tasks": batch}).json()
            except CliError as exc:
                typer.echo(f"refused: {exc}", err=True)
                raise typer.Exit(1) from exc
            for result in answer["results"]:
                if result["created"]:
                    created += 1
                else:
                    existing += 1
                if result.get("changed_fields"):
                    ref = batch[result["index"]].get("external_ref", result["index"] + offset * batch_size)
                    changed.append(f"{ref}: {', '.join(result['changed_fields'])}")
    for line in changed[:20]:
        console.print(f"  kept as stored, file differs in {line}")
    typer.echo(f"created {created}, already present {existing}, differing {len(changed)}")


@review_app.command("show")
def show_review(
    plan: Annotated[str, typer.Argument(help="The plan's code.")],
    quarter: Annotated[str, typer.Argument(help="e.g. 2025Q1")],
) -> None:
    """Print a quarter's retrospective report (Markdown)."""
    settings = get_settings()
    token = credential(settings, role=Role.VIEWER)
    with ServiceCaller(settings.targets_url, token) as targets:
        plan_id = targets.plan_id(plan)
    with ServiceCaller(settings.reviews_url, token) as reviews:
        items = reviews.call("GET", "/v1/reviews", params={"plan_id": plan_id}).json()["items"]
        matching = [r for r in items if r["quarter"] == quarter.upper()]
        if not matching:
            typer.echo(f"No review of {plan} for {quarter}.", err=True)
            raise typer.Exit(1)
        typer.echo(reviews.call("GET", f"/v1/reviews/{matching[0]['id']}/report.md").text)


@plans_app.command("list")
def list_plans() -> None:
    """List plans."""
    settings = get_settings()
    table = Table("code", "name", "year", "status", "id")
    with ServiceCaller(settings.targets_url, credential(settings, role=Role.VIEWER)) as targets:
        cursor: str | None = None
        while True:
            params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = targets.call("GET", "/v1/plans", params=params).json()
            for p in page["items"]:
                table.add_row(p["code"], p["name"], str(p["fiscal_year"]), p["status"], str(p["id"]))
            cursor = page.get("next_cursor")
            if not cursor:
                break
    Console().print(table)
