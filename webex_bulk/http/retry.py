"""The retry decision, pure: what follows a failed attempt, ``Retry-After`` and backoff.

Attempts, rate-limited answers and the request's total time are capped; no clock read, no I/O.
"""

from __future__ import annotations

import enum
import math
import random
from email.utils import parsedate_to_datetime

import attrs

from webex_bulk.config import Settings
from webex_bulk.error_handling import RequestError, RetriesExhausted, UnknownOutcome

#: 429/423 answers one request may get before it gives up (they never count as attempts).
RATE_LIMITED_RETRIES = 20


# -- the retry decision ----------------------------------------------------------------------------


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
    unreachable: str = ""  # ``host:port`` that no connection could be made to (the network)


@attrs.frozen
class GiveUp:
    """Stop retrying; ``unknown_outcome`` when a write may have been applied."""

    reason: str
    unknown_outcome: bool = False
    unreachable: str = ""  # the failure's unreachable host, when that is why it gave up

    def error(self, method: str, path: str, tracking_id: str, sends: int) -> RequestError:
        """The error a request that gives up raises."""
        if self.unknown_outcome:
            return UnknownOutcome(method, path, tracking_id, self.reason)
        return RetriesExhausted(method, path, tracking_id, self.reason, sends, self.unreachable)


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
    *,
    attempts: int,
    rate_limited: int,
    elapsed: float,
    settings: Settings,
    rng: random.Random,
    replayable: bool = False,
) -> Decision:
    """Decide what follows a failed attempt.

    ``attempts`` counts this request's transient failures so far (this one included) and
    ``rate_limited`` its 429/423 answers so far (this one included); the two caps are separate.
    ``elapsed`` is the seconds since the request's first attempt: no wait is ordered that would
    end past ``settings.request_max_time``. A POST is re-sent only when it certainly was not
    processed (429/423, could not connect), unless ``replayable`` (the token grant).
    """
    if failure.kind is FailureKind.RATE_LIMITED:
        if rate_limited > RATE_LIMITED_RETRIES:
            return GiveUp(f"rate limited {rate_limited} times in a row")
        wait: RetryAfter | Backoff = RetryAfter(failure.retry_after)
    else:
        unsafe = method.upper() == "POST" and not replayable
        if unsafe and failure.kind is not FailureKind.NOT_SENT:
            return GiveUp(failure.cause, unknown_outcome=True)
        if attempts >= settings.max_attempts:
            cause = f"{failure.cause} on each of {attempts} attempts"
            return GiveUp(cause, unreachable=failure.unreachable)
        base, cap = settings.backoff_base, settings.backoff_cap
        wait = Backoff(backoff_delay(attempts - 1, base, cap, rng))
    if elapsed + wait.seconds > settings.request_max_time:
        return GiveUp(
            f"{failure.cause}; still failing after {elapsed:.0f} s "
            f"(request_max_time {settings.request_max_time:g} s)",
            unreachable=failure.unreachable,
        )
    return wait


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
