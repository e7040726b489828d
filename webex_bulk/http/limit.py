"""The server's rate limit, estimated, pure: what the requests it accepted before a 429 prove.

Send times come in as arguments; no network, no event loop, no clock read. ``rate`` uses it.
"""

from __future__ import annotations

import collections

import attrs

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


@attrs.frozen
class Proof:
    """The server's rate as one 429 proves it: the best guess, and the most it can be.

    The accepted count is known to within one request, so the rate is known to within one
    request over the span: ``high`` is ``rate`` plus the other half of it. Narrow after a long
    overshoot (hundreds of requests), wide after a short one at a few per second.
    """

    rate: float
    high: float


class SendHistory:
    """The send times of the latest requests, and the server rate they prove at a 429."""

    def __init__(self) -> None:
        self._sent: collections.deque[float] = collections.deque(maxlen=MAX_SENDS)

    def note(self, now: float) -> None:
        """One request left at ``now``."""
        self._sent.append(now)
        while self._sent and self._sent[0] < now - HISTORY_SECONDS:
            self._sent.popleft()

    def estimate(self, since: float, rejected_at: float) -> Proof | None:
        """The server's rate proven by a first 429 for a request sent at ``rejected_at``.

        Every request sent in ``[t, rejected_at)`` was accepted, so the server let ``n`` of them
        through in ``T = rejected_at − t`` seconds: at most its burst (``BURST_SECONDS`` × R)
        plus R × T, whatever its bucket held at ``t``. So R ≳ n / (T + BURST_SECONDS) for every
        ``t`` since ``since`` (when the previous burst ended); the largest of these bounds is the
        estimate, exact when the bucket was full at ``t`` and the rate above R from ``t`` on
        (``COUNT_SLACK`` evens out the last, partial request). A full bucket that refused the
        next request held less than ``n + 1``: ``high`` is (n + 1) / (T + BURST_SECONDS).
        None when no request was sent in that span (nothing proven).
        """
        best: tuple[float, float] | None = None
        accepted = 0
        for sent in reversed(self._sent):
            if sent >= rejected_at:
                continue
            if sent < since:
                break
            accepted += 1
            span = rejected_at - sent + BURST_SECONDS
            bound = (accepted + COUNT_SLACK) / span
            if best is None or bound > best[0]:
                best = (bound, (accepted + 1) / span)
        return None if best is None else Proof(*best)
