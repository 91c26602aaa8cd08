"""The planning dashboard: one HTML page and a small script, served by the gateway.

The page owns no data and no server-side logic: the script reads everything through the public
GraphQL API (`POST /graphql`) with the token the person pasted, kept in `sessionStorage`. The
files come from this package, so the page works offline (no CDN). In development a button may
ask `POST /dashboard/dev-token` for a short-lived viewer token; in production that route does
not exist (404) and the button is not shown.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from shared.auth import Role, mint_dev_token
from shared.errors import Problem
from shared.settings import Settings

STATIC = files(__package__) / "static"
ASSETS = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
DEV_TOKEN_TTL_SECONDS = 3600

# The page runs only its own files and talks only to its own origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def dashboard_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["dashboard"])

    @router.get("/", response_class=HTMLResponse, summary="The planning dashboard (HTML)")
    async def dashboard_page() -> HTMLResponse:
        """Targets with progress, pace, forecast and health; the quarterly reviews."""
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        page = page.replace("{{DEVELOPMENT}}", "false" if settings.production else "true")
        return HTMLResponse(page, headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})

    @router.get(
        "/dashboard/static/{name}",
        summary="A static file of the dashboard",
        responses={404: {"description": "No such file"}},
    )
    async def dashboard_asset(name: str) -> Response:
        """Only the dashboard's own script and style sheet."""
        if name not in ASSETS:
            raise Problem(404, "not_found", f"No dashboard file {name!r}.")
        return Response(
            (STATIC / name).read_bytes(),
            media_type=ASSETS[name],
            headers=SECURITY_HEADERS | {"Cache-Control": "no-cache"},
        )

    @router.post(
        "/dashboard/dev-token",
        summary="A development viewer token (development only)",
        responses={404: {"description": "Production mode: no development tokens"}},
    )
    async def development_viewer_token() -> JSONResponse:
        """Mints a one-hour viewer JWT for trying the dashboard. Refused (404) in production,
        where people sign in with their identity provider's token."""
        if settings.production:
            raise Problem(404, "not_found", "Development tokens are not issued in production.")
        token = mint_dev_token(
            settings, subject="dashboard-viewer", role=Role.VIEWER, ttl_seconds=DEV_TOKEN_TTL_SECONDS
        )
        return JSONResponse(
            {"token": token, "role": Role.VIEWER.value, "expires_in": DEV_TOKEN_TTL_SECONDS},
            headers={"Cache-Control": "no-store"},
        )

    return router
