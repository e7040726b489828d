"""Judging an HTTP answer, pure: a usable ``Response``, a ``Failure`` to retry, or the Webex
error raised for the action, with Webex's message, error code and tracking id. No I/O, no clock."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from multidict import CIMultiDictProxy

from webex_bulk.config import Settings
from webex_bulk.error_handling import ApiError, ForbiddenError, HttpClass, classify_status
from webex_bulk.http.pagination import as_int
from webex_bulk.http.retry import Failure, FailureKind, parse_retry_after


@attrs.frozen
class Response:
    """A usable (2xx) answer: status, parsed JSON body (None when empty), headers, tracking id."""

    status: int
    body: Any
    headers: Mapping[str, str]
    tracking_id: str


@attrs.frozen
class Answer:
    """What came back over the wire for one attempt, unjudged."""

    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes


#: The body of an answer that is not JSON (told apart from an empty body, which is None).
NOT_JSON = object()


def parse_json(raw: bytes) -> Any:
    """The JSON body; None when empty, ``NOT_JSON`` when unreadable."""
    if not raw.strip():
        return None
    try:
        return jsonlib.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NOT_JSON


def error_details(body: Any, raw: bytes) -> tuple[str, int | None]:
    """The Webex message (``message`` plus the first ``errors[].description``) and error code."""
    if not isinstance(body, dict):
        text = raw.decode("utf-8", errors="replace").strip()
        return (text[:200] or "no error message in the answer"), None
    message = str(body.get("message") or "").strip()
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    description = str(first.get("description") or "").strip()
    if description and description not in message:
        message = f"{message}: {description}" if message else description
    code = as_int(first.get("errorCode"))
    if code is None:
        code = as_int(body.get("errorCode"))
    return (message or "no error message in the answer"), code


def echoed_tracking_id(headers: Mapping[str, str], body: Any, ours: str) -> str:
    """The answer's ``Trackingid`` echo (first value), else the body's ``trackingId``, else ours."""
    echoed = headers.get("Trackingid", "").split(",")[0].strip()
    if echoed:
        return echoed
    if isinstance(body, dict) and isinstance(body.get("trackingId"), str) and body["trackingId"]:
        return str(body["trackingId"])
    return ours


def judge(
    method: str,
    label: str,
    answer: Answer,
    *,
    body: Any,
    tracking_id: str,
    now_epoch: float,
    settings: Settings,
    scrub: Callable[[str], str],
) -> Response | Failure:
    """Turn an answer (not 401) into a Response or a Failure to retry; raise ApiError (4xx) or
    ForbiddenError (403). ``now_epoch`` (wall-clock seconds) reads an HTTP-date Retry-After."""
    verdict = classify_status(answer.status)
    if verdict is HttpClass.SUCCESS:
        if body is NOT_JSON:
            return Failure(FailureKind.NO_ANSWER, f"HTTP {answer.status} answer is not JSON")
        return Response(answer.status, body, answer.headers, tracking_id)
    if verdict is HttpClass.RATE_LIMITED:
        pause = parse_retry_after(
            answer.headers.get("Retry-After"),
            now_epoch,
            settings.retry_after_default,
            settings.retry_after_cap,
        )
        return Failure(FailureKind.RATE_LIMITED, f"HTTP {answer.status}", answer.status, pause)
    if verdict is HttpClass.TRANSIENT:
        return Failure(FailureKind.SERVER_ERROR, f"HTTP {answer.status}", answer.status)
    parsed = None if body is NOT_JSON else body
    message, code = error_details(parsed, answer.raw)
    error = ForbiddenError if verdict is HttpClass.FORBIDDEN else ApiError
    raise error(method, label, tracking_id, answer.status, scrub(message), code, parsed)
