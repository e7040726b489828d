"""The running simulator: its config, tenant, fault plan, tokens and ledgers, shared by every route.

One instance per aiohttp application, stored under ``SIM``; the clock is injectable so tests can
move time (token expiry, rate limit, eventual consistency) without sleeping.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from webex_bulk.simulator.auth import TokenBook
from webex_bulk.simulator.config import SimConfig
from webex_bulk.simulator.faults import FaultPlan
from webex_bulk.simulator.ids import IdMint
from webex_bulk.simulator.ledger import CreateLedger, RequestLedger
from webex_bulk.simulator.move_jobs import MoveJobs
from webex_bulk.simulator.seed import build_tenant

Clock = Callable[[], float]


class Simulator:
    """Everything a request may read or change; ``config`` is replaced whole on a change."""

    def __init__(self, config: SimConfig, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.config = config
        self.tenant = build_tenant(config)
        self.jobs = MoveJobs()
        self.faults = FaultPlan(config.seed)
        self.tokens = TokenBook(config, clock())
        self.requests = RequestLedger(config.recent_requests)
        self.creates = CreateLedger()
        self.tracking = IdMint(config.seed, "tracking")

    def hidden_until(self) -> float:
        """Until when a new object stays out of list results (0 when there is no lag)."""
        lag = self.config.consistency_lag
        return self.clock() + lag if lag else 0.0

    def reconfigure(self, changes: Mapping[str, Any]) -> SimConfig:
        """Apply a partial config; a new ``token`` becomes valid at once."""
        config = self.config.merged(changes)
        if config.token != self.config.token:
            self.tokens.issue(config.token, config, self.clock())
            self.tokens.current = config.token
        if config.recent_requests != self.config.recent_requests:
            recent = self.requests.recent
            self.requests.recent = collections.deque(recent, maxlen=config.recent_requests)
        self.config = config
        return config

    def reset(self, *, counters: bool = True, tenant: bool = True, faults: bool = True) -> None:
        """Start again: counters and create ledger, the tenant, and/or the fault RNG and buckets."""
        if counters:
            self.requests = RequestLedger(self.config.recent_requests)
            self.creates = CreateLedger()
        if tenant:
            self.tenant = build_tenant(self.config)
            self.jobs = MoveJobs()
        if faults:
            self.faults = FaultPlan(self.config.seed)


SIM = web.AppKey("simulator", Simulator)


def simulator_of(request: web.Request) -> Simulator:
    """The simulator serving this request."""
    return request.app[SIM]
