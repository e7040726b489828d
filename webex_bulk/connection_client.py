"""The one request path to the Webex API: limiter, global 429 pause, timeouts, retries, breaker
gate, token refresh, pagination and response validation.

The retry decision (``decide_retry``), ``parse_retry_after``, the retry budget and the adaptive
rate are pure (time comes in as ``now``); aiohttp exceptions are translated in exactly one
function, ``translate_transport_error``. The token never reaches a log, a message or a repr.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import json as jsonlib
import logging
import math
import os
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import attrs
import yarl
from aiolimiter import AsyncLimiter
from multidict import CIMultiDict, CIMultiDictProxy

from webex_bulk.circuit_breaker import BreakerState, CircuitBreaker
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

log = logging.getLogger("webex_bulk.http")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: 429/423 answers one request may get before it gives up (they never count as attempts).
RATE_LIMITED_RETRIES = 20
#: Retries always allowed per sliding minute, whatever the request volume.
RETRY_BUDGET_FLOOR = 10
RETRY_BUDGET_WINDOW = 60
#: Adaptive rate: ×0.7 on a 429, never below 0.5/s; +5 % of the ceiling per 2 calm seconds in
#: which the traffic used at least 80 % of the rate (an unused allowance proves nothing).
RATE_DECREASE = 0.7
RATE_FLOOR = 0.5
RATE_INCREASE_INTERVAL = 2.0
RATE_INCREASE_FRACTION = 0.05
RATE_INCREASE_MIN_STEP = 0.1
RATE_BUSY = 0.8
#: ``--rate auto``: start here, climb by this much per calm interval, settle at 90 % of the
#: rate that met the first 429.
AUTO_START_RATE = 10.0
AUTO_PROBE_STEP = 1.0
AUTO_SETTLE = 0.9
MAX_RATE = 1000.0
#: Paths listed telephony style (``start``/``max`` offsets) when an answer has no next link.
OFFSET_PAGING = ("/telephony/",)
#: Query keys that belong to the paging itself and must never be copied onto a next link.
PAGING_KEYS = frozenset({"start", "after", "before", "cursor", "next", "offset", "startIndex"})


def _event(level: int, name: str, **fields: Any) -> None:
    log.log(level, name, extra={"event_fields": fields})


# -- records --------------------------------------------------------------------------------------


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


# -- retry policy (pure) --------------------------------------------------------------------------


class FailureKind(enum.StrEnum):
    """Why an attempt gave no usable answer, as far as the retry policy cares."""

    RATE_LIMITED = "rate_limited"  # 429/423: certainly not processed
    SERVER_ERROR = "server_error"  # 5xx: may have been processed
    NOT_SENT = "not_sent"  # could not connect: certainly not processed
    NO_ANSWER = "no_answer"  # timeout, reset or unreadable answer after sending


@attrs.frozen
class Failure:
    """One attempt's failure: its kind, a short cause for messages, the pause a 429 asked for."""

    kind: FailureKind
    cause: str
    status: int | None = None
    retry_after: float = 0.0


@attrs.frozen
class GiveUp:
    """Stop retrying; ``unknown_outcome`` when a write may have been applied."""

    reason: str
    unknown_outcome: bool = False


@attrs.frozen
class RetryAfter:
    """Retry once the global pause of ``seconds`` has passed (429/423)."""

    seconds: float


@attrs.frozen
class Backoff:
    """Retry after a full-jitter backoff of ``seconds``."""

    seconds: float


Decision = GiveUp | RetryAfter | Backoff


def backoff_delay(retry: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter for the ``retry``-th retry (0-based): ``U(0, min(cap, base·2^retry))``."""
    ceiling = min(cap, base * 2.0 ** min(max(retry, 0), 64))
    return rng.uniform(0.0, ceiling)


def decide_retry(
    method: str,
    failure: Failure,
    attempts: int,
    rate_limited: int,
    settings: Settings,
    rng: random.Random,
) -> Decision:
    """Decide what follows a failed attempt.

    ``attempts`` counts this request's transient failures so far (this one included) and
    ``rate_limited`` its 429/423 answers so far (this one included); the two caps are separate.
    A POST is re-sent only when it certainly was not processed (429/423, could not connect).
    """
    if failure.kind is FailureKind.RATE_LIMITED:
        if rate_limited > RATE_LIMITED_RETRIES:
            return GiveUp(f"rate limited {rate_limited} times in a row")
        return RetryAfter(failure.retry_after)
    if method.upper() == "POST" and failure.kind is not FailureKind.NOT_SENT:
        return GiveUp(failure.cause, unknown_outcome=True)
    if attempts >= settings.max_attempts:
        return GiveUp(f"{failure.cause} on each of {attempts} attempts")
    return Backoff(backoff_delay(attempts - 1, settings.backoff_base, settings.backoff_cap, rng))


def parse_retry_after(value: str | None, now_epoch: float, default: float, cap: float) -> float:
    """Seconds to pause for a ``Retry-After`` value: integer or fractional seconds, or an HTTP-date.

    Missing, malformed (``rand(30),add(30)``), negative or non-finite values give ``default``; a
    date in the past gives 0; everything is capped at ``cap``. Never raises.
    """
    ceiling = max(0.0, cap)
    fallback = min(max(0.0, default), ceiling) if math.isfinite(default) else ceiling
    if value is None or not value.strip():
        return fallback
    text = value.strip()
    seconds = _seconds_or_date(text, now_epoch)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return fallback
    return min(seconds, ceiling)


def _seconds_or_date(text: str, now_epoch: float) -> float | None:
    if text[0].isdigit() or text[0] in "+-.":
        try:
            return float(text)
        except ValueError:
            return None
    try:
        when = parsedate_to_datetime(text)
        return max(0.0, when.timestamp() - now_epoch)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


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


class RetryBudget:
    """At most ``ratio`` × requests retries over a sliding minute (``floor`` always allowed)."""

    def __init__(
        self, ratio: float, *, floor: int = RETRY_BUDGET_FLOOR, window: int = RETRY_BUDGET_WINDOW
    ) -> None:
        self.ratio = ratio
        self.floor = floor
        self.window = window
        self._seconds: collections.deque[list[int]] = collections.deque()  # [second, req, retry]

    def note_request(self, now: float) -> None:
        """Count one request sent at ``now``."""
        self._bucket(now)[1] += 1

    def try_spend(self, now: float) -> bool:
        """Take one retry from the budget; False when the budget is exhausted."""
        bucket = self._bucket(now)
        requests = sum(entry[1] for entry in self._seconds)
        retries = sum(entry[2] for entry in self._seconds)
        if retries + 1 > max(self.floor, self.ratio * requests):
            return False
        bucket[2] += 1
        return True

    def _bucket(self, now: float) -> list[int]:
        second = math.floor(now)
        if self._seconds:
            second = max(second, self._seconds[-1][0])
        while self._seconds and self._seconds[0][0] <= second - self.window:
            self._seconds.popleft()
        if not self._seconds or self._seconds[-1][0] != second:
            self._seconds.append([second, 0, 0])
        return self._seconds[-1]


class AdaptiveRate:
    """Additive increase, multiplicative decrease of the request rate, driven by 429/423 answers.

    A fixed configured rate is the ceiling. ``auto`` (configured 0.0) starts at 10/s and climbs
    until the first 429, then settles at 90 % of the rate that met it. The rate only climbs
    while the traffic actually uses it (``note_sent``), so it never runs away from reality.
    """

    def __init__(self, configured: float) -> None:
        self.auto = configured <= 0.0
        self.ceiling: float | None = None if self.auto else min(configured, MAX_RATE)
        self.rate = AUTO_START_RATE if self.auto else min(configured, MAX_RATE)
        self._calm_since: float | None = None
        self._sent = 0  # requests sent since _calm_since
        self._last_decrease = -math.inf

    def note_sent(self, now: float) -> None:
        """Count one request sent at ``now``."""
        if self._calm_since is None:
            self._calm_since = now
        self._sent += 1

    def on_rate_limited(self, now: float, sent_at: float) -> bool:
        """A 429/423 arrived for a request sent at ``sent_at``; True when the rate changed.

        Answers to requests sent before the last decrease belong to the same burst: one decrease.
        """
        if sent_at <= self._last_decrease:
            return False
        if self.ceiling is None:
            self.ceiling = max(RATE_FLOOR, self.rate * AUTO_SETTLE)
        self._last_decrease = now
        self._calm_since = now
        self._sent = 0
        lowered = max(RATE_FLOOR, self.rate * RATE_DECREASE)
        changed = lowered != self.rate
        self.rate = lowered
        return changed

    def on_success(self, now: float) -> bool:
        """A successful answer at ``now``; True when the rate went up."""
        if self._calm_since is None:
            self._calm_since = now
            return False
        elapsed = now - self._calm_since
        if elapsed < RATE_INCREASE_INTERVAL:
            return False
        busy = self._sent >= RATE_BUSY * self.rate * elapsed
        self._calm_since = now
        self._sent = 0
        top = self.ceiling if self.ceiling is not None else MAX_RATE
        if not busy or self.rate >= top:
            return False
        step = (
            AUTO_PROBE_STEP
            if self.ceiling is None
            else max(RATE_INCREASE_MIN_STEP, self.ceiling * RATE_INCREASE_FRACTION)
        )
        self.rate = min(top, self.rate + step)
        return True


def new_limiter(rate: float) -> AsyncLimiter:
    """``rate`` requests per second, bursts up to ``rate`` (below 1/s: one per 1/rate s)."""
    if rate >= 1.0:
        return AsyncLimiter(rate, 1)
    return AsyncLimiter(1, 1.0 / max(rate, 1e-3))


# -- response helpers -----------------------------------------------------------------------------

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
    code = _as_int(first.get("errorCode"))
    if code is None:
        code = _as_int(body.get("errorCode"))
    return (message or "no error message in the answer"), code


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


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


# -- pagination helpers (pure) --------------------------------------------------------------------


def _split_outside(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside ``<…>`` and double quotes."""
    parts: list[str] = []
    current: list[str] = []
    in_angle = in_quote = False
    for char in text:
        if char == '"' and not in_angle:
            in_quote = not in_quote
        elif char == "<" and not in_quote:
            in_angle = True
        elif char == ">" and not in_quote:
            in_angle = False
        if char == separator and not in_angle and not in_quote:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_link_header(values: Iterable[str]) -> dict[str, str]:
    """Map each ``rel`` of RFC 8288 ``Link`` header values to its target (first one wins).

    Tolerates ``<url>;rel="next"`` without a space, unquoted rels, several rels in one value and
    several headers.
    """
    links: dict[str, str] = {}
    for value in values:
        for link in _split_outside(value, ","):
            parts = _split_outside(link, ";")
            target = parts[0].strip()
            if not (target.startswith("<") and target.endswith(">")):
                continue
            for param in parts[1:]:
                name, _, raw = param.partition("=")
                if name.strip().lower() != "rel":
                    continue
                for rel in raw.strip().strip('"').lower().split():
                    links.setdefault(rel, target[1:-1].strip())
    return links


def repair_next_link(link: str, current: yarl.URL, filters: list[tuple[str, str]]) -> yarl.URL:
    """Resolve a next link against the current URL, drop ``max=null`` and put back the filters
    of the first request that the link dropped (paging keys excepted). Raises ValueError."""
    if link.lower().startswith(("https,", "http,")):  # a malformed target seen from telephony
        link = link.replace(",", ":", 1)
    target = current.join(yarl.URL(link))
    kept = [
        part
        for part in target.raw_query_string.split("&")
        if part and part.lower() not in ("max=null", "max=none", "max=")
    ]
    present = {unquote(part.partition("=")[0]) for part in kept}
    missing = [(k, v) for k, v in filters if k not in present and k not in PAGING_KEYS]
    kept += [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in missing]
    bare = str(target.with_query(None).with_fragment(None))
    return yarl.URL(f"{bare}?{'&'.join(kept)}" if kept else bare, encoded=True)


def next_offset_url(current: yarl.URL, page_size: int | None, count: int) -> yarl.URL | None:
    """Telephony style: the next ``start`` while a page of ``page_size`` came back full."""
    if not page_size or count < page_size:
        return None
    start = _as_int(current.query.get("start", "0")) or 0
    return current.update_query(start=str(start + count))


# -- token file -----------------------------------------------------------------------------------


def save_token_file(path: Path, updates: Mapping[str, str]) -> None:
    """Merge ``updates`` into the JSON token file, keeping its other keys; atomic, mode 0600.

    Temp file in the same directory, fsync, rename, fsync of the directory. Raises OSError, or
    ValueError when the present file is not a JSON object (it is left untouched).
    """
    try:
        current = jsonlib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        current = {}
    if not isinstance(current, dict):
        raise ValueError("the token file is not a JSON object")
    current.update(updates)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            jsonlib.dump(current, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# -- the client -----------------------------------------------------------------------------------


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
        page_size = _as_int(dict(filters).get("max")) if path.startswith(OFFSET_PAGING) else None
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
