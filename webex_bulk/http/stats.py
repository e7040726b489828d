"""The counters of the request path over one run (read by progress and the summary)."""

from __future__ import annotations

import attrs


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
