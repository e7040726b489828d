"""The six newer entity types through the engine against the simulator over real HTTP:
dependency failures, the passcode never leaving the input, and a re-submitted rejected file."""

from __future__ import annotations

import csv
from pathlib import Path

from support import aside, write_csv

PASSCODE = "90817263544536"  # a canary: no output file or log line may hold it

HEADER = (
    "entity_type,name,display_name,time_zone,address1,city,state,postal_code,country,email,"
    "first_name,last_name,location,extension,members,targets,park_extensions,passcode"
)


def files_under(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by path."""
    return {str(path): path.read_bytes() for path in root.rglob("*") if path.is_file()}


async def test_rows_of_a_rejected_location_end_dependency_failed(
    simulator, run_engine, tmp_path
) -> None:
    """Each new type in a location rejected by validation ends pending dependency_failed, and a
    call park naming a rejected call park extension does too; no write is sent."""
    csv_path = write_csv(
        tmp_path / "dep.csv",
        f"""
        {HEADER}
        location,Bad Place,,Europe/Nowhere,1 Road,Town,ST,12345,US,,,,,,,,,
        virtual_line,,Desk Line,,,,,,,,Desk,Line,Bad Place,2001,,,,
        call_park_extension,Park 1,,,,,,,,,,,Bad Place,2101,,,,
        call_pickup,Pickup,,,,,,,,,,,Bad Place,,Desk Line,,,
        paging_group,Paging,,,,,,,,,,,Bad Place,2201,,Desk Line,,
        voicemail_group,Voicemail,,,,,,,,,,,Bad Place,2301,,,,{PASSCODE}
        call_park,Lot,,,,,,,,,,,Bad Place,,,,Park 1,
        """,
    )
    async with simulator() as sim:
        run = await run_engine(sim, csv_path)
        counts = await aside(sim, "counts")
    pending = {row["entity_type"]: row for row in run.rows("pending")}
    assert set(pending) == {
        "virtual_line",
        "call_park_extension",
        "call_pickup",
        "paging_group",
        "voicemail_group",
        "call_park",
    }
    assert {row["_reason"] for row in pending.values()} == {"dependency_failed"}
    assert "location:bad place" in pending["voicemail_group"]["_detail"]
    assert pending["voicemail_group"]["passcode"] == "****"
    assert counts["writes"] == 0


async def test_call_park_waits_for_its_rejected_extension(simulator, run_engine, tmp_path) -> None:
    """A call park naming a call park extension that validation rejected is dependency_failed."""
    csv_path = write_csv(
        tmp_path / "park.csv",
        f"""
        {HEADER}
        location,Good Place,,America/New_York,1 Road,Town,NY,10001,US,,,,,,,,,
        call_park_extension,Park 1,,,,,,,,,,,Good Place,x1,,,,
        call_park,Lot,,,,,,,,,,,Good Place,,,,Park 1,
        """,
    )
    async with simulator() as sim:
        run = await run_engine(sim, csv_path)
    [rejected] = run.rows("rejected")
    assert rejected["_reason"] == "invalid_extension"
    [pending] = run.rows("pending")
    assert pending["_reason"] == "dependency_failed"
    assert "call_park_extension:good place/park 1" in pending["_detail"]


async def test_passcode_never_leaves_the_input(simulator, run_engine, run_plan, tmp_path) -> None:
    """The passcode is masked in every output, the journal, plan.csv and the debug log; the
    re-submitted rejected.csv stays valid and asks for the passcode to be filled in."""
    csv_path = write_csv(
        tmp_path / "vm.csv",
        f"""
        {HEADER}
        location,Good Place,,America/New_York,1 Road,Town,NY,10001,US,,,,,,,,,
        voicemail_group,Sales VM,,,,,,,,,,,Good Place,2301,,,,{PASSCODE}
        voicemail_group,Other VM,,,,,,,,,,,Good Place,23x,,,,{PASSCODE}
        voicemail_group,Third VM,,,,,,,,,,,Good Place,2303,,,,12ab
        """,
    )
    async with simulator() as sim:
        plan = await run_plan(sim, csv_path, log_level="debug")
        run = await run_engine(sim, csv_path, log_level="debug")
        sales = next(row for row in run.rows("success") if row["name"] == "Sales VM")
        assert sales["passcode"] == "****"
        rejected = {row["name"]: row for row in run.rows("rejected")}
        assert rejected["Other VM"]["passcode"] == "****"
        assert rejected["Third VM"]["_reason"] == "invalid_value"
        assert "12ab" not in rejected["Third VM"]["_detail"]
        blobs = files_under(tmp_path / "runs")
        assert str(plan.path) in blobs
        leaks = [path for path, blob in blobs.items() if PASSCODE.encode() in blob]
        assert leaks == []
        assert PASSCODE not in run.output
        # Fix the extension of the rejected row and send rejected.csv back as it is.
        resubmit = tmp_path / "again.csv"
        with (run.result.run_dir / "rejected.csv").open(encoding="utf-8-sig", newline="") as src:
            rows = list(csv.DictReader(src))
        fixed = [row for row in rows if row["name"] == "Other VM"]
        fixed[0]["extension"] = "2302"
        with resubmit.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(fixed)
        again = await run_engine(sim, resubmit)
    [row] = again.rows("rejected")
    assert row["_reason"] == "missing_field"
    assert "column passcode" in row["_detail"]
    assert "fill it in" in row["_detail"]
