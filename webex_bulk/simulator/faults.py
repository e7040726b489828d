"""Seeded fault and load decisions: latency draws, the per-token rate limit, injected errors,
dropped connections and stalls. Every random draw comes from one ``random.Random(seed)``.

Pure decisions: time comes in as ``now``; the app acts on what is decided here.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random

import attrs

from webex_bulk.simulator.config import SimConfig

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MALFORMED_RETRY_AFTER = "rand(30),add(30)"


class FaultKind(enum.Enum):
    """What a fault does to a request."""

    LOCKED = "locked"  # 423 before the handler runs
    ERROR = "error"  # a 5xx answer (before the handler, or after it committed)
    DROP = "drop"  # close the connection without an answer
    STALL = "stall"  # commit, then hold the answer for ``stall_seconds``
    CREATED_400 = "created_400"  # commit a person, then answer 400


@attrs.frozen
class Fault:
    """A decided fault and, for answers, its status."""

    kind: FaultKind
    status: int = 0


@attrs.define
class _Bucket:
    tokens: float
    stamp: float
    blocked_until: float = 0.0


class FaultPlan:
    """The fault decisions of one simulator run; the same seed and requests give the same faults."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:faults")
        self._buckets: dict[str, _Bucket] = {}

    def throttle(self, config: SimConfig, key: str, now: float) -> float | None:
        """None when the token may send now, else the seconds to announce in ``Retry-After``.

        A token bucket of ``burst`` requests refilled at ``rate_limit`` per second. With a
        penalty, a request sent during the announced pause is refused too and extends it.
        """
        if config.rate_limit <= 0:
            return None
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(config.burst), now)
        if config.rate_limit_penalty > 0 and now < bucket.blocked_until:
            bucket.blocked_until += config.rate_limit_penalty
            return bucket.blocked_until - now
        bucket.tokens = min(
            float(config.burst), bucket.tokens + (now - bucket.stamp) * config.rate_limit
        )
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        bucket.blocked_until = now + config.retry_after
        return config.retry_after

    def delay(self, config: SimConfig, family: str) -> float:
        """Seconds to hold a request of an endpoint family (lognormal; 0 when off)."""
        latency = config.latency_of(family)
        if latency.median <= 0:
            return 0.0
        draw = self._rng.lognormvariate(math.log(latency.median), latency.sigma)
        return min(draw, 5 * max(latency.p99, latency.median))

    def before(self, config: SimConfig, method: str) -> Fault | None:
        """A fault that strikes before the handler runs (nothing is changed), or None."""
        if config.locked_probability and self._rng.random() < config.locked_probability:
            return Fault(FaultKind.LOCKED, 423)
        probability = config.error_probability_of(method)
        if probability and self._rng.random() < probability:
            return Fault(FaultKind.ERROR, self._rng.choice(config.error_statuses))
        if config.drop_before_probability and self._rng.random() < config.drop_before_probability:
            return Fault(FaultKind.DROP)
        return None

    def after(self, config: SimConfig, method: str, creates_person: bool) -> Fault | None:
        """A fault that strikes after the handler committed its change, or None."""
        rng = self._rng
        if config.drop_after_probability and rng.random() < config.drop_after_probability:
            return Fault(FaultKind.DROP)
        late_error = config.error_after_commit_probability
        if method in WRITE_METHODS and late_error and rng.random() < late_error:
            return Fault(FaultKind.ERROR, rng.choice(config.error_statuses))
        # Only a write can commit and then stall; a stalled read would be latency.
        stall = config.stall_probability
        if method in WRITE_METHODS and stall and rng.random() < stall:
            return Fault(FaultKind.STALL)
        created_400 = config.created_400_probability
        if creates_person and created_400 and rng.random() < created_400:
            return Fault(FaultKind.CREATED_400, 400)
        return None


def retry_after_headers(config: SimConfig, seconds: float, wall_now: float) -> dict[str, str]:
    """The ``Retry-After`` header in the configured style (none for ``missing``)."""
    style = config.retry_after_style
    if style == "missing":
        return {}
    if style == "malformed":
        return {"Retry-After": MALFORMED_RETRY_AFTER}
    if style == "http-date":
        return {"Retry-After": email.utils.formatdate(wall_now + seconds, usegmt=True)}
    return {"Retry-After": str(math.ceil(seconds))}
