"""Ambiguous creates: the simulator commits a POST, then stalls past the client's timeout, resets
the connection, answers a 502 HTML page or answers 409. The engine never sends a second POST
for a key without a lookup in between, creates each object once, ends a row whose lookups keep
failing ``pending`` (never ``rejected``), and the next run resolves it.

A middleware placed in front of the simulator's own does the damage after the real handler has
committed, and keeps the order of creates and lookups per natural key.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from aiohttp import web
from support import aside

from reliability import invariants
from reliability.conftest import scale
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import RunningSimulator, SimConfig
from webex_bulk.simulator.app import build_app
from webex_bulk.simulator.runtime import SIM

pytestmark = pytest.mark.timeout(900)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

#: Create routes whose object a lookup can find by a query value, and the body field holding
#: that natural key. Numbers (batched) and schedules (listed per location) are left out: their
#: lookups name no key in the query, so failing "the lookup of this key" cannot be aimed.
CREATE_KEYS = {
    "/v1/people": "emails",
    "/v1/locations": "name",
    "/v1/workspaces": "displayName",
    "/v1/devices": "mac",
    "/v1/telephony/config/locations/{locationId}/huntGroups": "name",
    "/v1/telephony/config/locations/{locationId}/queues": "name",
    "/v1/telephony/config/locations/{locationId}/autoAttendants": "name",
}
FAULTS = ("stall", "reset", "502 html", "409")
READ_TIMEOUT = 0.15
STALL = 2 * READ_TIMEOUT


@attrs.frozen
class Seen:
    """A create or a lookup of one natural key, in arrival order."""

    kind: str  # "create" or "lookup"
    key: str
    status: int


class Ambiguity:
    """Makes the first create of every key ambiguous after the commit; optionally fails every
    later lookup of such a key with 503 (the lookup "keeps failing")."""

    def __init__(
        self, fault: str, *, lookups_fail: bool, spare: frozenset[str] = frozenset()
    ) -> None:
        self.fault = fault
        self.lookups_fail = lookups_fail
        self.spare = spare  # create routes left alone
        self.seen: list[Seen] = []
        self.tampered: set[str] = set()
        self.active = True

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Pass the request to the simulator, then maybe spoil the answer."""
        if not self.active or not request.path.startswith("/v1/"):
            return await handler(request)
        route = request.match_info.route.resource
        template = route.canonical if route is not None else ""
        if request.method == "POST" and template in CREATE_KEYS.keys() - self.spare:
            return await self._create(request, handler, template)
        if request.method == "GET":
            return await self._lookup(request, handler)
        return await handler(request)

    async def _create(
        self, request: web.Request, handler: Handler, template: str
    ) -> web.StreamResponse:
        body = await request.json()  # aiohttp keeps the bytes: the handler reads them again
        value = body.get(CREATE_KEYS[template]) if isinstance(body, dict) else None
        key = str(value[0] if isinstance(value, list) and value else value).lower()
        response = await handler(request)
        self.seen.append(Seen("create", key, response.status))
        if key in self.tampered or not 200 <= response.status < 300:
            return response
        self.tampered.add(key)
        return await self._spoil(request, response)

    async def _spoil(
        self, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        if self.fault == "stall":
            await asyncio.sleep(STALL)  # the client gave up READ_TIMEOUT ago
            return response
        if self.fault == "reset":
            transport = request.transport
            assert transport is not None
            sock = cast("socket.socket", transport.get_extra_info("socket"))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return web.Response(status=499)
        if self.fault == "502 html":
            page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return web.Response(status=502, text=page, content_type="text/html")
        body = {
            "message": "The request could not be processed: the object already exists.",
            "errors": [{"description": "already exists", "errorCode": 25007}],
            "trackingId": request.headers.get("TrackingID", "ROUTER_x"),
        }
        return web.json_response(body, status=409)

    async def _lookup(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        values = {value.lower() for value in request.query.values()}
        keys = values & self.tampered
        if keys and self.lookups_fail:
            for key in keys:
                self.seen.append(Seen("lookup", key, 503))
            body = {"message": "Service unavailable.", "trackingId": "ROUTER_lookup"}
            return web.json_response(body, status=503)
        response = await handler(request)
        for key in keys:
            self.seen.append(Seen("lookup", key, response.status))
        return response

    def creates_without_lookup(self) -> list[str]:
        """Keys POSTed again with no lookup of that key since their previous POST."""
        looked: dict[str, bool] = {}
        offenders = []
        for seen in self.seen:
            if seen.kind == "lookup":
                looked[seen.key] = True
            elif seen.key in looked and not looked[seen.key]:
                offenders.append(seen.key)
            else:
                looked[seen.key] = False
        return offenders


@contextlib.asynccontextmanager
async def simulator_behind(
    config: SimConfig, middleware: Middleware
) -> AsyncIterator[RunningSimulator]:
    """The simulator on 127.0.0.1 with ``middleware`` in front of its own (it sees every request
    first and every answer last)."""
    app = build_app(config)
    app.middlewares.insert(0, middleware)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=STALL + 0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        root = f"http://{host}:{port}"
        simulator = app[SIM]
        yield RunningSimulator(root, f"{root}/v1", simulator.config.token, simulator)
    finally:
        await runner.cleanup()


SETTINGS = {
    "read_timeout": READ_TIMEOUT,
    "consistency_wait": 0.01,
    "retry_budget": 1.0,  # lookups failing on purpose must not spend other rows' retries
    # The breaker has its own tests; here the lookups that fail on purpose would open it.
    "breaker_threshold": 1_000_000,
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_ambiguous_creates_are_looked_up_and_created_once(
    fault: str, run_engine: Any, tmp_path: Path, figures: Any
) -> None:
    """Every create's answer is lost or misleading after the commit; the lookups work: each
    object is created once, no key is POSTed twice without a lookup between, every row ends
    as in a clean run (I1–I3), and a further run sends no write (I5)."""
    rows = scale(60, 1000)
    csv_path = write_mixed_file(tmp_path / "ambiguous.csv", rows, seed=11)
    ambiguity = Ambiguity(fault, lookups_fail=False)
    async with simulator_behind(SimConfig(seed=11), ambiguity.middleware) as sim:
        baseline = await aside(sim, "state")
        run = await run_engine(sim, csv_path, **SETTINGS)
        ambiguity.active = False
        # Checked now: --fresh below sets this run directory aside.
        outputs = invariants.output_rows(run.result.run_dir)
        invariants.check_i1(run.result.run_dir, csv_path)
        invariants.check_i3(await aside(sim, "state"), run.result.run_dir, baseline=baseline)
        before = await aside(sim, "counts")
        again = await run_engine(sim, csv_path, fresh=True)
        after = await aside(sim, "counts")
        creates = await aside(sim, "creates")
    assert ambiguity.tampered, "no create was made ambiguous"
    assert ambiguity.creates_without_lookup() == []
    assert {row["_reason"] for row in outputs["pending"]} <= {"out_of_scope"}
    invariants.check_i2(creates)
    invariants.check_i5(before, after, again.result.run_dir)
    figures(rows=rows, ambiguous_creates=len(ambiguity.tampered), exit_code=run.exit_code)


@pytest.mark.parametrize("fault", FAULTS)
async def test_when_the_lookup_keeps_failing_the_row_is_pending_and_the_next_run_resolves_it(
    fault: str, run_engine: Any, tmp_path: Path, figures: Any
) -> None:
    """An ambiguous create whose lookups all answer 503 is never re-sent and never rejected:
    its row (and rows that depend on it) end ``pending``; the next run, with the API healthy,
    finds the object, creates nothing twice, and ends every such row ``success``."""
    rows = scale(60, 1000)
    csv_path = write_mixed_file(tmp_path / "stuck.csv", rows, seed=12)
    # Locations are spared: a stuck location would leave every other row dependency_failed,
    # and the rows that matter here are those whose own lookups fail.
    ambiguity = Ambiguity(fault, lookups_fail=True, spare=frozenset({"/v1/locations"}))
    async with simulator_behind(SimConfig(seed=12), ambiguity.middleware) as sim:
        baseline = await aside(sim, "state")
        stuck = await run_engine(sim, csv_path, **SETTINGS)
        ambiguity.active = False
        # Read now: --fresh below sets this run directory aside.
        first = invariants.outcomes(stuck.result.run_dir)
        invariants.check_i1(stuck.result.run_dir, csv_path)
        resolved = await run_engine(sim, csv_path, fresh=True, **SETTINGS)
        creates = await aside(sim, "creates")
        state = await aside(sim, "state")
    assert ambiguity.tampered
    assert ambiguity.creates_without_lookup() == []
    assert all(count == 1 for key in ambiguity.tampered for count in _creates_of(creates, key))
    keys = {outcome.key.split(":", 1)[1].lower(): outcome for outcome in first.values()}
    stuck_rows = [keys[key] for key in ambiguity.tampered if key in keys]
    assert stuck_rows
    assert all(row.status == "pending" for row in stuck_rows)
    assert {row.reason for row in stuck_rows} == {"retries_exhausted"}
    rejected_before = {line for line, o in first.items() if o.status == "rejected"}
    final = invariants.outcomes(resolved.result.run_dir)
    assert {line for line, o in final.items() if o.status == "rejected"} == rejected_before
    assert all(final[row.line].status == "success" for row in stuck_rows)
    invariants.check_i1(resolved.result.run_dir, csv_path)
    invariants.check_i2(creates)
    invariants.check_i3(state, resolved.result.run_dir, baseline=baseline)
    figures(rows=rows, stuck_rows=len(stuck_rows), pending_first_run=_count(first, "pending"))


def _creates_of(creates: dict[str, Any], key: str) -> list[int]:
    """The create counts of every ledger entry whose natural key contains ``key``."""
    return [
        count
        for kind, counts in creates.items()
        if kind != "duplicates"
        for name, count in counts.items()
        if key in name.lower()
    ]


def _count(outcomes: dict[int, invariants.RowOutcome], status: str) -> int:
    return sum(1 for outcome in outcomes.values() if outcome.status == status)
