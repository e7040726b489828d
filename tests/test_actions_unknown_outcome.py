"""Creates whose answer was lost, against the simulator: where the API keeps a key unique, one
lookup and a re-send settle it; where names may repeat, the lookups ride out eventual
consistency before the POST is sent again. Never a second object."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from test_actions_support import (
    Env,
    environment,
    paris_tenant,
    route_count,
    run_one,
    summary,
    user_row,
    workspace_row,
)

from webex_bulk.actions.ports import ResponseLike


class RefuseOnce:
    """A client wrapper whose first ``POST`` to a path is answered 5xx before any change."""

    def __init__(self, env: Env, path: str) -> None:
        self._env = env
        self._path = path
        self.fired = 0

    async def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> ResponseLike:
        """Forward the call; the first matching POST meets a server error."""
        if self.fired or method != "POST" or not path.startswith(self._path):
            return await self._env.client.request(method, path, params=params, json=json)
        self.fired += 1
        self._env.configure(error_probability={"POST": 1.0})
        try:
            return await self._env.client.request(method, path, params=params, json=json)
        finally:
            self._env.configure(error_probability={"POST": 0.0})

    def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Listings pass straight through."""
        return self._env.client.pages(path, params=params, items_key=items_key)


async def test_unique_key_costs_one_lookup_and_a_resend(tmp_path: Path) -> None:
    """A user (unique e-mail) whose create met a 5xx: one lookup, the POST again, one user."""
    async with environment(tmp_path, paris_tenant()) as env:
        refusing = RefuseOnce(env, "/people")
        outcome = await run_one(env.context(refusing), user_row("ula@example.com", extension="21"))
        assert refusing.fired == 1
        assert summary([outcome]) == [("success", "created")]
        counts = await env.counts()
        assert route_count(counts, "POST /v1/people") == 2
        assert route_count(counts, "GET /v1/people") == 2  # the row's lookup, then one more
        assert (await env.side("creates"))["people"] == {"ula@example.com": 1}


async def test_repeatable_name_settles_before_the_resend(tmp_path: Path) -> None:
    """A workspace (names may repeat) whose create met a 5xx: the lookups ride out eventual
    consistency (now and three times later) before the POST is sent again; one workspace."""
    async with environment(tmp_path, paris_tenant()) as env:
        refusing = RefuseOnce(env, "/workspaces")
        outcome = await run_one(env.context(refusing), workspace_row("Lobby", extension="22"))
        assert refusing.fired == 1
        assert summary([outcome]) == [("success", "created")]
        counts = await env.counts()
        assert route_count(counts, "POST /v1/workspaces") == 2
        assert route_count(counts, "GET /v1/workspaces") == 5  # the row's lookup, then four
        workspaces = (await env.state("workspaces"))["workspaces"]
        assert [w["display_name"] for w in workspaces].count("Lobby") == 1
