"""Looking ahead at what a query selects below the current field, so that batches the deeper
fields will need are sent early — a head start, never a different answer: fields still load
through their own loaders (and report their own errors) when nothing was foreseen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator
from typing import Any

from strawberry.types.nodes import SelectedField, Selection

from services.gateway.context import GatewayInfo


def _named(selections: Iterable[Selection], name: str) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                yield selection
        else:  # a fragment: look through it
            yield from _named(selection.selections, name)


def selected(info: GatewayInfo, name: str) -> list[SelectedField]:
    """The selections of the field `name` directly below the field being resolved."""
    return [found for field in info.selected_fields for found in _named(field.selections, name)]


def started(load: Awaitable[Any]) -> None:
    """A load begun ahead and maybe never awaited (its parent turned out null): its error is
    the awaiting field's to report, not the event loop's to log."""
    if isinstance(load, asyncio.Future):
        load.add_done_callback(lambda done: done.cancelled() or done.exception())
