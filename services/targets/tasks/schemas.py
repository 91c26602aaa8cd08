"""Task requests and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TaskStatus = Literal["todo", "in_progress", "blocked", "done", "cancelled"]


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    period: str = Field(description="The time node: a quarter (`2025Q3`) or a month (`2025-08`).")
    department: str
    assignee: str | None = Field(None, max_length=200)
    status: TaskStatus = "todo"
    external_ref: str | None = Field(
        None, min_length=1, max_length=200, description="Your id for the task; unique within the plan."
    )
    initiative_id: uuid.UUID | None = None
    target_ids: list[uuid.UUID] = Field(default_factory=list)
    description: str | None = None


class TaskBulk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[TaskIn]


class BulkResult(BaseModel):
    index: int
    id: uuid.UUID
    external_ref: str | None
    created: bool
    changed_fields: list[str] = Field(
        description="Fields whose sent value differs from the stored task (which was kept as it was)."
    )


class BulkOut(BaseModel):
    created: int
    existing: int
    results: list[BulkResult]


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = None
    period: str | None = None
    department: str | None = None
    assignee: str | None = None
    status: TaskStatus | None = None
    initiative_id: uuid.UUID | None = None
    target_ids: list[uuid.UUID] | None = None


class TaskOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    title: str
    description: str | None
    period: str
    starts_on: date
    ends_on: date
    department: str
    assignee: str | None
    status: TaskStatus
    external_ref: str | None
    initiative_id: uuid.UUID | None
    target_ids: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime
