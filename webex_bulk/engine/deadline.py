"""The time window of a run: ``--deadline HH:MM`` and ``--max-duration 8h`` as seconds left,
and the watch that closes intake when they run out (the same clean stop as a signal)."""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import Awaitable, Callable

from webex_bulk.engine.executor import StopControl
from webex_bulk.error_handling import ExitCode

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window_seconds(
    deadline: str | None, max_duration: str | None, now: datetime.datetime
) -> float | None:
    """Seconds until the earlier of ``--deadline HH:MM`` (next occurrence, local time) and
    ``--max-duration`` (``8h``, ``90m``, ``1h30m``); None when neither is given."""
    limits = []
    if max_duration:
        parts = _DURATION.findall(max_duration.strip().lower())
        if not parts or "".join(n + u for n, u in parts) != max_duration.strip().lower():
            raise ValueError(f"--max-duration {max_duration!r}: write it like 8h, 90m or 1h30m")
        limits.append(sum(float(n) * _UNIT[u] for n, u in parts))
    if deadline:
        try:
            at = datetime.datetime.strptime(deadline.strip(), "%H:%M").time()
        except ValueError:
            raise ValueError(f"--deadline {deadline!r}: write it as HH:MM, e.g. 06:00") from None
        target = datetime.datetime.combine(now.date(), at)
        if target <= now:
            target += datetime.timedelta(days=1)
        limits.append((target - now).total_seconds())
    return min(limits) if limits else None


def stop_note(deadline: str | None, seconds_left: float, now: datetime.datetime) -> str:
    """When the window ends, in words; a ``--deadline`` already past today says "tomorrow"."""
    stop_at = now + datetime.timedelta(seconds=seconds_left)
    note = f"the run stops by {stop_at:%Y-%m-%d %H:%M} local time"
    if deadline:
        at = datetime.datetime.strptime(deadline.strip(), "%H:%M").time()
        if datetime.datetime.combine(now.date(), at) <= now:
            note += f" ({deadline.strip()} has already passed today, so tomorrow)"
    return note


async def deadline_watch(
    stop: StopControl,
    seconds_left: float,
    timer: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Close intake when the run's time window ends (``--deadline``, ``--max-duration``).

    ``timer`` waits out the window; ``asyncio.sleep`` unless a test passes its own.
    """
    await timer(max(0.0, seconds_left))
    stop.request("the deadline was reached", ExitCode.STOPPED)
