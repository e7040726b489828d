"""The move of a calling user against the simulator, step by step: a job that ends with errors,
and a recalled job id that is polled instead of starting a second job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support import MOVE_JOB, MOVE_JOBS
from test_actions_support import (
    PARIS,
    PROFESSIONAL,
    Env,
    environment,
    paris_tenant,
    run_one,
    user_row,
)

from webex_bulk.actions.ports import MemoryIntents
from webex_bulk.error_handling import Action, Reason, Status


def lyon_tenant() -> dict[str, Any]:
    """Paris HQ, and Lyon with Cy Tester on 3000."""
    cy = {
        "email": "cy@example.com",
        "firstName": "Cy",
        "lastName": "Tester",
        "location": "Lyon",
        "extension": "3000",
    }
    return paris_tenant(locations=[{"name": "Lyon"}], people=[cy])


async def location_id(env: Env, name: str) -> str:
    """The id of the location called ``name``."""
    locations = (await env.state("locations"))["locations"]
    return str(next(location["id"] for location in locations if location["name"] == name))


async def test_a_job_that_ends_with_errors_rejects_the_row_with_them(tmp_path: Path) -> None:
    """Validation passes, then the extension is taken in Paris while the job runs: the job ends
    with that error, read from its errors list, and the row ends ``rejected`` ``move_refused``."""
    async with environment(tmp_path, lyon_tenant()) as env:
        paris = await location_id(env, PARIS)
        licenses = (await env.state("licenses"))["licenses"]
        license_id = next(item["id"] for item in licenses if item["name"] == PROFESSIONAL)
        taken: list[Any] = []

        async def sleep(seconds: float) -> None:
            if not taken:  # the first poll found the job running: someone takes 3001 now
                dee = {
                    "emails": ["dee@example.com"],
                    "firstName": "Dee",
                    "lastName": "Tester",
                    "locationId": paris,
                    "extension": "3001",
                    "licenses": [license_id],
                }
                params = {"callingData": "true"}
                taken.append(await env.client.request("POST", "/people", params=params, json=dee))
            env.clock.now += seconds

        row = user_row("cy@example.com", extension="3001")
        outcome = await run_one(env.context(sleep=sleep), row)
        counts = await env.counts()
    assert (outcome.status, outcome.reason) == (Status.REJECTED, Reason.MOVE_REFUSED)
    assert "did not move cy@example.com from 'Lyon' to 'Paris HQ'" in outcome.detail
    assert "[Error 4202]" in outcome.detail
    assert counts["by_route"][f"GET {MOVE_JOB}/errors"] == 1


async def test_a_recalled_job_is_polled_not_started_again(tmp_path: Path) -> None:
    """A job id kept from an earlier run (the intent) is polled to its end: no validation and no
    second start, and the intent is forgotten once the job's end is read."""
    async with environment(tmp_path, lyon_tenant()) as env:
        paris = await location_id(env, PARIS)
        cy = next(
            p["id"] for p in (await env.state("people"))["people"] if p["email"] == "cy@example.com"
        )
        body = {"usersList": [{"locationId": paris, "validate": False, "users": [{"userId": cy}]}]}
        started = await env.client.request("POST", MOVE_JOBS.removeprefix("/v1"), json=body)
        job_id = started.body["response"]["id"]
        await env.reset_counts()
        intents = MemoryIntents()
        key = f"move user:cy@example.com {paris}"
        intents.record(key, job_id)
        outcome = await run_one(
            env.context(intents=intents), user_row("cy@example.com", extension="3000")
        )
        counts = await env.counts()
    assert (outcome.status, outcome.action) == (Status.SUCCESS, Action.UPDATED)
    assert job_id in outcome.detail
    assert f"POST {MOVE_JOBS}" not in counts["by_route"]
    assert intents.recall(key) == ""
