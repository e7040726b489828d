"""``export`` against the simulator over real HTTP: streaming, ``--only``, ``--location``, what is
left out, and a stop that leaves no file behind."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import aside, settings_for

from webex_bulk.actions import EXPORTS, ActionContext, TenantReader
from webex_bulk.credentials import Credentials
from webex_bulk.engine.executor import StopControl
from webex_bulk.engine.export import ExportRequest, export_tenant
from webex_bulk.engine.session import open_client
from webex_bulk.error_handling import ConfigError, RunAborted
from webex_bulk.models import EntityType
from webex_bulk.simulator import RunningSimulator

PEOPLE = 250  # three pages of the people listing (100 a page)


def tenant_file(tmp_path: Path) -> str:
    """A tenant with a calling location of ``PEOPLE`` users, a second one of 3 users and a
    location without Webex Calling."""
    spec = {
        "locations": [
            {"name": "HQ", "timeZone": "America/Chicago"},
            {"name": "Branch", "timeZone": "America/Denver"},
            {"name": "Warehouse", "calling": False},
        ],
        "syntheticPeople": {"count": PEOPLE, "location": "HQ", "firstExtension": 10_000},
        "people": [
            {
                "email": f"branch{i}@example.com",
                "firstName": "Branch",
                "lastName": str(i),
                "location": "Branch",
                "extension": f"{300 + i}",
                "licenses": ["Webex Calling - Professional"],
            }
            for i in range(3)
        ],
    }
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


def request_for(sim: RunningSimulator, tmp_path: Path, **fields: Any) -> ExportRequest:
    """An export request against the simulator."""
    return ExportRequest(
        settings=settings_for(sim, tmp_path),
        credentials=Credentials(access_token=sim.token),
        **fields,
    )


def leftovers(folder: Path) -> list[Path]:
    """The export file, or its partial copy, if either was left in ``folder``."""
    return list(folder.glob("x.csv*"))


def data_lines(path: Path) -> list[str]:
    """The lines of an export that are neither comments nor the header."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return [line for line in lines if not line.lstrip('"').startswith("#")][1:]


async def test_rows_stream_as_pages_arrive(tmp_path: Path, simulator: Callable[..., Any]) -> None:
    """The first user row is out when only the first people page has been read."""
    async with simulator(tenant_file=tenant_file(tmp_path)) as sim:
        settings = settings_for(sim, tmp_path)
        async with open_client(settings, Credentials(access_token=sim.token), "t") as client:
            reader = TenantReader(ActionContext(client, settings))
            await reader.start()
            users = reader.rows(EntityType.USER)
            first = await anext(users)
            pages_then = (await aside(sim, "counts"))["by_route"]["GET /v1/people"]
            rest = [row async for row in users]
        pages_at_end = (await aside(sim, "counts"))["by_route"]["GET /v1/people"]
    assert first["email"] == "branch0@example.com"
    assert (pages_then, pages_at_end) == (1, 3)
    assert len(rest) == PEOPLE + 3 - 1


async def test_only_and_location_limit_the_rows_and_skip_non_calling_locations(
    tmp_path: Path, simulator: Callable[..., Any]
) -> None:
    """``--only location,user --location Branch`` writes Branch and its three users only."""
    out = tmp_path / "branch.csv"
    async with simulator(tenant_file=tenant_file(tmp_path)) as sim:
        only = frozenset({EntityType.LOCATION, EntityType.USER})
        result = await export_tenant(
            request_for(sim, tmp_path, out=out, only=only, location="branch"), io.BytesIO()
        )
        everything = await export_tenant(request_for(sim, tmp_path), io.BytesIO())
    lines = data_lines(out)
    assert result.rows == {"location": 1, "user": 3}
    assert lines[0].startswith("location,Branch,")
    assert all(line.startswith("user,") and ",Branch," in line for line in lines[1:])
    assert everything.rows["location"] == 2  # Warehouse has no Webex Calling
    assert everything.skipped == {"location": 1, "user": 1}  # Warehouse; the admin: no calling


async def test_an_unknown_location_is_a_config_error_naming_the_known_ones(
    tmp_path: Path, simulator: Callable[..., Any]
) -> None:
    """``--location`` that is not a calling location stops before any row, naming the known."""
    async with simulator(tenant_file=tenant_file(tmp_path)) as sim:
        with pytest.raises(ConfigError, match="Branch, HQ"):
            await export_tenant(
                request_for(sim, tmp_path, out=tmp_path / "x.csv", location="Warehouse"),
                io.BytesIO(),
            )
    assert leftovers(tmp_path) == []


async def test_a_stop_leaves_no_file_behind(tmp_path: Path, simulator: Callable[..., Any]) -> None:
    """A stop requested before the rows ends the export with RunAborted and no (partial) file."""
    stop = StopControl()
    stop.request("interrupted by SIGINT", 130)
    async with simulator(tenant_file=tenant_file(tmp_path)) as sim:
        with pytest.raises(RunAborted, match="SIGINT"):
            await export_tenant(
                request_for(sim, tmp_path, out=tmp_path / "x.csv"), io.BytesIO(), stop
            )
    assert leftovers(tmp_path) == []


async def test_standard_output_gets_the_bom_the_header_and_the_rows(
    tmp_path: Path, simulator: Callable[..., Any]
) -> None:
    """Without ``--out`` the file goes to standard output, BOM first, then the ``#`` header."""
    stdout = io.BytesIO()
    async with simulator(tenant_file=tenant_file(tmp_path)) as sim:
        await export_tenant(
            request_for(sim, tmp_path, only=frozenset({EntityType.LOCATION})), stdout
        )
    text = stdout.getvalue()
    assert text.startswith(b"\xef\xbb\xbf# webex-bulk ")
    lines = text.decode("utf-8-sig").split("\r\n")
    assert "export of org Simulated Webex Org" in lines[0]
    assert lines[2].startswith("entity_type,name,")
    assert [line.split(",")[1] for line in lines[3:] if line] == ["HQ", "Branch"]


def test_a_virtual_line_costs_a_detail_get_only_when_its_listing_lacks_the_display_name() -> None:
    """The spec's virtual line listing has no ``displayName`` (the row's key): only such an
    object is read again; one listed with it is written from the listing."""
    detail = EXPORTS[EntityType.VIRTUAL_LINE].detail
    assert detail is not None
    assert detail({"id": "V1", "firstName": "Night"}) == "/telephony/config/virtualLines/V1"
    assert detail({"id": "V1", "displayName": "Night Line"}) is None
    assert EXPORTS[EntityType.CALL_PARK_EXTENSION].detail is None  # its listing has it all
