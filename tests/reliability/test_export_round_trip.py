"""``export``'s contract, the round trip, against the simulator over real HTTP on 127.0.0.1.

Tenant A is provisioned from a file with objects of every entity type; its export planned on A
changes nothing and run on A sends no write; run into an empty tenant B (the voicemail groups'
passcodes filled in, as an admin must: the API never answers them), it gives back the same
export. ``make test`` runs it small, ``make torture`` with 5,000 objects of every type.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support import aside, settings_for

from reliability.conftest import scale
from reliability.every_type import write_every_type
from webex_bulk.credentials import Credentials
from webex_bulk.engine.export import ExportRequest, ExportResult, export_tenant
from webex_bulk.simulator import RunningSimulator

pytestmark = pytest.mark.timeout(scale(120, 3600))

TYPES = 15
LOCATED = "/telephony/config/locations/{locationId}/"
#: The export's only requests per object: one listing per location of the kinds the API lists
#: per location only, one detail GET per object whose listing lacks fields. Call park extensions
#: are written from their listing alone; virtual lines need their details for the display name
#: (Cisco's listing has none).
VIRTUAL_LINE_DETAILS = "GET /v1/telephony/config/virtualLines/{virtualLineId}"
PER_LOCATION = [
    f"GET /v1{LOCATED}{path}"
    for path in (
        "schedules",
        "schedules/{type}/{scheduleId}",
        "huntGroups/{huntGroupId}",
        "queues/{queueId}",
        "autoAttendants/{autoAttendantId}",
        "callParks",
        "callParks/{callParkId}",
        "callPickups",
        "callPickups/{callPickupId}",
        "paging/{pagingId}",
        "voicemailGroups/{voicemailGroupId}",
    )
]
#: The client's request rate in these tests (the simulator enforces none).
RATE = 1000.0


async def export_to(sim: RunningSimulator, path: Path, tmp_path: Path) -> ExportResult:
    """Export the simulator's tenant to ``path``."""
    request = ExportRequest(
        settings=settings_for(sim, tmp_path, rate=RATE),
        credentials=Credentials(access_token=sim.token),
        out=path,
    )
    return await export_tenant(request, io.BytesIO())


def with_passcodes(export: Path, replay: Path) -> None:
    """The export with a passcode in every voicemail group row: what an admin fills in before
    creating the groups elsewhere (the export leaves the cell empty)."""
    with export.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    header = next(row for row in table if row and row[0] == "entity_type")
    passcode = header.index("passcode")
    for row in table:
        if row and row[0] == "voicemail_group":
            assert row[passcode] == ""  # never read back
            row[passcode] = "740219"
    with replay.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)


def rows_by_type(path: Path) -> dict[str, Counter[tuple[tuple[str, str], ...]]]:
    """The data rows of an export (comments skipped) as a multiset per entity type."""
    found: dict[str, Counter[tuple[tuple[str, str], ...]]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = [line for line in handle if not line.startswith(("#", '"#'))]
    for row in csv.DictReader(lines):
        found.setdefault(row["entity_type"], Counter())[tuple(sorted(row.items()))] += 1
    return found


async def test_export_plans_unchanged_runs_without_writes_and_rebuilds_an_empty_tenant(
    tmp_path: Path,
    simulator: Callable[..., Any],
    run_engine: Callable[..., Awaitable[Any]],
    run_plan: Callable[..., Awaitable[Any]],
    figures: Callable[..., None],
) -> None:
    """Export A → plan A: all unchanged; run A: zero writes; run into B → export B == export A."""
    count = scale(3, 5000)
    source = write_every_type(tmp_path / "tenant.csv", count)
    export_a, export_b = tmp_path / "export-a.csv", tmp_path / "export-b.csv"
    async with simulator() as tenant_a:
        seeded = await run_engine(tenant_a, source)
        assert seeded.exit_code == 0, seeded.result.summary
        counted = Counter((await aside(tenant_a, "counts"))["by_route"])
        started = time.monotonic()
        exported = await export_to(tenant_a, export_a, tmp_path)
        export_seconds = time.monotonic() - started
        spent = Counter((await aside(tenant_a, "counts"))["by_route"]) - counted
        assert {route: n for route, n in spent.items() if LOCATED in route} == dict.fromkeys(
            PER_LOCATION, count
        )
        assert not [route for route in spent if "Extensions/" in route]
        assert spent[VIRTUAL_LINE_DETAILS] == count
        assert exported.rows == dict.fromkeys(exported.rows, count), exported
        plan = await run_plan(tenant_a, export_a)
        assert plan.counts == {"unchanged": count * TYPES}
        before = (await aside(tenant_a, "counts"))["writes"]
        again = await run_engine(tenant_a, export_a)
        assert again.exit_code == 0, again.result.summary
        assert (await aside(tenant_a, "counts"))["writes"] == before
    replay = tmp_path / "replay.csv"  # another file name: another run directory
    with_passcodes(export_a, replay)
    async with simulator() as tenant_b:
        rebuilt = await run_engine(tenant_b, replay)
        assert rebuilt.exit_code == 0, rebuilt.result.summary
        await export_to(tenant_b, export_b, tmp_path)
    assert rows_by_type(export_b) == rows_by_type(export_a)
    assert len(rows_by_type(export_a)) == TYPES
    figures(
        objects=count * TYPES,
        export_requests=exported.requests,
        export_seconds=round(export_seconds, 2),
        objects_per_second=round(count * TYPES / export_seconds),
        requests_per_object=round(exported.requests / (count * TYPES), 3),
        client_rate=RATE,
    )
