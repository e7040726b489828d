"""Device rows without a MAC through the engine against the simulator over real HTTP: an
activation code per owner and model, in activation_codes.csv only, minted once while valid."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest
from support import aside, write_csv

HEADER = (
    "entity_type,name,display_name,time_zone,address1,city,state,postal_code,country,email,"
    "first_name,last_name,location,extension,mac,model,owner"
)
PLACE = "location,HQ,,America/New_York,1 Road,Town,NY,10001,US,,,,,,,,"
PEOPLE = (
    "user,,,,,,,,,ann@example.com,Ann,Lee,HQ,1001,,,",
    "workspace,,Lobby,,,,,,,,,,HQ,1901,,,",
)
ANN_PHONE = "device,,,,,,,,,,,,,,,DMS Cisco 8851,ann@example.com"
LOBBY_PHONE = "device,,,,,,,,,,,,HQ,,,Cisco 8845,Lobby"


def tenant_file(tmp_path: Path, *rows: str) -> Path:
    """The location, Ann and the Lobby workspace, then ``rows``."""
    lines = "\n".join((HEADER, PLACE, *PEOPLE, *rows))
    return write_csv(tmp_path / "codes.csv", lines)


def codes_file(run_dir: Path) -> list[dict[str, str]]:
    """The rows of the run directory's activation_codes.csv."""
    with (run_dir / "activation_codes.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def everything_else(run_dir: Path) -> bytes:
    """Every file under the run directory (archived passes included) except the codes file."""
    return b"".join(
        path.read_bytes()
        for path in sorted(run_dir.rglob("*"))
        if path.is_file() and path.name != "activation_codes.csv"
    )


async def minted(sim) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The codes the simulator minted, oldest first."""
    return list((await aside(sim, "state?types=activationCodes"))["activationCodes"])


async def test_a_user_and_a_workspace_get_one_code_each(
    simulator, run_engine, tmp_path, caplog
) -> None:
    """A MAC-less phone of a user and of a workspace each get a code: it is in
    activation_codes.csv (mode 0600) with owner, model and expiry, and in no other file of the
    run directory nor the log; success.csv has the row, without the code."""
    csv_path = tmp_path / "codes.csv"
    tenant_file(tmp_path, ANN_PHONE, LOBBY_PHONE)
    async with simulator() as sim:
        run = await run_engine(sim, csv_path, log_level="debug")
        codes = await minted(sim)
    run_dir = run.result.run_dir
    assert run.exit_code == 0, run.output
    assert {(c["owner"]["type"], c["model"]) for c in codes} == {  # type: ignore[index]
        ("PEOPLE", "DMS Cisco 8851"),
        ("PLACE", "DMS Cisco 8845"),
    }
    written = codes_file(run_dir)
    assert sorted((r["owner"], r["location"], r["model"]) for r in written) == [
        ("Lobby", "HQ", "DMS Cisco 8845"),
        ("ann@example.com", "", "DMS Cisco 8851"),
    ]
    assert {r["code"] for r in written} == {str(c["code"]) for c in codes}
    assert {r["expiry"] for r in written} == {str(c["expiry_time"]) for c in codes}
    assert stat.S_IMODE((run_dir / "activation_codes.csv").stat().st_mode) == 0o600
    phones = [r for r in run.rows("success") if r["entity_type"] == "device"]
    assert {r["_action"] for r in phones} == {"created"}
    assert all("activation_codes.csv" in r["_detail"] for r in phones)
    others = everything_else(run_dir) + caplog.text.encode() + run.output.encode()
    for row in written:
        assert row["code"].encode() not in others


async def test_a_rerun_mints_no_second_code_while_the_first_is_valid(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """The next pass, a --fresh run (a new run directory, which starts with the valid codes of
    the one set aside) and plan find the codes still valid: no second POST, the rows are
    unchanged, and each activation_codes.csv holds the two codes once."""
    csv_path = tenant_file(tmp_path, ANN_PHONE, LOBBY_PHONE)
    async with simulator() as sim:
        first = await run_engine(sim, csv_path)
        again = await run_engine(sim, csv_path)  # a completed pass: the next one
        fresh = await run_engine(sim, csv_path, fresh=True)
        plan = await run_plan(sim, csv_path)
        codes = await minted(sim)
        counts = await aside(sim, "counts")
    assert first.exit_code == again.exit_code == fresh.exit_code == 0
    assert len(codes) == 2
    assert counts["by_route"]["POST /v1/devices/activationCode"] == 2
    for run in (again, fresh):
        phones = [r for r in run.rows("success") if r["entity_type"] == "device"]
        assert {r["_action"] for r in phones} == {"unchanged"}
        assert all("valid until" in r["_detail"] for r in phones)
    [aside_dir] = [p for p in first.result.run_dir.parent.iterdir() if p != first.result.run_dir]
    for run_dir in (aside_dir, fresh.result.run_dir):
        assert sorted(r["code"] for r in codes_file(run_dir)) == sorted(
            str(c["code"]) for c in codes
        )
    assert plan.counts.get("create", 0) == 0


@pytest.mark.parametrize("ttl", [0, 1800])
async def test_an_expired_code_is_replaced(simulator, run_engine, tmp_path, ttl) -> None:
    """Codes that have expired (``activation_code_ttl`` 0), or expire within the hour (1800 s),
    are minted again by the next pass, beside the phones still awaiting activation, and
    appended to the same activation_codes.csv."""
    csv_path = tenant_file(tmp_path, ANN_PHONE, LOBBY_PHONE)
    async with simulator(activation_code_ttl=ttl) as sim:
        first = await run_engine(sim, csv_path)
        second = await run_engine(sim, csv_path)
        codes = await minted(sim)
    assert first.exit_code == second.exit_code == 0
    assert len(codes) == 4
    phones = [r for r in second.rows("success") if r["entity_type"] == "device"]
    assert {r["_action"] for r in phones} == {"created"}
    written = codes_file(first.result.run_dir)
    assert len(written) == 4
    assert len({r["code"] for r in written}) == 4


async def test_a_registered_phone_of_the_model_needs_no_code(
    simulator, run_engine, tmp_path
) -> None:
    """An owner who already has a phone of the model (added by MAC on an earlier line) gets no
    code: the MAC-less row is unchanged. (A phone still awaiting activation does not count:
    the expiry test mints again beside one.)"""
    by_mac = "device,,,,,,,,,,,,,,00A1B2C3D4E5,DMS Cisco 8851,ann@example.com"
    csv_path = tenant_file(tmp_path, by_mac, ANN_PHONE)
    async with simulator() as sim:
        run = await run_engine(sim, csv_path)
        codes = await minted(sim)
    assert run.exit_code == 0, run.output
    assert codes == []
    [phone] = [r for r in run.rows("success") if r["entity_type"] == "device" and not r["mac"]]
    assert phone["_action"] == "unchanged"
    assert "registered DMS Cisco 8851" in phone["_detail"]
    assert not (run.result.run_dir / "activation_codes.csv").exists()


async def test_plan_shows_a_code_to_mint(simulator, run_engine, run_plan, tmp_path) -> None:
    """``plan`` shows a MAC-less phone of an existing owner as ``create`` with the detail
    ``activation code``."""
    async with simulator() as sim:
        await run_engine(sim, tenant_file(tmp_path))
        plan = await run_plan(sim, tenant_file(tmp_path, ANN_PHONE))
    with plan.path.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["entity_type"]: row for row in csv.DictReader(handle)}
    assert (rows["device"]["_plan"], rows["device"]["_detail"]) == ("create", "activation code")
