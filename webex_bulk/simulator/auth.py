"""Access tokens and their expiry, and the refresh grant of ``POST /v1/access_token``."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from webex_bulk.simulator.config import SimConfig
from webex_bulk.simulator.errors import ApiError, Code

#: ``expires_in`` announced for tokens that never expire here (14 days, a common Webex value).
LONG_LIFETIME = 1_209_600
REFRESH_LIFETIME = 7_776_000
INVALID_TOKEN = "The request requires a valid access token set in the Authorization request header."
MISSING_SCOPE = (
    "The server understood the request, but refused to fulfill it because the access token is "
    "missing required scopes or the user is missing required roles or licenses."
)


def require_scope(config: SimConfig, scope: str) -> None:
    """403 when the tokens were issued without ``scope`` (the ``missing_scopes`` knob)."""
    if scope in config.missing_scopes:
        raise ApiError(403, MISSING_SCOPE, Code.FORBIDDEN)


class TokenBook:
    """Valid access tokens with their expiry on the server's monotonic clock."""

    def __init__(self, config: SimConfig, now: float) -> None:
        self._rng = random.Random(f"{config.seed}:tokens")
        self._expiry: dict[str, float] = {}
        self.refresh_token = config.refresh_token
        self.current = config.token
        self.issue(config.token, config, now)

    def issue(self, token: str, config: SimConfig, now: float) -> None:
        """Make ``token`` valid for ``token_ttl`` seconds from ``now`` (forever when 0)."""
        self._expiry[token] = now + config.token_ttl if config.token_ttl else math.inf

    def valid(self, token: str, now: float) -> bool:
        """Whether ``token`` is known and not expired."""
        return now < self._expiry.get(token, -math.inf)

    def seconds_left(self, token: str, now: float) -> float:
        """Seconds until ``token`` expires (``math.inf`` for a token that does not)."""
        return self._expiry.get(token, now) - now

    def refresh(self, config: SimConfig, form: Mapping[str, str], now: float) -> dict[str, Any]:
        """The refresh grant: a new access token for valid client credentials and refresh token."""
        if form.get("grant_type") != "refresh_token":
            raise ApiError(400, "unsupported_grant_type: only refresh_token is supported here.")
        if form.get("client_id") != config.client_id or form.get("client_secret") != (
            config.client_secret
        ):
            raise ApiError(
                401, "invalid_client: unknown client id or wrong secret.", Code.UNAUTHORIZED
            )
        if form.get("refresh_token") != self.refresh_token:
            raise ApiError(400, "invalid_grant: the refresh token is not valid.", Code.BAD_REQUEST)
        if config.refresh_returns_same_token and self.valid(self.current, now):
            left = self.seconds_left(self.current, now)
            return {
                "access_token": self.current,
                "expires_in": LONG_LIFETIME if math.isinf(left) else math.ceil(left),
                "refresh_token": self.refresh_token,
                "refresh_token_expires_in": REFRESH_LIFETIME,
                "token_type": "Bearer",
            }
        access_token = f"sim-access-{self._rng.getrandbits(128):032x}"
        self.issue(access_token, config, now)
        self.current = access_token
        if config.rotate_refresh_token:
            self.refresh_token = f"sim-refresh-{self._rng.getrandbits(128):032x}"
        return {
            "access_token": access_token,
            "expires_in": math.ceil(config.token_ttl) if config.token_ttl else LONG_LIFETIME,
            "refresh_token": self.refresh_token,
            "refresh_token_expires_in": REFRESH_LIFETIME,
            "token_type": "Bearer",
        }
