"""One exchange over aiohttp: send, read the whole answer, and translate every aiohttp or timeout
exception into a ``Failure`` — the one place that happens. No retries, no judging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from webex_bulk.http.answers import Answer
from webex_bulk.http.retry import Failure, FailureKind


def translate_transport_error(exc: BaseException) -> Failure:
    """The one place where aiohttp and timeout exceptions become a ``Failure``."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Failure(FailureKind.NOT_SENT, "connect timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Failure(FailureKind.NOT_SENT, f"could not connect ({exc.strerror or 'refused'})")
    if isinstance(exc, TimeoutError):
        return Failure(FailureKind.NO_ANSWER, "timeout waiting for the answer")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Failure(FailureKind.NO_ANSWER, "server disconnected")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Failure(FailureKind.NO_ANSWER, "answer cut short")
    return Failure(FailureKind.NO_ANSWER, f"connection error ({type(exc).__name__})")


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: yarl.URL,
    headers: Mapping[str, str],
    *,
    json: Any = None,
    form: Mapping[str, str] | None = None,
    timeouts: aiohttp.ClientTimeout,
) -> Answer | Failure:
    """Send once (redirects not followed) and read the answer whole, or say why there is none.

    Once means once: aiohttp would silently send an idempotent request again after a reset of a
    reused connection, a send that neither the stats nor the retry budget would see. Turned off,
    the reset comes back as a ``Failure`` and the retry policy decides (and counts) the re-send.
    """
    session._retry_connection = False  # private: aiohttp has no public switch for it
    try:
        async with session.request(
            method,
            url,
            headers=headers,
            json=json,
            data=dict(form) if form is not None else None,
            timeout=timeouts,
            allow_redirects=False,
        ) as resp:
            raw = await resp.read()
            return Answer(resp.status, CIMultiDictProxy(CIMultiDict(resp.headers)), raw)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return translate_transport_error(exc)
