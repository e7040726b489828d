"""The one request path to the Webex API: limiter, global 429 pause, timeouts, retries, breaker
gate, token refresh, pagination and response validation.

The pure parts live beside it (``retry_policy``, ``pagination``); aiohttp exceptions are
translated in exactly one function, ``translate_transport_error``. The token never reaches a
log, a message or a repr.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import attrs
import yarl
from aiolimiter import AsyncLimiter
from multidict import CIMultiDict, CIMultiDictProxy

from webex_bulk.config import Credentials, Settings
from webex_bulk.error_handling import (
    ApiError,
    AuthError,
    ForbiddenError,
    HttpClass,
    RetriesExhausted,
    RunAborted,
    UnknownOutcome,
    classify_status,
)
from webex_bulk.http.breaker import BreakerState, CircuitBreaker
from webex_bulk.http.pagination import (
    OFFSET_PAGING,
    PAGING_KEYS,
    as_int,
    next_offset_url,
    parse_link_header,
    repair_next_link,
)
from webex_bulk.http.retry import (
    AUTO_PROBE_STEP,
    AUTO_SETTLE,
    AUTO_START_RATE,
    MAX_RATE,
    RATE_BUSY,
    RATE_DECREASE,
    RATE_FLOOR,
    RATE_INCREASE_FRACTION,
    RATE_INCREASE_INTERVAL,
    RATE_INCREASE_MIN_STEP,
    RATE_LIMITED_RETRIES,
    RETRY_BUDGET_FLOOR,
    RETRY_BUDGET_WINDOW,
    AdaptiveRate,
    Backoff,
    Decision,
    Failure,
    FailureKind,
    GiveUp,
    RetryAfter,
    RetryBudget,
    backoff_delay,
    decide_retry,
    parse_retry_after,
)
from webex_bulk.http.token_store import save_token_file

__all__ = [
    "WRITE_METHODS",
    "ClientStats",
    "Response",
    "WebexClient",
    "new_limiter",
    "query_pairs",
    "translate_transport_error",
]
# Moved to retry_policy, pagination and token_store; kept importable for callers.
__all__ += [
    "AUTO_PROBE_STEP",
    "AUTO_SETTLE",
    "AUTO_START_RATE",
    "MAX_RATE",
    "OFFSET_PAGING",
    "PAGING_KEYS",
    "RATE_BUSY",
    "RATE_DECREASE",
    "RATE_FLOOR",
    "RATE_INCREASE_FRACTION",
    "RATE_INCREASE_INTERVAL",
    "RATE_INCREASE_MIN_STEP",
    "RATE_LIMITED_RETRIES",
    "RETRY_BUDGET_FLOOR",
    "RETRY_BUDGET_WINDOW",
    "AdaptiveRate",
    "Backoff",
    "Decision",
    "Failure",
    "FailureKind",
    "GiveUp",
    "RetryAfter",
    "RetryBudget",
    "backoff_delay",
    "decide_retry",
    "next_offset_url",
    "parse_link_header",
    "parse_retry_after",
    "repair_next_link",
    "save_token_file",
]

log = logging.getLogger("webex_bulk.http")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _event(level: int, name: str, **fields: Any) -> None:
    log.log(level, name, extra={"event_fields": fields})


# -- records ---------------------------------------------------------------------------------------


@attrs.frozen
class Response:
    """A usable (2xx) answer: status, parsed JSON body (None when empty), headers, tracking id."""

    status: int
    body: Any
    headers: Mapping[str, str]
    tracking_id: str


@attrs.define
class ClientStats:
    """Counters of one client over the run (read by progress and the summary)."""

    requests: int = 0  # HTTP requests sent, every attempt counted
    by_status: dict[int, int] = attrs.Factory(dict)
    rate_limited: int = 0  # 429 + 423 answers
    retries: int = 0  # re-sends after a transient failure (5xx, timeout, connection error)
    breaker_trips: int = 0
    writes: int = 0  # POST/PUT/PATCH/DELETE requests sent, every attempt counted
    refreshes: int = 0  # successful token refreshes
    transport_errors: int = 0  # attempts that got no HTTP answer at all


# -- transport errors, limiter ---------------------------------------------------------------------


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


#: Largest burst, as a share of one second's requests (at least one request).
LIMITER_BURST = 0.1


def new_limiter(rate: float) -> AsyncLimiter:
    """``rate`` requests per second, bursts of at most a tenth of a second's worth (at least one).

    A burst of a whole second (``AsyncLimiter(rate, 1)``) empties the server's token bucket when
    traffic starts, and every later request then arrives at its very edge: a millisecond of
    jitter is a 429 even though the rates match. Small bursts keep the server's slack.
    """
    burst = max(1.0, rate * LIMITER_BURST)
    return AsyncLimiter(burst, burst / max(rate, 1e-3))


# -- response helpers ------------------------------------------------------------------------------

_NOT_JSON = object()


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return jsonlib.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _error_details(body: Any, raw: bytes) -> tuple[str, int | None]:
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


def _echoed_tracking_id(headers: Mapping[str, str], body: Any, ours: str) -> str:
    echoed = headers.get("Trackingid", "").split(",")[0].strip()
    if echoed:
        return echoed
    if isinstance(body, dict) and isinstance(body.get("trackingId"), str) and body["trackingId"]:
        return str(body["trackingId"])
    return ours


def query_pairs(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as text pairs: None dropped, booleans as true/false, lists repeated."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append((key, text))
    return pairs


# -- the client ------------------------------------------------------------------------------------


@attrs.frozen
class _Answer:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes


class WebexClient:
    """One per run: every HTTP call of the engine goes through ``request``.

    Per attempt: global pause → limiter → breaker gate → token → send with timeouts and a
    ``TrackingID`` → classify. See ``docs/connection_client.md``.
    """

    def __init__(
        self,
        settings: Settings,
        credentials: Credentials,
        session: aiohttp.ClientSession,
        breaker: CircuitBreaker,
        *,
        run_id: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.breaker = breaker
        self.stats = ClientStats()
        self._credentials = credentials
        self._session = session
        self._run_id = run_id
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._base = yarl.URL(settings.base_url.rstrip("/"))
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        )
        self._rate = AdaptiveRate(settings.rate)
        self._limiter = new_limiter(self._rate.rate)
        self._budget = RetryBudget(settings.retry_budget)
        self._pause_until = -math.inf
        self._token = credentials.access_token
        self._refresh_token = credentials.refresh_token
        self._refresh_due: float | None = None
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"WebexClient(base_url={str(self._base)!r}, run_id={self._run_id!r}, "
            f"rate={self._rate.rate:g}, credentials={self._credentials!r})"
        )

    @property
    def rate(self) -> float:
        """The current request rate (requests per second) of the adaptive limiter."""
        return self._rate.rate

    def breaker_state(self) -> BreakerState:
        """The breaker's state now (for progress display)."""
        return self.breaker.state(self._clock())

    async def close(self) -> None:
        """Nothing to release: the executor owns the session."""

    # -- public calls ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        expect_id: bool = False,
    ) -> Response:
        """Send one API call relative to ``base_url`` and return its 2xx answer.

        ``expect_id``: a 2xx answer whose body has no ``id`` raises ``ApiError`` (creates).
        Raises ApiError, ForbiddenError, UnknownOutcome, RetriesExhausted, AuthError, RunAborted.
        """
        url = self._url(path).extend_query(query_pairs(params))
        label = path.partition("?")[0]  # logs and messages name the path, never the query
        return await self._call(method.upper(), url, label, json, form, expect_id)

    async def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield the pages of a list: ``Link rel="next"`` first, else ``start`` + ``max`` offsets.

        Offsets are followed only for telephony paths whose ``params`` have ``max``, while a page
        comes back full. A page identical to the previous one, or a next link to a page already
        read, ends the list.
        """
        filters = query_pairs(params)
        page_size = as_int(dict(filters).get("max")) if path.startswith(OFFSET_PAGING) else None
        url = self._url(path).extend_query(filters)
        path = path.partition("?")[0]
        seen = {str(url)}
        previous: list[dict[str, Any]] | None = None
        while True:
            response = await self._call("GET", url, path, None, None, False)
            items = self._page_items(response, items_key, path)
            if items and items == previous:
                _event(logging.WARNING, "http.pagination_loop", path=path, pages=len(seen))
                return
            yield items
            following = self._following(response, url, filters, page_size, len(items), path)
            if following is None:
                return
            if str(following) in seen:
                _event(logging.WARNING, "http.pagination_loop", path=path, pages=len(seen))
                return
            seen.add(str(following))
            url, previous = following, items

    async def list_all(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> list[dict[str, Any]]:
        """Every item of a paginated list."""
        found: list[dict[str, Any]] = []
        async for page in self.pages(path, params=params, items_key=items_key):
            found.extend(page)
        return found

    # -- the retry loop --------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: yarl.URL,
        label: str,
        json: Any,
        form: Mapping[str, str] | None,
        expect_id: bool,
    ) -> Response:
        attempts = rate_limited = sends = 0
        refreshed = False
        while True:
            await self._gate()
            ours = self._new_tracking_id()
            sent_at = self._clock()
            sends += 1
            token, result = await self._attempt(method, url, ours, json, form)
            now = self._clock()
            if isinstance(result, _Answer):
                body = _parse_json(result.raw)
                tracking_id = _echoed_tracking_id(result.headers, body, ours)
                verdict = classify_status(result.status)
                if verdict is HttpClass.AUTH:
                    self.breaker.record_success(now)
                    if refreshed or not self._can_refresh():
                        raise AuthError(self._auth_message(method, label, refreshed))
                    await self._refresh(used=token)
                    refreshed = True
                    continue
                failure = await self._judge(
                    method, label, result, body, tracking_id, now, expect_id
                )
                if isinstance(failure, Response):
                    return failure
            else:
                failure, tracking_id = result, ours
            if failure.kind is FailureKind.RATE_LIMITED:
                rate_limited += 1
                await self._rate_limited(method, label, failure, tracking_id, now, sent_at)
            else:
                attempts += 1
                self._record_failure(now)
            decision = decide_retry(
                method, failure, attempts, rate_limited, self.settings, self._rng
            )
            await self._follow(decision, method, label, failure, tracking_id, sends, now)

    async def _judge(
        self,
        method: str,
        label: str,
        answer: _Answer,
        body: Any,
        tracking_id: str,
        now: float,
        expect_id: bool,
    ) -> Response | Failure:
        """Turn an HTTP answer (not 401) into a Response, a Failure to retry, or an exception."""
        verdict = classify_status(answer.status)
        if verdict is HttpClass.SUCCESS:
            if body is _NOT_JSON:
                return Failure(FailureKind.NO_ANSWER, f"HTTP {answer.status} answer is not JSON")
            self.breaker.record_success(now)
            await self._note_success(now)
            if expect_id and not (isinstance(body, dict) and body.get("id")):
                message = "the answer to this create has no id; look the object up before retrying"
                raise ApiError(method, label, tracking_id, answer.status, message, None, body)
            return Response(answer.status, body, answer.headers, tracking_id)
        if verdict is HttpClass.RATE_LIMITED:
            self.breaker.record_success(now)
            pause = parse_retry_after(
                answer.headers.get("Retry-After"),
                time.time(),
                self.settings.retry_after_default,
                self.settings.retry_after_cap,
            )
            return Failure(FailureKind.RATE_LIMITED, f"HTTP {answer.status}", answer.status, pause)
        if verdict is HttpClass.TRANSIENT:
            return Failure(FailureKind.SERVER_ERROR, f"HTTP {answer.status}", answer.status)
        self.breaker.record_success(now)
        parsed = None if body is _NOT_JSON else body
        message, code = _error_details(parsed, answer.raw)
        error = ForbiddenError if verdict is HttpClass.FORBIDDEN else ApiError
        raise error(method, label, tracking_id, answer.status, self._scrub(message), code, parsed)

    async def _follow(
        self,
        decision: Decision,
        method: str,
        label: str,
        failure: Failure,
        tracking_id: str,
        sends: int,
        now: float,
    ) -> None:
        """Carry out a retry decision: raise, or wait (the gate waits out a global pause)."""
        if isinstance(decision, GiveUp):
            _event(
                logging.WARNING,
                "http.gave_up",
                method=method,
                path=label,
                cause=decision.reason,
                attempts=sends,
                unknown_outcome=decision.unknown_outcome,
                tracking_id=tracking_id,
            )
            if decision.unknown_outcome:
                raise UnknownOutcome(method, label, tracking_id, decision.reason)
            raise RetriesExhausted(method, label, tracking_id, decision.reason, sends)
        if isinstance(decision, RetryAfter):
            return
        if not self._budget.try_spend(now):
            self.breaker.force_open(now)
            self._note_trips()
            _event(logging.ERROR, "http.retry_budget_exhausted", method=method, path=label)
            cause = f"{failure.cause}; the run's retry budget is exhausted"
            raise RetriesExhausted(method, label, tracking_id, cause, sends)
        self.stats.retries += 1
        _event(
            logging.WARNING,
            "http.retry",
            method=method,
            path=label,
            cause=failure.cause,
            attempt=sends,
            delay=round(decision.seconds, 3),
            tracking_id=tracking_id,
        )
        await self._sleep(decision.seconds)

    # -- one attempt -----------------------------------------------------------------------------

    async def _gate(self) -> None:
        """Wait until a request may leave: no global pause, a limiter slot, the breaker's leave."""
        while True:
            await self._acquire_slot()
            now = self._clock()
            if now < self._pause_until:
                await self._sleep(self._pause_until - now)
                continue
            if self.breaker.exhausted(now):
                raise RunAborted(
                    f"the API kept failing; the circuit breaker was open more than "
                    f"{self.breaker.max_open:g} s in total"
                )
            wait = self.breaker.wait_time(now)
            if wait <= 0.0:
                return
            await self._sleep(min(wait, self.breaker.seconds_to_exhaustion(now) + 0.01))

    async def _acquire_slot(self) -> None:
        # A rate change swaps the limiter; a slot taken from a replaced limiter does not count.
        while True:
            limiter = self._limiter
            await limiter.acquire()
            if limiter is self._limiter:
                return

    def _new_tracking_id(self) -> str:
        return f"WEBEX_BULK_{self._run_id}_{uuid.uuid4()}"

    async def _attempt(
        self,
        method: str,
        url: yarl.URL,
        tracking_id: str,
        json: Any,
        form: Mapping[str, str] | None,
    ) -> tuple[str, _Answer | Failure]:
        """Send once with the current token; returns that token and the answer or failure.

        The gate has let this attempt through: if it ends without an answer (cancelled, token
        refresh refused), its half-open probe slot goes back to the breaker.
        """
        try:
            token = await self._current_token()
            self._budget.note_request(self._clock())
            self._rate.note_sent(self._clock())
            self.stats.requests += 1
            if method in WRITE_METHODS:
                self.stats.writes += 1
            headers = {
                "Authorization": f"Bearer {token}",
                "TrackingID": tracking_id,
                "Accept": "application/json",
            }
            started = self._clock()
            answer = await self._exchange(method, url, headers, json, form)
        except BaseException:
            self.breaker.release(self._clock())
            raise
        if isinstance(answer, Failure):
            self.stats.transport_errors += 1
            return token, answer
        self.stats.by_status[answer.status] = self.stats.by_status.get(answer.status, 0) + 1
        _event(
            logging.DEBUG,
            "http.response",
            method=method,
            path=url.path,
            status=answer.status,
            tracking_id=tracking_id,
            elapsed=round(self._clock() - started, 4),
        )
        return token, answer

    async def _exchange(
        self,
        method: str,
        url: yarl.URL,
        headers: Mapping[str, str],
        json: Any,
        form: Mapping[str, str] | None,
    ) -> _Answer | Failure:
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                json=json,
                data=dict(form) if form is not None else None,
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                return _Answer(resp.status, CIMultiDictProxy(CIMultiDict(resp.headers)), raw)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return translate_transport_error(exc)

    # -- rate limiting, breaker, statistics ------------------------------------------------------

    async def _rate_limited(
        self,
        method: str,
        label: str,
        failure: Failure,
        tracking_id: str,
        now: float,
        sent_at: float,
    ) -> None:
        """Start (or extend) the global pause and lower the rate once per burst."""
        self.stats.rate_limited += 1
        self._pause_until = max(self._pause_until, now + failure.retry_after)
        _event(
            logging.WARNING,
            "http.rate_limited",
            method=method,
            path=label,
            status=failure.status,
            pause=round(failure.retry_after, 3),
            tracking_id=tracking_id,
        )
        before = self._rate.rate
        if self._rate.on_rate_limited(now, sent_at):
            await self._swap_limiter(before, "rate_limited")

    async def _note_success(self, now: float) -> None:
        before = self._rate.rate
        if self._rate.on_success(now):
            await self._swap_limiter(before, "calm")

    async def _swap_limiter(self, before: float, why: str) -> None:
        limiter = new_limiter(self._rate.rate)
        # Start full, so a rate change never opens a fresh burst on top of the traffic so far.
        # Claiming the whole capacity of an empty limiter returns without suspending.
        await limiter.acquire(limiter.max_rate)
        self._limiter = limiter
        _event(logging.INFO, "http.rate_changed", old=before, new=self._rate.rate, why=why)

    def _record_failure(self, now: float) -> None:
        self.breaker.record_failure(now)
        self._note_trips()

    def _note_trips(self) -> None:
        if self.breaker.trips != self.stats.breaker_trips:
            self.stats.breaker_trips = self.breaker.trips
            _event(logging.WARNING, "http.breaker_open", trips=self.breaker.trips)

    # -- tokens ----------------------------------------------------------------------------------

    def _can_refresh(self) -> bool:
        c = self._credentials
        return bool(self._refresh_token and c.client_id and c.client_secret)

    def _refresh_is_due(self) -> bool:
        return self._refresh_due is not None and self._clock() >= self._refresh_due

    async def _current_token(self) -> str:
        if self._token is None or (self._refresh_is_due() and self._can_refresh()):
            await self._refresh(used=self._token)
        if self._token is None:  # pragma: no cover - _refresh sets it or raises
            raise AuthError("no access token")
        return self._token

    async def _refresh(self, used: str | None) -> None:
        """Single flight: concurrent callers that saw the same token share one refresh."""
        async with self._token_lock:
            if self._token is not None and self._token != used and not self._refresh_is_due():
                return  # another request refreshed it while this one waited
            if not self._can_refresh():
                raise AuthError(
                    "no usable access token and no refresh credentials — set WEBEX_TOKEN, or "
                    "give client id, client secret and refresh token (token file or environment)"
                )
            await self._refresh_grant()

    async def _refresh_grant(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "client_id": self._credentials.client_id or "",
            "client_secret": self._credentials.client_secret or "",
            "refresh_token": self._refresh_token or "",
        }
        url = self._base / "access_token"
        cause = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            headers = {"Accept": "application/json", "TrackingID": self._new_tracking_id()}
            result = await self._exchange("POST", url, headers, None, form)
            if isinstance(result, _Answer) and 200 <= result.status < 300:
                await self._store_tokens(_parse_json(result.raw))
                return
            if isinstance(result, _Answer) and classify_status(result.status) in (
                HttpClass.CLIENT,
                HttpClass.AUTH,
                HttpClass.FORBIDDEN,
            ):
                message, _ = _error_details(_parse_json(result.raw), result.raw)
                _event(logging.ERROR, "auth.refresh_failed", status=result.status)
                raise AuthError(
                    f"the token refresh was refused ({result.status}: {self._scrub(message)}) — "
                    "get a new refresh token and put it in the token file or the environment"
                )
            cause = result.cause if isinstance(result, Failure) else f"HTTP {result.status}"
            if attempt < self.settings.max_attempts:
                base, cap = self.settings.backoff_base, self.settings.backoff_cap
                await self._sleep(backoff_delay(attempt - 1, base, cap, self._rng))
        _event(logging.ERROR, "auth.refresh_failed", cause=cause)
        raise AuthError(f"the token refresh failed {self.settings.max_attempts} times ({cause})")

    async def _store_tokens(self, body: Any) -> None:
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError("the token refresh answer has no access_token")
        self._token = token
        self.stats.refreshes += 1
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            lifetime = float(expires_in)
            margin = self.settings.token_refresh_margin
            self._refresh_due = self._clock() + max(lifetime - margin, lifetime / 2)
        else:
            self._refresh_due = None
        rotated = body.get("refresh_token")
        changed = isinstance(rotated, str) and bool(rotated) and rotated != self._refresh_token
        _event(logging.INFO, "auth.refresh", expires_in=expires_in, rotated=changed)
        if changed:
            self._refresh_token = rotated
            await self._save_tokens()

    async def _save_tokens(self) -> None:
        path = self._credentials.token_file
        if path is None:
            _event(logging.WARNING, "auth.token_file_not_saved", reason="no token file")
            return
        updates = {"refresh_token": self._refresh_token or ""}
        try:
            await asyncio.to_thread(save_token_file, path, updates)
        except (OSError, ValueError) as exc:
            _event(logging.ERROR, "auth.token_file_not_saved", path=str(path), reason=str(exc))
            return
        _event(logging.INFO, "auth.token_file_saved", path=str(path))

    def _auth_message(self, method: str, label: str, refreshed: bool) -> str:
        if refreshed:
            return f"the API refused the token even after a refresh (401 on {method} {label})"
        return (
            f"the API refused the token (401 on {method} {label}) — set a fresh token in "
            "WEBEX_TOKEN or the token file, or give refresh credentials"
        )

    def _scrub(self, text: str) -> str:
        secrets = (self._token, self._refresh_token, *self._credentials.secrets())
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    # -- URLs and pages --------------------------------------------------------------------------

    def _url(self, path: str) -> yarl.URL:
        return yarl.URL(str(self._base) + ("" if path.startswith("/") else "/") + path)

    def _page_items(self, response: Response, items_key: str, path: str) -> list[dict[str, Any]]:
        body = response.body
        items = body if isinstance(body, list) else []
        if isinstance(body, dict):
            items = body.get(items_key, [])  # an empty list may be left out of the answer
        if not isinstance(items, list):
            raise ApiError(
                "GET",
                path,
                response.tracking_id,
                response.status,
                f"the list answer has no list under {items_key!r}",
                None,
                body,
            )
        return items

    def _following(
        self,
        response: Response,
        current: yarl.URL,
        filters: list[tuple[str, str]],
        page_size: int | None,
        count: int,
        path: str,
    ) -> yarl.URL | None:
        """The next page's URL, or None at the end of the list."""
        getall = getattr(response.headers, "getall", None)
        values = getall("Link", []) if getall else [response.headers.get("Link", "")]
        link = parse_link_header(values).get("next")
        if not link:
            return next_offset_url(current, page_size, count)
        try:
            following = repair_next_link(link, current, filters)
        except ValueError:
            following = None
        if following is None or following.origin() != self._base.origin():
            raise ApiError(
                "GET",
                path,
                response.tracking_id,
                response.status,
                "the next-page link is malformed or points to another host; the list is "
                "incomplete and the token is not sent there",
                None,
                None,
            )
        return following
