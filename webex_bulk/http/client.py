"""The one request path to the Webex API: per attempt the throttle, the breaker gate, the token,
one exchange, the judging of the answer and the retry decision carried out; and list paging.

The parts it drives live beside it (``throttle``, ``auth``, ``transport``, ``answers``,
``retry``, ``pagination``, ``breaker``). The token never reaches a log, a message or a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import yarl

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import (
    ApiError,
    AuthError,
    HttpClass,
    RetriesExhausted,
    RunAborted,
    classify_status,
)
from webex_bulk.http.answers import Answer, Response, echoed_tracking_id, judge, parse_json
from webex_bulk.http.auth import SaveFile, TokenKeeper
from webex_bulk.http.breaker import BreakerState, CircuitBreaker
from webex_bulk.http.pagination import (
    OFFSET_PAGING,
    as_int,
    next_page_url,
    page_items,
    query_pairs,
)
from webex_bulk.http.retry import Decision, Failure, FailureKind, GiveUp, RetryAfter, decide_retry
from webex_bulk.http.stats import ClientStats
from webex_bulk.http.throttle import Throttle
from webex_bulk.http.transport import exchange

log = logging.getLogger("webex_bulk.http")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _event(level: int, name: str, **fields: Any) -> None:
    log.log(level, name, extra={"event_fields": fields})


class WebexClient:
    """One per run: every HTTP call of the engine goes through ``request``.

    Per attempt: global pause → limiter → breaker gate → token → send with timeouts and a
    ``TrackingID`` → judge. ``clock`` (monotonic) times pauses and the breaker; ``wall_clock``
    (epoch seconds) reads HTTP-date ``Retry-After`` values. See ``docs/connection_client.md``.
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
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        save_file: SaveFile | None = None,
    ) -> None:
        self.settings = settings
        self.breaker = breaker
        self.stats = ClientStats()
        self._credentials = credentials
        self._session = session
        self._run_id = run_id
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._base = yarl.URL(settings.base_url.rstrip("/"))
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        )
        self._throttle = Throttle(settings, clock=clock, sleep=sleep)
        self._auth = TokenKeeper(
            settings,
            credentials,
            session,
            stats=self.stats,
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rng=self._rng,
            tracking_id=self._new_tracking_id,
            save_file=save_file,
        )

    def __repr__(self) -> str:
        return (
            f"WebexClient(base_url={str(self._base)!r}, run_id={self._run_id!r}, "
            f"rate={self.rate:g}, credentials={self._credentials!r})"
        )

    @property
    def rate(self) -> float:
        """The current request rate (requests per second) of the adaptive limiter."""
        return self._throttle.rate

    def in_flight(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold one place in flight for a whole row: its requests take no other place."""
        return self._throttle.in_flight()

    def breaker_state(self) -> BreakerState:
        """The breaker's state now (for progress display)."""
        return self.breaker.state(self._clock())

    # -- public calls ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one API call relative to ``base_url`` and return its 2xx answer.

        Raises ApiError, ForbiddenError, UnknownOutcome, RetriesExhausted (``unreachable`` when no
        attempt could connect), AuthError, NetworkError (a token grant that could not connect),
        RunAborted.
        """
        url = self._url(path).extend_query(query_pairs(params))
        label = path.partition("?")[0]  # logs and messages name the path, never the query
        return await self._call(method.upper(), url, label, json, form)

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
            response = await self._call("GET", url, path, None, None)
            items = page_items(response.body, items_key)
            if items is None:
                message = f"the list answer has no list under {items_key!r}"
                raise self._list_error(response, path, message, response.body)
            if items and items == previous:
                _event(logging.WARNING, "http.pagination_loop", path=path, pages=len(seen))
                return
            yield items
            getall = getattr(response.headers, "getall", None)
            links = getall("Link", []) if getall else [response.headers.get("Link", "")]
            try:
                following = next_page_url(links, url, filters, page_size, len(items), self._base)
            except ValueError:
                message = (
                    "the next-page link is malformed or points to another host; the list is "
                    "incomplete and the token is not sent there"
                )
                raise self._list_error(response, path, message, None) from None
            if following is None:
                return
            if str(following) in seen:
                _event(logging.WARNING, "http.pagination_loop", path=path, pages=len(seen))
                return
            seen.add(str(following))
            url, previous = following, items

    # -- the retry loop --------------------------------------------------------------------------

    async def _call(
        self, method: str, url: yarl.URL, label: str, json: Any, form: Mapping[str, str] | None
    ) -> Response:
        attempts = rate_limited = sends = 0
        refreshed, started = False, self._clock()
        while True:
            async with self._throttle.in_flight():  # the attempt only, never a backoff sleep
                await self._gate()
                ours = self._new_tracking_id()
                sent_at = self._clock()
                sends += 1
                token, result = await self._attempt(method, url, ours, json, form)
            now = self._clock()
            if isinstance(result, Answer):
                body = parse_json(result.raw)
                tracking_id = echoed_tracking_id(result.headers, body, ours)
                if classify_status(result.status) is HttpClass.AUTH:
                    self.breaker.record_success(now)
                    if refreshed or not self._auth.can_refresh():
                        raise AuthError(self._auth_message(method, label, refreshed))
                    await self._auth.refresh(used=token)
                    refreshed = True
                    continue
                judged = self._judge(method, label, result, body, tracking_id, now)
                if isinstance(judged, Response):
                    await self._throttle.succeeded(now)
                    return judged
                failure = judged
            else:
                failure, tracking_id = result, ours
            if failure.kind is FailureKind.RATE_LIMITED:
                rate_limited += 1
                await self._rate_limited(method, label, failure, tracking_id, now, sent_at)
            else:
                attempts += 1
                self.breaker.record_failure(now)
                self._note_trips()
            decision = decide_retry(
                method,
                failure,
                attempts=attempts,
                rate_limited=rate_limited,
                elapsed=now - started,
                settings=self.settings,
                rng=self._rng,
            )
            await self._follow(decision, method, label, failure, tracking_id, sends, now)

    def _judge(
        self, method: str, label: str, answer: Answer, body: Any, tracking_id: str, now: float
    ) -> Response | Failure:
        """Judge an answer (not 401) and tell the breaker: anything but a transient failure
        shows the API alive."""
        try:
            judged = judge(
                method,
                label,
                answer,
                body=body,
                tracking_id=tracking_id,
                now_epoch=self._wall_clock(),
                settings=self.settings,
                scrub=self._auth.scrub,
            )
        except ApiError:
            self.breaker.record_success(now)
            raise
        if isinstance(judged, Response) or judged.kind is FailureKind.RATE_LIMITED:
            self.breaker.record_success(now)
        return judged

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
            raise decision.error(method, label, tracking_id, sends)
        if isinstance(decision, RetryAfter):
            return
        if not self._throttle.try_spend_retry(now):
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
            await self._throttle.wait_turn()
            now = self._clock()
            if self.breaker.exhausted(now):
                raise RunAborted(
                    f"the API kept failing; the circuit breaker was open more than "
                    f"{self.breaker.max_open:g} s in total"
                )
            if self.breaker.acquire(now=now):
                return
            wait = max(self.breaker.wait_time(now=now), 0.0)
            await self._sleep(min(wait, self.breaker.seconds_to_exhaustion(now) + 0.01))

    def _new_tracking_id(self) -> str:
        return f"WEBEX_BULK_{self._run_id}_{uuid.uuid4()}"

    async def _attempt(
        self,
        method: str,
        url: yarl.URL,
        tracking_id: str,
        json: Any,
        form: Mapping[str, str] | None,
    ) -> tuple[str, Answer | Failure]:
        """Send once with the current token; returns that token and the answer or failure.

        The gate has let this attempt through: if it ends without an answer (cancelled, token
        refresh refused), its half-open probe slot goes back to the breaker.
        """
        try:
            token = await self._auth.current()
            self._throttle.note_sent(self._clock())
            self.stats.requests += 1
            if method in WRITE_METHODS:
                self.stats.writes += 1
            headers = {
                "Authorization": f"Bearer {token}",
                "TrackingID": tracking_id,
                "Accept": "application/json",
            }
            started = self._clock()
            answer = await exchange(
                self._session, method, url, headers, json=json, form=form, timeouts=self._timeout
            )
        except BaseException:
            self.breaker.release(self._clock())
            raise
        if isinstance(answer, Failure):
            self.stats.transport_errors += 1
            return token, answer
        self._throttle.answered(self._clock() - started)
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

    # -- rate limiting, breaker ------------------------------------------------------------------

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
        _event(
            logging.WARNING,
            "http.rate_limited",
            method=method,
            path=label,
            status=failure.status,
            pause=round(failure.retry_after, 3),
            tracking_id=tracking_id,
        )
        await self._throttle.rate_limited(now, sent_at, failure.retry_after)

    def _note_trips(self) -> None:
        if self.breaker.trips != self.stats.breaker_trips:
            self.stats.breaker_trips = self.breaker.trips
            _event(logging.WARNING, "http.breaker_open", trips=self.breaker.trips)

    def _auth_message(self, method: str, label: str, refreshed: bool) -> str:
        if refreshed:
            return f"the API refused the token even after a refresh (401 on {method} {label})"
        return (
            f"the API refused the token (401 on {method} {label}) — set a fresh token in "
            "WEBEX_TOKEN or the token file, or give refresh credentials"
        )

    # -- URLs ------------------------------------------------------------------------------------

    def _url(self, path: str) -> yarl.URL:
        return yarl.URL(str(self._base) + ("" if path.startswith("/") else "/") + path)

    @staticmethod
    def _list_error(response: Response, path: str, message: str, body: Any) -> ApiError:
        return ApiError("GET", path, response.tracking_id, response.status, message, None, body)
