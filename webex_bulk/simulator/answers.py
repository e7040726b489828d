"""Writing answers: JSON responses and the two Webex paging styles with their ``Link`` headers.

Core lists (people, locations) page with an opaque ``cursor``; telephony, workspace and device
lists page with ``start``/``max`` offsets. Next links are absolute URLs on this server.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from aiohttp import web

from webex_bulk.simulator.bodies import integer
from webex_bulk.simulator.errors import bad_request

R = TypeVar("R")
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer."""
    return web.Response(
        body=_dumps(body).encode(), status=status, headers=headers, content_type="application/json"
    )


def page_size(request: web.Request, default: int, cap: int) -> int:
    """The page size a list answers with: ``max`` (default ``default``), silently capped."""
    return min(integer(request, "max", default, low=1), cap)


def cursor_page(
    request: web.Request,
    entries: Callable[[int], Iterator[tuple[int, R]]],
    keep: Callable[[R], bool],
    size: int,
) -> tuple[list[R], str | None]:
    """One cursor page: up to ``size`` kept records after the cursor, and the next cursor."""
    after = _decode_cursor(request.query.get("cursor"))
    page: list[R] = []
    last = after
    for position, record in entries(after):
        if not keep(record):
            continue
        if len(page) == size:
            return page, _encode_cursor(last)
        page.append(record)
        last = position
    return page, None


def offset_page(request: web.Request, records: Iterable[R], size: int) -> tuple[list[R], int]:
    """One offset page of ``records``; the second value is the next ``start`` (0 when none)."""
    start = integer(request, "start", 0)
    window = list(itertools.islice(records, start, start + size + 1))
    if len(window) > size:
        return window[:size], start + size
    return window, 0


def next_link(
    request: web.Request, changes: Mapping[str, str | int], *, drop_filters: bool, telephony: bool
) -> dict[str, str]:
    """The ``Link`` header pointing at the next page (filters dropped when that quirk is on)."""
    if drop_filters:
        query: dict[str, str | int] = (
            {"max": request.query.get("max", "")} if "max" in request.query else {}
        )
        url = request.url.with_query({**query, **changes})
    else:
        url = request.url.update_query(changes)
    separator = ";" if telephony else "; "
    return {"Link": f'<{url}>{separator}rel="next"'}


def offset_link(
    request: web.Request, start: int, size: int, *, drop_filters: bool, telephony: bool
) -> dict[str, str] | None:
    """The ``Link`` header of an offset list whose next page begins at ``start`` (none if 0)."""
    if not start:
        return None
    changes = {"start": start, "max": size}
    return next_link(request, changes, drop_filters=drop_filters, telephony=telephony)


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"after:{position}".encode()).rstrip(b"=").decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return -1
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        label, _, number = text.partition(":")
        if label != "after":
            raise ValueError(label)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_request("The cursor is not valid.") from None
