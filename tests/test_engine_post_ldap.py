"""Post-LDAP end to end against the simulator: the directory owns identity, the file owns calling.

Nameless user rows give synced people calling and keep the directory's names; a person the
directory has not synced yet waits (``pending`` ``not_in_directory``) until a later run finds them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from support import aside, directory_sync, write_csv
from test_actions_support import PARIS, paris_tenant, tenant_file

from webex_bulk.error_handling import ExitCode

NOT_SYNCED = "not synced from the directory yet; run again after the next sync"
POST_PEOPLE = "POST /v1/people"
DIRECTORY_PERSON = {
    "email": "dir1@corp.example",
    "firstName": "Dana",
    "lastName": "Directory",
    "displayName": "Dana Directory (Sales)",
    "department": "Sales",
    "licenses": [],
}


def nameless_file(tmp_path: Path) -> Path:
    """Two post-LDAP rows (e-mail, location, extension): one synced person, one not yet."""
    return write_csv(
        tmp_path / "post-ldap.csv",
        f"""
        entity_type,email,location,extension
        user,dir1@corp.example,{PARIS},7001
        user,dir2@corp.example,{PARIS},7002
        """,
    )


def people_by_email(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The people of a simulator state dump by e-mail."""
    return {person["email"]: person for person in state["people"]}


async def test_synced_person_gets_calling_and_the_absent_one_waits_for_the_sync(
    simulator, run_engine, tmp_path: Path
) -> None:
    """A synced person gets calling and keeps every directory field; the absent one ends pending
    not_in_directory (exit 3) without a write, and the run after the sync gives them calling."""
    tenant = tenant_file(tmp_path, paris_tenant(people=[DIRECTORY_PERSON]))
    csv_path = nameless_file(tmp_path)
    async with simulator(tenant_file=tenant) as sim:
        first = await run_engine(sim, csv_path)
        first_success, first_pending = first.rows("success"), first.rows("pending")
        counts = await aside(sim, "counts")
        synced = people_by_email(await aside(sim, "state?types=people"))["dir1@corp.example"]
        await directory_sync(sim, "dir2@corp.example", "Noor", "Later")
        second = await run_engine(sim, csv_path)
        people = people_by_email(await aside(sim, "state?types=people"))
    assert first.exit_code == ExitCode.ROWS_FAILED
    assert [(r["email"], r["_action"]) for r in first_success] == [("dir1@corp.example", "updated")]
    [waiting] = first_pending
    assert (waiting["email"], waiting["_reason"]) == ("dir2@corp.example", "not_in_directory")
    assert waiting["_detail"] == NOT_SYNCED
    assert counts["by_route"].get(POST_PEOPLE, 0) == 0
    assert counts["writes"] == 1  # the license PATCH of dir1, nothing for dir2
    assert (synced["first_name"], synced["last_name"]) == ("Dana", "Directory")
    assert synced["display_name"] == "Dana Directory (Sales)"
    assert synced["optional"]["department"] == "Sales"
    assert synced["line"]["extension"] == "7001"
    assert second.exit_code == ExitCode.OK
    actions = {r["email"]: r["_action"] for r in second.rows("success")}
    assert actions == {"dir1@corp.example": "unchanged", "dir2@corp.example": "updated"}
    assert people["dir2@corp.example"]["display_name"] == "Noor Later"
    assert people["dir2@corp.example"]["line"]["extension"] == "7002"


async def test_no_create_people_leaves_every_absent_person_to_the_directory(
    simulator, run_engine, tmp_path: Path
) -> None:
    """With create_people off, an absent person ends pending not_in_directory even with names,
    no person is created, and a synced person of the same file still gets calling."""
    tenant = tenant_file(tmp_path, paris_tenant(people=[DIRECTORY_PERSON]))
    csv_path = write_csv(
        tmp_path / "named.csv",
        f"""
        entity_type,email,first_name,last_name,location,extension
        user,new@corp.example,New,Person,{PARIS},7003
        user,dir1@corp.example,,,{PARIS},7001
        """,
    )
    async with simulator(tenant_file=tenant) as sim:
        run = await run_engine(sim, csv_path, create_people=False)
        counts = await aside(sim, "counts")
        creates = await aside(sim, "creates")
    assert run.exit_code == ExitCode.ROWS_FAILED
    [waiting] = run.rows("pending")
    assert (waiting["email"], waiting["_reason"]) == ("new@corp.example", "not_in_directory")
    assert waiting["_detail"].startswith(NOT_SYNCED)
    assert "create_people" in waiting["_detail"]
    assert [r["email"] for r in run.rows("success")] == ["dir1@corp.example"]
    assert counts["by_route"].get(POST_PEOPLE, 0) == 0
    assert not creates["people"]


async def test_one_name_without_the_other_is_rejected_only_where_the_person_is_created(
    simulator, run_engine, tmp_path: Path
) -> None:
    """A row with a first name only updates a synced person's first name, and is rejected
    missing_field (naming last_name) where the person would have to be created."""
    tenant = tenant_file(tmp_path, paris_tenant(people=[DIRECTORY_PERSON]))
    csv_path = write_csv(
        tmp_path / "half.csv",
        f"""
        entity_type,email,first_name,location,extension
        user,dir1@corp.example,Danielle,{PARIS},7001
        user,ruby.fox@corp.example,Ruby,{PARIS},7004
        """,
    )
    async with simulator(tenant_file=tenant) as sim:
        run = await run_engine(sim, csv_path)
        person = people_by_email(await aside(sim, "state?types=people"))["dir1@corp.example"]
    [rejected] = run.rows("rejected")
    assert (rejected["email"], rejected["_reason"]) == ("ruby.fox@corp.example", "missing_field")
    assert rejected["_detail"].startswith("column last_name: required to create")
    assert (person["first_name"], person["last_name"]) == ("Danielle", "Directory")
    assert person["display_name"] == "Dana Directory (Sales)"


async def test_plan_shows_the_absent_person_pending_not_in_directory(
    simulator, run_plan, tmp_path: Path
) -> None:
    """plan says pending not_in_directory for an absent person without names (and with names
    when create_people is off), also where the plan creates the row's location first."""
    tenant = tenant_file(tmp_path, paris_tenant(people=[DIRECTORY_PERSON]))
    csv_path = write_csv(
        tmp_path / "plan.csv",
        f"""
        entity_type,name,time_zone,address1,city,state,postal_code,country,email,first_name,last_name,location,extension
        location,Lyon,Europe/Paris,1 Quai,Lyon,ARA,69001,FR,,,,,
        user,,,,,,,,dir1@corp.example,,,{PARIS},7001
        user,,,,,,,,dir2@corp.example,,,{PARIS},7002
        user,,,,,,,,dir3@corp.example,,,Lyon,7101
        user,,,,,,,,new@corp.example,New,Person,Lyon,7102
        """,
    )
    async with simulator(tenant_file=tenant) as sim:
        default = await run_plan(sim, csv_path)
        default_rows = plan_rows(default.path)
        directory_only = await run_plan(sim, csv_path, create_people=False)
        strict_rows = plan_rows(directory_only.path)
        counts = await aside(sim, "counts")
    assert default_rows == {
        "Lyon": ("create", ""),
        "dir1@corp.example": ("update", ""),
        "dir2@corp.example": ("pending", "not_in_directory"),
        "dir3@corp.example": ("pending", "not_in_directory"),
        "new@corp.example": ("create", ""),
    }
    assert strict_rows["new@corp.example"] == ("pending", "not_in_directory")
    assert default.by_reason == {"not_in_directory": 2}
    assert counts["writes"] == 0


def plan_rows(path: Path) -> dict[str, tuple[str, str]]:
    """``_plan`` and ``_reason`` of each row of a plan.csv, by e-mail (a location by name)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["email"] or row["name"]: (row["_plan"], row["_reason"])
            for row in csv.DictReader(handle)
        }
