"""Who is calling and what they may do.

People carry a bearer JWT (claims `sub`, `role`, `department`); machines carry an API key
(`pk_<key id>_<secret>`) that an admin created, stored hashed with its scopes in the `auth`
schema — the one table set every service may read.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import jwt
import structlog
from fastapi import Depends, Request
from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.errors import Problem
from shared.settings import Settings, get_settings

log = structlog.get_logger("pacer.auth")


class Role(enum.StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    MEMBER = "member"
    VIEWER = "viewer"


class Scope(enum.StrEnum):
    INGEST = "ingest"
    TASKS = "tasks"
    READ = "read"


class Permission(enum.StrEnum):
    READ = "read"
    INGEST = "ingest"
    WRITE_PLANS = "write_plans"  # plans, phases, departments, targets, initiatives, risks
    WRITE_TASKS = "write_tasks"  # members: their own department's tasks only
    WRITE_REVIEWS = "write_reviews"
    WRITE_FINDINGS = "write_findings"  # members: findings of their own department
    MANAGE_METRICS = "manage_metrics"
    ADMIN = "admin"  # API keys


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PLANNER: frozenset(
        {
            Permission.READ,
            Permission.WRITE_PLANS,
            Permission.WRITE_TASKS,
            Permission.WRITE_REVIEWS,
            Permission.WRITE_FINDINGS,
            Permission.MANAGE_METRICS,
        }
    ),
    Role.MEMBER: frozenset({Permission.READ, Permission.WRITE_TASKS, Permission.WRITE_FINDINGS}),
    Role.VIEWER: frozenset({Permission.READ}),
}

SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.INGEST: frozenset({Permission.INGEST}),
    Scope.TASKS: frozenset({Permission.READ, Permission.WRITE_TASKS}),
    Scope.READ: frozenset({Permission.READ}),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, passed explicitly into every service function."""

    subject: str
    kind: str  # "user" | "api_key"
    role: Role | None = None
    department: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.role is not None:
            return ROLE_PERMISSIONS[self.role]
        granted: set[Permission] = set()
        for scope in self.scopes:
            granted |= SCOPE_PERMISSIONS[scope]
        return frozenset(granted)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def department_bound(self) -> bool:
        """Members act only within their own department."""
        return self.role == Role.MEMBER

    def may_act_for_department(self, department: str | None) -> bool:
        return not self.department_bound or (department is not None and department == self.department)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Problem(403, "forbidden", f"This caller may not {permission.value.replace('_', ' ')}.")

    def require_department(self, department: str | None) -> None:
        if not self.may_act_for_department(department):
            raise Problem(
                403,
                "forbidden_department",
                f"Members may act only for their own department ({self.department}).",
            )


# ---- API keys -----------------------------------------------------------------------------------


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = {"schema": "auth"}  # noqa: RUF012 - SQLAlchemy reads it as declared

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


API_KEY_PREFIX = "pk_"


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key_material() -> tuple[str, str, str]:
    """Returns (key_id, plaintext key shown once, hash to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{API_KEY_PREFIX}{key_id}_{secret}", _hash_secret(secret)


async def create_api_key(
    session: AsyncSession, *, name: str, scopes: list[Scope], created_by: str
) -> tuple[ApiKey, str]:
    key_id, plaintext, secret_hash = new_api_key_material()
    row = ApiKey(
        key_id=key_id,
        secret_hash=secret_hash,
        name=name,
        scopes=[s.value for s in scopes],
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    return row, plaintext


async def principal_from_api_key(session: AsyncSession, token: str) -> Principal | None:
    try:
        key_id, secret = token[len(API_KEY_PREFIX) :].split("_", 1)
    except ValueError:
        return None
    row = (await session.execute(select(ApiKey).where(ApiKey.key_id == key_id))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _hash_secret(secret)):
        return None
    return Principal(
        subject=f"api_key:{row.name}:{row.key_id}",
        kind="api_key",
        scopes=frozenset(Scope(s) for s in row.scopes),
    )


# ---- JWT ----------------------------------------------------------------------------------------


def mint_dev_token(
    settings: Settings,
    *,
    subject: str,
    role: Role,
    department: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """A development JWT signed with the shared HS256 secret. Refused in production."""
    if settings.production:
        raise RuntimeError("Development tokens are not issued in production mode.")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iat": now,
        "exp": now + (ttl_seconds or settings.dev_token_ttl_seconds),
    }
    if department:
        claims["department"] = department
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def principal_from_jwt(settings: Settings, token: str) -> Principal:
    options = {"require": ["sub", "exp", "role"]}
    try:
        if settings.jwt_jwks_url:
            key: Any = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
            algorithms = ["RS256", "ES256", "PS256", "EdDSA"]
        else:
            key = settings.jwt_secret
            algorithms = ["HS256"]
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.ExpiredSignatureError as exc:
        raise Problem(401, "token_expired", "The bearer token has expired.", headers=_CHALLENGE) from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise Problem(401, "invalid_token", "The bearer token is not valid.", headers=_CHALLENGE) from exc
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise Problem(401, "invalid_token", "The token names an unknown role.", headers=_CHALLENGE) from exc
    department = claims.get("department")
    if role == Role.MEMBER and not department:
        raise Problem(401, "invalid_token", "A member token must name a department.", headers=_CHALLENGE)
    return Principal(subject=str(claims["sub"]), kind="user", role=role, department=department)


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(request: Request) -> Principal:
    """Resolves the caller from the Authorization header; 401 when missing or invalid."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        raise Problem(401, "unauthorized", "A bearer token or API key is required.", headers=_CHALLENGE)
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    if token.startswith(API_KEY_PREFIX):
        async with request.app.state.sessionmaker() as session:
            principal = await principal_from_api_key(session, token)
        if principal is None:
            raise Problem(401, "invalid_api_key", "The API key is not valid.", headers=_CHALLENGE)
    else:
        principal = principal_from_jwt(settings, token)
    structlog.contextvars.bind_contextvars(principal=principal.subject)
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Any:
    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        principal.require(permission)
        return principal

    return Depends(dependency)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
Reader = Annotated[Principal, require(Permission.READ)]
Ingestor = Annotated[Principal, require(Permission.INGEST)]
PlanWriter = Annotated[Principal, require(Permission.WRITE_PLANS)]
TaskWriter = Annotated[Principal, require(Permission.WRITE_TASKS)]
ReviewWriter = Annotated[Principal, require(Permission.WRITE_REVIEWS)]
FindingWriter = Annotated[Principal, require(Permission.WRITE_FINDINGS)]
MetricManager = Annotated[Principal, require(Permission.MANAGE_METRICS)]
Admin = Annotated[Principal, require(Permission.ADMIN)]
