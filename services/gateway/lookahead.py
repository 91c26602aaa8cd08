"""Looking ahead at what a query selects below the current field, so that batches the deeper
fields will need are sent early — a head start, never a different answer: fields still load
through their own loaders (and report their own errors) when nothing was foreseen. Selections
left out by `@skip(if: true)` or `@include(if: false)` are not looked at."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterable, Iterator
from datetime import date
from typing import Any

from strawberry.types.nodes import SelectedField, Selection

from services.gateway.context import GatewayInfo


def _included(selection: Selection) -> bool:
    directives = selection.directives
    return not (
        directives.get("skip", {}).get("if") is True or directives.get("include", {}).get("if") is False
    )


def _named(selections: Iterable[Selection], name: str) -> Iterator[SelectedField]:
    for selection in selections:
        if not _included(selection):
            continue
        if isinstance(selection, SelectedField):
            if selection.name == name:
                yield selection
        else:  # a fragment: look through it
            yield from _named(selection.selections, name)


def selected(info: GatewayInfo, name: str) -> list[SelectedField]:
    """The selections of the field `name` directly below the field being resolved."""
    return [found for field in info.selected_fields for found in _named(field.selections, name)]


def below(field: SelectedField, name: str) -> list[SelectedField]:
    """The selections of the field `name` directly below `field`."""
    return list(_named(field.selections, name))


def date_argument(value: Any) -> date | None:
    """A Date argument as the look-ahead sees it: parsed from a variable, or a literal string."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def started(load: Awaitable[Any]) -> None:
    """A load begun ahead and maybe never awaited (its parent turned out null): its error is
    the awaiting field's to report, not the event loop's to log."""
    if isinstance(load, asyncio.Future):
        load.add_done_callback(lambda done: done.cancelled() or done.exception())


def canonical_id(value: str) -> str:
    """An id as the services spell it (a UUID in its lower-case hyphenated form), so a load
    begun ahead is found again under the key the later field asks for."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)
