"""What every resolver receives: the caller's upstream, the request's loaders and the settings."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from strawberry.fastapi import BaseContext
from strawberry.types import Info

from services.gateway.clients import Upstream
from services.gateway.loaders import Loaders
from shared.settings import Settings


class GatewayContext(BaseContext):
    def __init__(self, upstream: Upstream, settings: Settings) -> None:
        super().__init__()
        self.upstream = upstream
        self.loaders = Loaders(upstream)
        self.settings = settings
        self._today: date | None = None

    def today(self) -> date:
        """Today in the business time zone: the default as-of date of progress — read once
        per request, so every field of an answer (and every look-ahead) means the same day."""
        if self._today is None:
            self._today = datetime.now(ZoneInfo(self.settings.business_tz)).date()
        return self._today


GatewayInfo = Info[GatewayContext, None]
