"""The one request path to Webex: limiter, retries, ``Retry-After``, breaker, token, paging."""
