"""The engine where Webex is stricter than the happy path: a token without the PSTN read scope,
and a workspace whose calling cannot change while it has devices. Each run is against the
simulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

from support import aside, write_csv
from test_actions_support import tenant_file

PSTN_READ = "spark-admin:telephony_pstn_read"
PSTN_ROUTE = "GET /v1/telephony/pstn/locations/{locationId}/connection"
ADD_ROUTE = "POST /v1/telephony/config/locations/{locationId}/numbers"
PSTN_TENANT = {
    "locations": [
        {"name": "Gateway Office"},
        {"name": "Plan Office", "pstn": "CISCO_CALLING_PLAN"},
    ]
}
NUMBERS = """
entity_type,phone_number,location
number,+13125550100,Gateway Office
number,+13125550101,Gateway Office
number,+13125550102,Plan Office
"""


def events(run_dir: Path, name: str) -> list[str]:
    """The lines of the run's ``events.log`` that carry the event ``name``."""
    text = (run_dir / "events.log").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if f'"event": "{name}"' in line]


async def test_a_token_without_the_pstn_scope_still_adds_numbers(
    simulator, run_engine, tmp_path: Path
) -> None:
    """Without the PSTN read scope preflight warns naming it, the run logs one warning, adds the
    numbers of a gateway location and leaves those of a Calling Plan location to Webex's refusal."""
    csv_path = write_csv(tmp_path / "numbers.csv", NUMBERS)
    tenant = tenant_file(tmp_path, PSTN_TENANT)
    async with simulator(tenant_file=tenant, missing_scopes=[PSTN_READ]) as sim:
        run = await run_engine(sim, csv_path, concurrency=1)  # the locations one after the other
        counts = await aside(sim, "counts")
    assert f"[warn] read PSTN connection: 403: the token lacks {PSTN_READ}" in run.output
    assert [row["phone_number"] for row in run.rows("success")] == [
        "+13125550100",
        "+13125550101",
    ]
    pending = run.rows("pending")
    assert [(row["phone_number"], row["_reason"]) for row in pending] == [
        ("+13125550102", "out_of_scope")
    ]
    assert "PSTN provider" in pending[0]["_detail"]
    assert run.rows("rejected") == []
    assert len(events(run.result.run_dir, "numbers.pstn_check_skipped")) == 1
    # one read in preflight, one in the run: the second location is not asked
    assert counts["by_route"][PSTN_ROUTE] == 2
    assert counts["by_route"][ADD_ROUTE] == 2


async def test_with_the_pstn_scope_the_pre_check_spares_the_refused_add(
    simulator, run_engine, tmp_path: Path
) -> None:
    """With the scope, preflight passes the PSTN read and the Calling Plan location's number
    ends pending without a numbers add being sent for it."""
    csv_path = write_csv(tmp_path / "numbers.csv", NUMBERS)
    async with simulator(tenant_file=tenant_file(tmp_path, PSTN_TENANT)) as sim:
        run = await run_engine(sim, csv_path)
        counts = await aside(sim, "counts")
    assert "[ok]   read PSTN connection: GET /telephony/pstn/locations/{id}/connection" in (
        run.output
    )
    assert [row["_reason"] for row in run.rows("pending")] == ["out_of_scope"]
    assert len(run.rows("success")) == 2
    assert events(run.result.run_dir, "numbers.pstn_check_skipped") == []
    assert counts["by_route"][ADD_ROUTE] == 1
