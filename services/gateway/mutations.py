"""What planners and reviewers change through the gateway: each mutation is one service call
(updateTaskStatus reads the task first for its version), and the service decides who may.

Changes to plans and targets carry the version the caller read (`expectedVersion`), sent on as
`If-Match`: the service refuses a stale one (412 → `PRECONDITION_FAILED`) and changes nothing."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry

from services.gateway.context import GatewayInfo
from services.gateway.types.common import ScopeInput
from services.gateway.types.plans import Plan
from services.gateway.types.reviews import ActionItem, Finding, FindingKind, Review
from services.gateway.types.targets import Target
from services.gateway.types.tasks import Risk, Task
from shared.errors import Problem


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the unset fields; decimals as strings and dates as ISO text."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, list):
            value = [str(v) if isinstance(v, Decimal) else v for v in value]
        body[name] = value
    return body


# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input
class CreatePlanInput:
    code: str
    name: str
    fiscal_year: int
    description: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    timezone: str | None = None
    status: str | None = strawberry.field(default=None, description="draft (default) or active.")
    on_track_threshold: Decimal | None = None
    at_risk_threshold: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        thresholds = _body(on_track=self.on_track_threshold, at_risk=self.at_risk_threshold)
        return _body(
            code=self.code,
            name=self.name,
            fiscal_year=self.fiscal_year,
            description=self.description,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            timezone=self.timezone,
            status=self.status,
            thresholds=thresholds or None,
        )


@strawberry.input(description="A period (2025, 2025Q2, 2025-05) or explicit dates; a value or a growth.")
class CreateTargetInput:
    name: str
    metric: str
    scope: ScopeInput | None = None
    period: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    kind: str = "absolute"
    target_value: Decimal | None = None
    growth_pct: Decimal | None = None
    department: str | None = None
    weight: Decimal | None = None
    initiative_ids: list[strawberry.ID] | None = None

    def to_json(self) -> dict[str, Any]:
        return _body(
            name=self.name,
            metric=self.metric,
            scope=self.scope.to_json() if self.scope else None,
            period=self.period,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            kind=self.kind,
            target_value=self.target_value,
            growth_pct=self.growth_pct,
            department=self.department,
            weight=self.weight,
            initiative_ids=[str(i) for i in self.initiative_ids] if self.initiative_ids else None,
        )


@strawberry.enum
class DecomposeBy(enum.Enum):
    QUARTER = "quarter"
    MONTH = "month"
    CATEGORY = "category"
    CHANNEL = "channel"
    REGION = "region"


@strawberry.enum
class WeightMode(enum.Enum):
    EVEN = "even"
    SEASONAL = "seasonal"
    EXPLICIT = "explicit"


@strawberry.input(description="One explicit share: the child `value` (a quarter, month or dimension value).")
class ShareInput:
    value: str
    share: Decimal


@strawberry.input
class DecomposeInput:
    by: DecomposeBy
    values: list[str] | None = strawberry.field(default=None, description="For a dimension split.")
    weights: WeightMode = WeightMode.EVEN
    shares: list[ShareInput] | None = strawberry.field(default=None, description="With weights: EXPLICIT.")

    def to_json(self) -> dict[str, Any]:
        weights: Any = self.weights.value
        if self.weights is WeightMode.EXPLICIT:
            weights = {share.value: str(share.share) for share in self.shares or []}
        return _body(by=self.by, values=self.values, weights=weights)


@strawberry.input
class TaskInput:
    title: str
    period: str
    department: str
    assignee: str | None = None
    status: str | None = None
    external_ref: str | None = None
    initiative_id: strawberry.ID | None = None
    target_ids: list[strawberry.ID] | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _body(
            title=self.title,
            period=self.period,
            department=self.department,
            assignee=self.assignee,
            status=self.status,
            external_ref=self.external_ref,
            initiative_id=str(self.initiative_id) if self.initiative_id else None,
            target_ids=[str(t) for t in self.target_ids] if self.target_ids is not None else None,
            description=self.description,
        )


@strawberry.input
class RiskInput:
    title: str
    category: str
    likelihood: int
    impact: int
    mitigation: str | None = None
    owner_department: str | None = None
    status: str | None = None
    target_ids: list[strawberry.ID] | None = None

    def to_json(self) -> dict[str, Any]:
        return _body(
            title=self.title,
            category=self.category,
            likelihood=self.likelihood,
            impact=self.impact,
            mitigation=self.mitigation,
            owner_department=self.owner_department,
            status=self.status,
            target_ids=[str(t) for t in self.target_ids] if self.target_ids is not None else None,
        )


@strawberry.input(description="Both health thresholds (fractions of the target the forecast reaches).")
class ThresholdsInput:
    on_track: Decimal
    at_risk: Decimal


@strawberry.input(description="The plan fields a planner may change; unset fields stay as they are.")
class UpdatePlanInput:
    name: str | None = None
    description: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    timezone: str | None = None
    status: str | None = strawberry.field(default=None, description="draft → active → closed, forward only.")
    thresholds: ThresholdsInput | None = None
    required_scope: list[str] | None = strawberry.field(
        default=None, description="Dimensions (category, channel, region) every target must scope."
    )

    def to_json(self) -> dict[str, Any]:
        thresholds = (
            _body(on_track=self.thresholds.on_track, at_risk=self.thresholds.at_risk)
            if self.thresholds
            else None
        )
        return _body(
            name=self.name,
            description=self.description,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            timezone=self.timezone,
            status=self.status,
            thresholds=thresholds,
            required_scope=self.required_scope,
        )


@strawberry.input(
    description="The target fields a planner may change; unset fields stay as they are. The "
    "metric, scope, period, kind and a growth target's baseline are fixed once created."
)
class UpdateTargetInput:
    name: str | None = None
    target_value: Decimal | None = strawberry.field(default=None, description="An absolute target's value.")
    growth_pct: Decimal | None = strawberry.field(
        default=None, description="A growth target's percentage over its frozen baseline."
    )
    department: str | None = None
    weight: Decimal | None = None
    status: str | None = strawberry.field(default=None, description="active or archived.")
    initiative_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the linked initiatives."
    )

    def to_json(self) -> dict[str, Any]:
        return _body(
            name=self.name,
            target_value=self.target_value,
            growth_pct=self.growth_pct,
            department=self.department,
            weight=self.weight,
            status=self.status,
            initiative_ids=[str(i) for i in self.initiative_ids] if self.initiative_ids is not None else None,
        )


@strawberry.input(description="The risk fields a planner may change; unset fields stay as they are.")
class UpdateRiskInput:
    title: str | None = None
    category: str | None = None
    likelihood: int | None = None
    impact: int | None = None
    mitigation: str | None = None
    owner_department: str | None = None
    status: str | None = strawberry.field(default=None, description="open, mitigating or closed.")
    target_ids: list[strawberry.ID] | None = None

    def to_json(self) -> dict[str, Any]:
        return _body(
            title=self.title,
            category=self.category,
            likelihood=self.likelihood,
            impact=self.impact,
            mitigation=self.mitigation,
            owner_department=self.owner_department,
            status=self.status,
            target_ids=[str(t) for t in self.target_ids] if self.target_ids is not None else None,
        )


def _if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


@strawberry.input
class FindingInput:
    kind: FindingKind
    text: str
    target_ids: list[strawberry.ID] | None = None
    department: str | None = None


@strawberry.input
class ActionItemInput:
    title: str
    department: str
    due_on: date | None = None
    assignee: str | None = None
    description: str | None = None
    finding_id: strawberry.ID | None = None


# ---- payloads -----------------------------------------------------------------------------------


@strawberry.type(description="What happened to one task of a bulk request (by its index).")
class BulkTaskResult:
    index: int
    id: strawberry.ID
    created: bool
    changed_fields: list[str]


@strawberry.type
class BulkTasksPayload:
    results: list[BulkTaskResult]


def _review_from(answer: dict[str, Any]) -> Review:
    return Review.from_json(answer)


def _children(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, list):
        return answer
    for key in ("children", "items", "results"):
        if isinstance(answer.get(key), list):
            return list(answer[key])
    return []


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Creates an annual plan.")
    async def create_plan(self, info: GatewayInfo, input: CreatePlanInput) -> Plan | None:
        return Plan.from_json(await info.context.upstream.post("targets", "/v1/plans", input.to_json()))

    @strawberry.mutation(description="Adds a SMART target to a plan.")
    async def create_target(
        self, info: GatewayInfo, plan_id: strawberry.ID, input: CreateTargetInput
    ) -> Target | None:
        answer = await info.context.upstream.post("targets", f"/v1/plans/{plan_id}/targets", input.to_json())
        return Target.from_json(answer)

    @strawberry.mutation(
        description="Splits a target into quarters, months or dimension values; returns the children."
    )
    async def decompose_target(
        self, info: GatewayInfo, target_id: strawberry.ID, input: DecomposeInput
    ) -> list[Target] | None:
        answer = await info.context.upstream.post(
            "targets", f"/v1/targets/{target_id}/decompose", input.to_json()
        )
        return [Target.from_json(raw) for raw in _children(answer)]

    @strawberry.mutation(
        description="Creates a quarter's tasks; a known externalRef returns the existing task, so "
        "a script can re-run safely. An idempotencyKey replays the first answer."
    )
    async def bulk_create_tasks(
        self,
        info: GatewayInfo,
        plan_id: strawberry.ID,
        tasks: list[TaskInput],
        idempotency_key: str | None = None,
    ) -> BulkTasksPayload | None:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = await info.context.upstream.post(
            "targets",
            f"/v1/plans/{plan_id}/tasks/bulk",
            {"tasks": [t.to_json() for t in tasks]},
            headers=headers,
        )
        return BulkTasksPayload(
            results=[
                BulkTaskResult(
                    index=int(row["index"]),
                    id=strawberry.ID(str(row["id"])),
                    created=bool(row.get("created")),
                    changed_fields=list(row.get("changed_fields") or []),
                )
                for row in answer.get("results", [])
            ]
        )

    @strawberry.mutation(
        description="Moves a task to a status. With expectedVersion, a task changed since the caller "
        "read it is refused (PRECONDITION_FAILED) instead of overwritten."
    )
    async def update_task_status(
        self, info: GatewayInfo, task_id: strawberry.ID, status: str, expected_version: int | None = None
    ) -> Task | None:
        upstream = info.context.upstream
        current = await upstream.request("targets", "GET", f"/v1/tasks/{task_id}")
        version = current.json().get("version")
        if expected_version is not None and version != expected_version:
            raise Problem(
                412,
                "precondition_failed",
                f"Task {task_id} is at version {version}, not {expected_version}.",
                service="targets",
            )
        if_match = current.headers.get("etag") or f'"{version}"'
        answer = await upstream.request(
            "targets",
            "PATCH",
            f"/v1/tasks/{task_id}",
            json={"status": status},
            headers={"If-Match": if_match},
        )
        return Task.from_json(answer.json())

    @strawberry.mutation(
        description="Changes a plan, e.g. activates a draft. expectedVersion is the version the "
        "caller read; if the plan changed since, nothing changes and the error is PRECONDITION_FAILED."
    )
    async def update_plan(
        self, info: GatewayInfo, id: strawberry.ID, input: UpdatePlanInput, expected_version: int
    ) -> Plan | None:
        answer = await info.context.upstream.request(
            "targets", "PATCH", f"/v1/plans/{id}", json=input.to_json(), headers=_if_match(expected_version)
        )
        return Plan.from_json(answer.json())

    @strawberry.mutation(
        description="Changes a target's value, growth, name, department, weight, status or "
        "initiatives. expectedVersion is the version the caller read; if the target changed since, "
        "nothing changes and the error is PRECONDITION_FAILED."
    )
    async def update_target(
        self, info: GatewayInfo, id: strawberry.ID, input: UpdateTargetInput, expected_version: int
    ) -> Target | None:
        answer = await info.context.upstream.request(
            "targets", "PATCH", f"/v1/targets/{id}", json=input.to_json(), headers=_if_match(expected_version)
        )
        return Target.from_json(answer.json())

    @strawberry.mutation(
        description="Deletes a target with its decomposition subtree; returns its id. With "
        "expectedVersion, a target changed since the caller read it is kept (PRECONDITION_FAILED)."
    )
    async def delete_target(
        self, info: GatewayInfo, id: strawberry.ID, expected_version: int | None = None
    ) -> strawberry.ID | None:
        headers = _if_match(expected_version) if expected_version is not None else None
        await info.context.upstream.request(
            "targets", "DELETE", f"/v1/targets/{id}", headers=headers, idempotent=False
        )
        return id

    @strawberry.mutation(description="Changes a risk, e.g. its status open → mitigating → closed.")
    async def update_risk(self, info: GatewayInfo, id: strawberry.ID, input: UpdateRiskInput) -> Risk | None:
        answer = await info.context.upstream.request(
            "targets", "PATCH", f"/v1/risks/{id}", json=input.to_json()
        )
        return Risk.from_json(answer.json())

    @strawberry.mutation(description="Records a risk the plan watches.")
    async def add_risk(self, info: GatewayInfo, plan_id: strawberry.ID, input: RiskInput) -> Risk | None:
        return Risk.from_json(
            await info.context.upstream.post("targets", f"/v1/plans/{plan_id}/risks", input.to_json())
        )

    @strawberry.mutation(description="Opens the retrospective of a plan's quarter (one per quarter).")
    async def create_review(self, info: GatewayInfo, plan_id: strawberry.ID, quarter: str) -> Review | None:
        answer = await info.context.upstream.post(
            "reviews", "/v1/reviews", {"plan_id": str(plan_id), "quarter": quarter}
        )
        return _review_from(answer)

    @strawberry.mutation(description="Freezes target against actual for every target active in the quarter.")
    async def snapshot_review(
        self, info: GatewayInfo, review_id: strawberry.ID, as_of: date | None = None
    ) -> Review | None:
        upstream = info.context.upstream
        answer = await upstream.post("reviews", f"/v1/reviews/{review_id}/snapshot", _body(as_of=as_of))
        if isinstance(answer, dict) and "quarter" in answer:
            return _review_from(answer)
        return _review_from(await upstream.get("reviews", f"/v1/reviews/{review_id}"))

    @strawberry.mutation(description="Records a cause, success or lesson.")
    async def add_finding(
        self, info: GatewayInfo, review_id: strawberry.ID, input: FindingInput
    ) -> Finding | None:
        body = _body(
            kind=input.kind,
            text=input.text,
            target_ids=[str(t) for t in input.target_ids] if input.target_ids is not None else None,
            department=input.department,
        )
        return Finding.from_json(
            await info.context.upstream.post("reviews", f"/v1/reviews/{review_id}/findings", body)
        )

    @strawberry.mutation(description="Adds an action item with an owner and a due date.")
    async def add_action_item(
        self, info: GatewayInfo, review_id: strawberry.ID, input: ActionItemInput
    ) -> ActionItem | None:
        body = _body(
            title=input.title,
            department=input.department,
            due_on=input.due_on,
            assignee=input.assignee,
            description=input.description,
            finding_id=str(input.finding_id) if input.finding_id else None,
        )
        return ActionItem.from_json(
            await info.context.upstream.post("reviews", f"/v1/reviews/{review_id}/action-items", body)
        )

    @strawberry.mutation(
        description="Turns an action item into a task of the next quarter, exactly once; `planId` names "
        "the plan that runs that quarter when it is not the review's own (after a Q4 review)."
    )
    async def promote_action_item(
        self,
        info: GatewayInfo,
        review_id: strawberry.ID,
        action_item_id: strawberry.ID,
        plan_id: strawberry.ID | None = None,
    ) -> ActionItem | None:
        body = {} if plan_id is None else {"plan_id": str(plan_id)}
        answer = await info.context.upstream.post(
            "reviews", f"/v1/reviews/{review_id}/action-items/{action_item_id}/promote", body
        )
        raw = answer.get("action_item") if isinstance(answer.get("action_item"), dict) else answer
        return ActionItem.from_json(raw)

    @strawberry.mutation(description="Finalizes a review; afterwards it is immutable.")
    async def finalize_review(self, info: GatewayInfo, review_id: strawberry.ID) -> Review | None:
        return _review_from(
            await info.context.upstream.post("reviews", f"/v1/reviews/{review_id}/finalize", {})
        )
