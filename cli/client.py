"""The CLI's view of the running services: one credential, the URLs from settings, problems
shown as their code and detail."""

from __future__ import annotations

import os
from typing import Any

import httpx
import typer
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from shared.auth import Role, mint_dev_token
from shared.http import largest_page
from shared.settings import Settings


def credential(settings: Settings, *, role: Role = Role.ADMIN) -> str:
    """PACER_TOKEN (a JWT or an API key); in development, a short-lived token of `role`."""
    given = os.environ.get("PACER_TOKEN")
    if given:
        return given
    if settings.production:
        typer.echo("Set PACER_TOKEN to a JWT or an API key.", err=True)
        raise typer.Exit(2)
    return mint_dev_token(settings, subject="pacer-cli", role=role, ttl_seconds=3600)


class CliError(Exception):
    """A problem answer, shown as `code: detail`; `body` keeps the problem's fields."""

    def __init__(self, response: httpx.Response) -> None:
        self.body: dict[str, Any] = {}
        try:
            parsed = response.json()
            self.body = parsed if isinstance(parsed, dict) else {}
            code = self.body.get("code", response.status_code)
            message = f"{code}: {self.body.get('detail') or self.body.get('title')}"
        except ValueError:
            message = f"{response.status_code}: {response.text[:300]}"
        super().__init__(message)
        self.status = response.status_code
        self.code = self.body.get("code")


class ServiceCaller:
    def __init__(self, base_url: str, token: str, timeout: float = 60.0) -> None:
        self._client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def __enter__(self) -> ServiceCaller:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends a request, retrying transport failures (safe: every CLI write is idempotent)."""
        for attempt in Retrying(
            stop=stop_after_attempt(5),
            wait=wait_exponential(multiplier=0.2, max=5),
            retry=retry_if_exception_type(httpx.TransportError),
            reraise=True,
        ):
            with attempt:
                response = self._client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise CliError(response)
        return response

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list, following its cursors."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = params | {"limit": largest_page()} | ({"cursor": cursor} if cursor else {})
            page = self.call("GET", path, params=query).json()
            out.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def plan_id(self, code: str) -> str:
        items = self.call("GET", "/v1/plans", params={"code": code}).json()["items"]
        matching = [p for p in items if p["code"] == code]
        if not matching:
            typer.echo(f"No plan with code {code}.", err=True)
            raise typer.Exit(1)
        return str(matching[0]["id"])
