"""Test support for the action tests: a simulator on 127.0.0.1 with a real ``WebexClient``, an
``ActionContext`` factory, row builders and a one-shot fault injector. Holds no tests itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import attrs
from support import FakeClock

from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.ports import ApiClient, ResponseLike
from webex_bulk.actions.registry import REGISTRY
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.http.breaker import CircuitBreaker
from webex_bulk.http.client import WebexClient
from webex_bulk.models import EntityType, Outcome, Row
from webex_bulk.simulator import RunningSimulator, SimConfig, running_simulator

PARIS = "Paris HQ"
PROFESSIONAL = "Webex Calling - Professional"
BASIC = "Webex Calling - Basic"
ADDRESS = {
    "address1": "1 Rue de Rivoli",
    "city": "Paris",
    "state": "IDF",
    "postalCode": "75001",
    "country": "FR",
}


async def no_sleep(_: float) -> None:
    """The client's backoff: no real waiting in tests."""


@attrs.frozen
class Env:
    """A simulator, a session and a client talking to it."""

    sim: RunningSimulator
    session: aiohttp.ClientSession
    client: WebexClient
    settings: Settings
    clock: FakeClock

    def context(self, client: ApiClient | None = None, **kwargs: Any) -> ActionContext:
        """A fresh run context; consistency waits move the simulator's clock instead of sleeping."""

        async def sleep(seconds: float) -> None:
            self.clock.now += seconds

        kwargs.setdefault("sleep", sleep)
        return ActionContext(client or self.client, self.settings, **kwargs)

    async def side(self, name: str, payload: Any = None) -> Any:
        """A ``/_sim/`` side endpoint: GET, or POST with a payload."""
        method = "GET" if payload is None else "POST"
        url = f"{self.sim.root_url}/_sim/{name}"
        async with self.session.request(method, url, json=payload) as answer:
            return await answer.json()

    async def counts(self) -> dict[str, Any]:
        """Requests seen by the simulator."""
        result: dict[str, Any] = await self.side("counts")
        return result

    async def reset_counts(self) -> None:
        """Zero the request counters, keeping the tenant."""
        await self.side("reset", {"counters": True, "tenant": False, "faults": False})

    async def state(self, types: str) -> dict[str, Any]:
        """A dump of some object types of the tenant."""
        result: dict[str, Any] = await self.side(f"state?types={types}")
        return result

    def configure(self, **knobs: Any) -> None:
        """Change simulator knobs now."""
        self.sim.simulator.reconfigure(knobs)


def tenant_file(directory: Path, spec: Mapping[str, Any]) -> str:
    """Write a simulator tenant file and return its path."""
    path = directory / "tenant.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


def paris_tenant(**extra: Any) -> dict[str, Any]:
    """A tenant with the calling location ``Paris HQ`` and a few numbers."""
    location = {
        "name": PARIS,
        "timeZone": "Europe/Paris",
        "preferredLanguage": "fr_fr",
        "announcementLanguage": "fr_fr",
        "address": ADDRESS,
        "numbers": ["+33142685300", "+33142685301", "+33142685302"],
    }
    return {"locations": [location, *extra.pop("locations", [])], **extra}


@contextlib.asynccontextmanager
async def environment(
    directory: Path | None = None, tenant: Mapping[str, Any] | None = None, **knobs: Any
) -> AsyncIterator[Env]:
    """A simulator (optionally from a tenant spec) and a ``WebexClient`` bound to it."""
    clock = FakeClock()
    if tenant is not None:
        assert directory is not None
        knobs["tenant_file"] = tenant_file(directory, tenant)
    async with (
        running_simulator(SimConfig(**knobs), clock=clock) as sim,
        aiohttp.ClientSession() as session,
    ):
        settings = Settings(
            base_url=sim.base_url,
            rate=1000.0,
            max_attempts=3,
            backoff_base=0.0,
            consistency_attempts=3,
            consistency_wait=2.0,
        )
        breaker = CircuitBreaker(100, 0.0, 0.0, 3600.0, 1)
        client = WebexClient(
            settings,
            Credentials(access_token=sim.token),
            session,
            breaker,
            run_id="test",
            sleep=no_sleep,
        )
        yield Env(sim, session, client, settings, clock)


class FaultOnce:
    """A client wrapper that sets a simulator knob for the next matching request only (e.g. commit
    a create, then drop the connection), so lookups that follow see a healthy server."""

    def __init__(self, env: Env, method: str, path: str, **knobs: Any) -> None:
        self._env = env
        self._method = method
        self._path = path
        self._knobs = knobs
        self.fired = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> ResponseLike:
        """Forward the call; the first matching one runs with the fault knobs set."""
        armed = not self.fired and method == self._method and path.startswith(self._path)
        if not armed:
            return await self._env.client.request(method, path, params=params, json=json)
        self.fired += 1
        self._env.configure(**self._knobs)
        try:
            return await self._env.client.request(method, path, params=params, json=json)
        finally:
            self._env.configure(**dict.fromkeys(self._knobs, 0.0))

    def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Listings pass straight through."""
        return self._env.client.pages(path, params=params, items_key=items_key)


class Recorder:
    """A client wrapper that records every request (method, path, query, body) it forwards."""

    def __init__(self, env: Env) -> None:
        self._env = env
        self.sent: list[tuple[str, str, dict[str, Any], Any]] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> ResponseLike:
        """Record, then forward."""
        self.sent.append((method, path, dict(params or {}), json))
        return await self._env.client.request(method, path, params=params, json=json)

    def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Record the listing's first request, then forward."""
        self.sent.append(("GET", path, dict(params or {}), None))
        return self._env.client.pages(path, params=params, items_key=items_key)


def make_row(
    entity_type: EntityType,
    key: str,
    values: Mapping[str, str],
    line: int = 2,
    members: tuple[str, ...] = (),
) -> Row:
    """A normalised row."""
    return Row(line, entity_type, key, dict(values), dict(values), members)


def location_row(name: str = PARIS, line: int = 2, **values: str) -> Row:
    """A location row (the address of ``ADDRESS``)."""
    base = {
        "name": name,
        "time_zone": "Europe/Paris",
        "address1": ADDRESS["address1"],
        "city": ADDRESS["city"],
        "state": ADDRESS["state"],
        "postal_code": ADDRESS["postalCode"],
        "country": ADDRESS["country"],
        "preferred_language": "fr_fr",
        "announcement_language": "fr_fr",
    }
    return make_row(EntityType.LOCATION, f"location:{name.casefold()}", {**base, **values}, line)


def user_row(email: str, line: int = 2, location: str = PARIS, **values: str) -> Row:
    """A user row; names derive from the e-mail unless given."""
    first = email.split("@")[0].title()
    base = {
        "email": email,
        "first_name": first,
        "last_name": "Tester",
        "display_name": f"{first} Tester",
        "location": location,
        "license": "professional",
    }
    return make_row(EntityType.USER, f"user:{email}", {**base, **values}, line)


def number_row(number: str, line: int = 2, location: str = PARIS, state: str = "active") -> Row:
    """A number row."""
    key = f"number:{number}"
    values = {"phone_number": number, "location": location, "state": state}
    return make_row(EntityType.NUMBER, key, values, line)


def schedule_row(name: str, hours: str, line: int = 2, location: str = PARIS) -> Row:
    """A business-hours schedule row (hours already canonical)."""
    key = f"schedule:{location.casefold()}/{name.casefold()}"
    values = {"name": name, "location": location, "hours": hours}
    return make_row(EntityType.SCHEDULE, key, values, line)


def workspace_row(name: str, line: int = 2, location: str = PARIS, **values: str) -> Row:
    """A workspace row."""
    key = f"workspace:{location.casefold()}/{name.casefold()}"
    values = {"display_name": name, "location": location, **values}
    return make_row(EntityType.WORKSPACE, key, values, line)


def feature_row(
    entity_type: EntityType,
    name: str,
    line: int = 2,
    location: str = PARIS,
    members: tuple[str, ...] = (),
    **values: str,
) -> Row:
    """A hunt group, call queue or auto attendant row."""
    key = f"{entity_type.value}:{location.casefold()}/{name.casefold()}"
    values = {"name": name, "location": location, **values}
    return make_row(entity_type, key, values, line, members)


def device_row(mac: str, owner: str, line: int = 2, location: str = PARIS, **values: str) -> Row:
    """A device row."""
    values = {"model": "DMS Cisco 8851", "mac": mac, "owner": owner, "location": location, **values}
    return make_row(EntityType.DEVICE, f"device:{mac}", values, line)


async def run_rows(
    ctx: ActionContext, rows: Sequence[Row], *, workers: int = 8, prepare: bool = True
) -> list[Outcome]:
    """Run rows the way the executor does: ``prepare`` once, then concurrent workers (rows of one
    group key in one batch, in order)."""
    if not rows:
        return []
    action = REGISTRY[rows[0].entity_type]
    if prepare:
        await action.prepare(ctx, len(rows))
    groups: dict[str | None, list[Row]] = {}
    singles: list[list[Row]] = []
    for row in rows:
        key = action.group_key(row)
        if key is None:
            singles.append([row])
        else:
            groups.setdefault(key, []).append(row)
    batch = ctx.settings.numbers_batch_size if rows[0].entity_type is EntityType.NUMBER else 1
    items = singles + [
        group[i : i + batch] for group in groups.values() for i in range(0, len(group), batch)
    ]
    gate = asyncio.Semaphore(workers)
    results: dict[int, Outcome] = {}

    async def one(item: list[Row]) -> None:
        async with gate:
            for outcome in await action.run(ctx, item):
                results[outcome.line] = outcome

    async with asyncio.TaskGroup() as group:
        for item in items:
            group.create_task(one(item))
    return [results[row.line] for row in rows]


async def run_one(ctx: ActionContext, row: Row, *, prepare: bool = False) -> Outcome:
    """Run one row (without ``prepare`` unless asked)."""
    return (await run_rows(ctx, [row], prepare=prepare))[0]


def summary(outcomes: Iterable[Outcome]) -> list[tuple[str, str]]:
    """``(status, action or reason)`` of each outcome, for compact assertions."""
    return [(o.status.value, (o.action or o.reason or "").__str__()) for o in outcomes]


def writes(counts: Mapping[str, Any]) -> int:
    """Write requests the simulator saw."""
    return int(counts["writes"])


def route_count(counts: Mapping[str, Any], route: str) -> int:
    """Requests the simulator saw on one ``METHOD /v1/route``."""
    return int(counts["by_route"].get(route, 0))
