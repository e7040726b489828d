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


def translate_transport_error(exc: BaseException, url: yarl.URL | None = None) -> Failure:
    """The one place where aiohttp and timeout exceptions become a ``Failure``.

    A failure to connect at all names the host it could not reach (``unreachable``; the proxy's
    when the proxy is the one that cannot be reached), so that it is reported as the network.
    """
    where = f"{url.host}:{url.port}" if url is not None and url.host else ""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Failure(FailureKind.NOT_SENT, "connect timeout", unreachable=where)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Failure(FailureKind.NOT_SENT, _not_connected(exc), unreachable=_host(exc, where))
    if isinstance(exc, TimeoutError):
        return Failure(FailureKind.NO_ANSWER, "timeout waiting for the answer")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Failure(FailureKind.NO_ANSWER, "server disconnected")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Failure(FailureKind.NO_ANSWER, "answer cut short")
    return Failure(FailureKind.NO_ANSWER, f"connection error ({type(exc).__name__})")


def _not_connected(exc: aiohttp.ClientConnectorError) -> str:
    """Why no connection was made, in the words an admin searches for."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        why = getattr(exc.certificate_error, "verify_message", "") or exc.certificate_error
        return f"TLS certificate not trusted ({why}; a proxy that re-signs TLS needs --ca-bundle)"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS handshake failed ({exc.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"host name not found ({exc.strerror or 'DNS lookup failed'})"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"could not connect to the proxy ({exc.strerror or 'refused'})"
    if isinstance(exc.os_error, ConnectionRefusedError):
        return "could not connect (connection refused)"
    return f"could not connect ({exc.strerror or 'refused'})"


def _host(exc: aiohttp.ClientConnectorError, fallback: str) -> str:
    try:
        return f"{exc.host}:{exc.port}"
    except AttributeError:  # pragma: no cover - every connector error carries its key
        return fallback


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
        return translate_transport_error(exc, url)
