"""Schema-driven fuzzing of each service's published OpenAPI, authenticated as an admin (the
caller who may reach every route): no answer is a server error, every answer matches the
documented status codes, content types and schemas, and every 4xx is problem+json with a code.

Both well-formed inputs (positive) and inputs that break the schema (negative) are sent. The
default run keeps a few examples per operation; `make stress` sends many more.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from tests.conftest import Api
from tests.proof.support import STRESS, scaled

EXAMPLES = int(os.environ.get("PACER_FUZZ_EXAMPLES", 0)) or scaled(12, 150)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _problem_failure(response: Any) -> str | None:
    """Why a 4xx answer is not a usable problem document, or None when it is one."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", "")
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith("application/problem+json"):
        return f"{response.status_code} answered as {content_type!r}"
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        return f"{response.status_code} problem without a code: {str(body)[:200]}"
    if body.get("status") != response.status_code:
        return f"{response.status_code} problem says status {body.get('status')}"
    return None


def _fuzz_operation(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    examples: int,
    failures: list[str],
    shared_keys: frozenset[str],
) -> None:
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    seen: set[str] = set()

    def report(reason: str, case: schemathesis.Case, response: Any) -> None:
        if reason in seen:
            return
        seen.add(reason)
        failures.append(
            f"{operation.label}: {reason}\n    {case.method} {case.formatted_path} "
            f"query={case.query} body={str(case.body)[:300]}\n"
            f"    -> {response.status_code} {response.text[:300]}"
        )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        if (case.path_parameters or {}).get("key") in shared_keys:
            return  # the seeded catalogue is shared by the whole session; an admin may change it
        response = case.call(base_url=base_url, headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Failure) as exc:
            failed = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            for failure in failed:
                report(f"{type(failure).__name__}: {' '.join(str(failure).split())[:200]}", case, response)
        problem = _problem_failure(response)
        if problem:
            report(problem, case, response)

    check()


def fuzz_service(api: Api, service: str, examples: int, role: str = "admin") -> list[str]:
    base_url = api.stack.url(service)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {api.token(role)}"}
    failures: list[str] = []
    catalogue = httpx.get(f"{api.stack.url('metrics')}/v1/metrics", params={"limit": 500}, headers=headers)
    shared_keys = frozenset(m["key"] for m in catalogue.json()["items"])
    for result in schema.get_all_operations():
        _fuzz_operation(result.ok(), base_url, headers, examples, failures, shared_keys)  # type: ignore[union-attr]
    return failures


# Department-bound and read-only callers take other paths through the same routes.
ROLES = ["admin", "member", "viewer"] if STRESS else ["admin"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", ["metrics", "targets", "reviews"])
def test_fuzzed_requests_get_documented_answers_and_never_a_server_error(
    api: Api, service: str, role: str
) -> None:
    failures = fuzz_service(api, service, EXAMPLES, role)
    assert failures == [], "\n".join(failures)
