"""The one request path to Webex: limiter, retries, ``Retry-After``, breaker, token, paging.

The face of the package: other packages import only these names.
"""

from webex_bulk.http.answers import Response
from webex_bulk.http.auth import SaveFile
from webex_bulk.http.breaker import BreakerState, CircuitBreaker
from webex_bulk.http.client import WebexClient
from webex_bulk.http.stats import ClientStats
from webex_bulk.http.tls import ssl_context

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "ClientStats",
    "Response",
    "SaveFile",
    "WebexClient",
    "ssl_context",
]
