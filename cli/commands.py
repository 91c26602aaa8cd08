"""Commands scripts run against the running stack: push events, import tasks, read plans and reviews."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def problems_exit() -> Iterator[None]:
    """A problem answer becomes one line on stderr and exit code 1, not a traceback."""
    try:
        yield
    except CliError as exc:
        typer.echo(f"refused: {exc}", err=True)
        for error in exc.body.get("errors") or []:
            if isinstance(error, dict):
                typer.echo(f"  {_error_line(error)}", err=True)
        raise typer.Exit(1) from exc


def _error_line(error: dict[str, Any]) -> str:
    """One problem of a batch: a row's own code (`invalid_tasks`), or where the schema check
    failed (`validation_error`: the location in the body, e.g. row 2's title)."""
    if "loc" in error:
        location = [part for part in error["loc"] if part != "body"]
        rows = [i for i, part in enumerate(location) if str(part).isdigit()]
        if rows:
            index = rows[0]
            field = ".".join(str(part) for part in location[index + 1 :]) or "the row"
            return f"row {int(location[index]) + 1}: {field}: {error.get('msg', '')}"
        return f"{'.'.join(str(part) for part in location)}: {error.get('msg', '')}"
    where = f"row {error['index'] + 1}: " if "index" in error else ""
    return f"{where}{error.get('code', '')} {error.get('detail', '')}"


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
    with file.open(newline="", encoding="utf-8-sig") as handle:  # a spreadsheet's BOM is not a column
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
            # No Idempotency-Key: a replayed key would answer "accepted" again, while a plain
            # re-push answers the truth ("duplicates") and stores nothing twice all the same.
            with problems_exit():
                answer = metrics.call(
                    "POST",
                    "/v1/events",
                    content=buffer.getvalue().encode(),
                    headers={"content-type": "text/csv"},
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
    with file.open(newline="", encoding="utf-8-sig") as handle:  # a spreadsheet's BOM is not a column
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
    with (
        ServiceCaller(settings.targets_url, credential(settings, role=Role.PLANNER)) as targets,
        problems_exit(),
    ):
        plan_id = targets.plan_id(plan)
        for offset, batch in enumerate(_batches(tasks, batch_size)):
            answer = targets.call("POST", f"/v1/plans/{plan_id}/tasks/bulk", json={"tasks": batch}).json()
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
    with ServiceCaller(settings.targets_url, token) as targets, problems_exit():
        plan_id = targets.plan_id(plan)
    with ServiceCaller(settings.reviews_url, token) as reviews, problems_exit():
        items = reviews.call("GET", "/v1/reviews", params={"plan_id": plan_id}).json()["items"]
        matching = [r for r in items if r["quarter"] == quarter.upper()]
        if not matching:
            typer.echo(f"No review of {plan} for {quarter}.", err=True)
            raise typer.Exit(1)
        typer.echo(reviews.call("GET", f"/v1/reviews/{matching[0]['id']}/report.md").text)


@plans_app.command("list")
def list_plans() -> None:
    """List plans: a table on a terminal, tab-separated lines (with a header) for scripts."""
    settings = get_settings()
    columns = ("code", "name", "fiscal_year", "status", "id")
    rows: list[tuple[str, ...]] = []
    with (
        ServiceCaller(settings.targets_url, credential(settings, role=Role.VIEWER)) as targets,
        problems_exit(),
    ):
        rows.extend(tuple(str(p[c]) for c in columns) for p in targets.items("/v1/plans"))
    if not sys.stdout.isatty():
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(row))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
