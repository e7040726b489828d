"""Reading requests: JSON bodies, documented required fields, and typed query parameters.

A required path is ``field``, ``parent.field`` or ``list[].field``; a nested field is required
only when its parent is present (the parent's own requirement is a separate path).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from webex_bulk.simulator.errors import ApiError, Code, bad_request


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 400 for anything else."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise bad_request(f"The request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def require(body: Mapping[str, Any], paths: Iterable[str], *, telephony: bool = False) -> None:
    """400 naming the first documented required field the body lacks."""
    for path in paths:
        missing = _first_missing(body, path.split("."), "")
        if missing is not None:
            if telephony:
                raise ApiError(
                    400,
                    f"Missing Mandatory field name: {missing}",
                    Code.MISSING_FIELD,
                    telephony=True,
                )
            raise bad_request(f"Missing required field: {missing}")


def _first_missing(node: Any, parts: list[str], prefix: str) -> str | None:
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        name = head[:-2]
        items = node.get(name) if isinstance(node, Mapping) else None
        if not isinstance(items, list):
            return None
        for index, item in enumerate(items):
            missing = _first_missing(item, rest, f"{prefix}{name}[{index}].")
            if missing is not None:
                return missing
        return None
    value = node.get(head) if isinstance(node, Mapping) else None
    if not rest:
        return f"{prefix}{head}" if value is None or value == "" else None
    if value is None:
        return None
    return _first_missing(value, rest, f"{prefix}{head}.")


def text(body: Mapping[str, Any], key: str, default: str = "") -> str:
    """A string field of a body ("" or ``default`` when absent or null)."""
    value = body.get(key)
    return default if value is None else str(value)


def flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter (``true``/``false``); 400 for anything else."""
    value = request.query.get(name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered not in {"true", "false"}:
        raise bad_request(f"Query parameter {name} must be true or false.")
    return lowered == "true"


def integer(request: web.Request, name: str, default: int, low: int = 0) -> int:
    """An integer query parameter at least ``low``; 400 for anything else."""
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"Query parameter {name} must be an integer.") from None
    if number < low:
        raise bad_request(f"Query parameter {name} must be at least {low}.")
    return number
