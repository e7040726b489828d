"""The server's rate limit, estimated, pure: what the requests it accepted before a 429 prove.

Send times come in as arguments; no network, no event loop, no clock read. ``rate`` uses it.
"""

from __future__ import annotations

import collections

#: The burst the server is assumed to allow on top of its rate: one second of it (a token bucket
#: of one second, the usual shape). A smaller burst makes the estimate low (the rate then probes
#: back up), a larger one makes it high (the next 429 comes later and estimates again).
BURST_SECONDS = 1.0
#: Send times remembered: enough for the slowest overshoot worth seeing (a few % over R takes
#: tens of seconds to empty a one-second bucket) at any rate up to ``MAX_SENDS`` a second.
HISTORY_SECONDS = 120.0
MAX_SENDS = 1 << 16
#: A bucket refuses once it holds less than one whole request: the accepted count falls short of
#: burst + R × T by up to one. Half of that is the unbiased guess (it matters at a few per second).
COUNT_SLACK = 0.5


class SendHistory:
    """The send times of the latest requests, and the server rate they prove at a 429."""

    def __init__(self) -> None:
        self._sent: collections.deque[float] = collections.deque(maxlen=MAX_SENDS)

    def note(self, now: float) -> None:
        """One request left at ``now``."""
        self._sent.append(now)
        while self._sent and self._sent[0] < now - HISTORY_SECONDS:
            self._sent.popleft()

    def estimate(self, since: float, rejected_at: float) -> float | None:
        """The server's rate proven by a first 429 for a request sent at ``rejected_at``.

        Every request sent in ``[t, rejected_at)`` was accepted, so the server let ``n`` of them
        through in ``T = rejected_at − t`` seconds: at most its burst (``BURST_SECONDS`` × R)
        plus R × T, whatever its bucket held at ``t``. So R ≳ n / (T + BURST_SECONDS) for every
        ``t`` since ``since`` (when the previous burst ended); the largest of these bounds is the
        estimate, exact when the bucket was full at ``t`` and the rate above R from ``t`` on
        (``COUNT_SLACK`` evens out the last, partial request).
        None when no request was sent in that span (nothing proven).
        """
        best: float | None = None
        accepted = 0
        for sent in reversed(self._sent):
            if sent >= rejected_at:
                continue
            if sent < since:
                break
            accepted += 1
            bound = (accepted + COUNT_SLACK) / (rejected_at - sent + BURST_SECONDS)
            if best is None or bound > best:
                best = bound
        return best
