"""The move-users job: validation, a job's states over time, its errors, one job at a time."""

from __future__ import annotations

from typing import Any

from support import FakeClock

from webex_bulk.simulator import SimConfig

from .builders import add_numbers, hunt_group_body, make_location, make_user
from .conftest import Api, StartSim

PATH = "/telephony/config/jobs/person/moveLocation"


def move(location: str, user: str, *, validate: bool = False, **line: str) -> dict[str, Any]:
    """A move-users body for one user."""
    return {
        "usersList": [
            {"locationId": location, "validate": validate, "users": [{"userId": user, **line}]}
        ]
    }


async def test_validate_reports_errors_and_impacts(api: Api) -> None:
    """``validate: true`` answers 200 with the user's errors (taken extension) and impacts."""
    hq = await make_location(api)
    branch = await make_location(api, "Branch")
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    await make_user(api, "bob@example.com", branch, extension="1001")
    checked = await api.post(PATH, move(branch, ann["id"], validate=True))
    assert checked.status == 200
    [report] = checked.body["response"]
    assert report["userId"] == ann["id"]
    assert [error["code"] for error in report["errors"]] == [4202]
    assert report["impacts"]
    fine = await api.post(PATH, move(branch, ann["id"], validate=True, extension="1002"))
    assert fine.body["response"][0]["errors"] == []
    same = await api.post(PATH, move(hq, ann["id"], validate=True))
    assert [error["code"] for error in same.body["response"][0]["errors"]] == [25378]
    assert (await api.get(f"/people/{ann['id']}", callingData="true")).body["locationId"] == hq


async def test_job_states_over_time_and_the_move(start_sim: StartSim) -> None:
    """A job is STARTING, then STARTED, then COMPLETED on the server's clock; only then has the
    user (with its number) moved, and it has left the hunt groups of its old location."""
    clock = FakeClock()
    api = await start_sim(SimConfig(move_job_seconds=8), clock=clock)
    hq = await make_location(api)
    branch = await make_location(api, "Branch")
    await add_numbers(api, hq, "+13125550100", "+13125550101")
    ann = await make_user(api, "ann@example.com", hq, extension="1001", number="+13125550101")
    await api.post(
        f"/telephony/config/locations/{hq}/huntGroups", hunt_group_body("S", "5001", [ann["id"]])
    )
    started = await api.post(PATH, move(branch, ann["id"]))
    assert started.status == 201
    job = started.body["response"]
    assert (job["latestExecutionStatus"], job["counts"]["pending"]) == ("STARTING", 1)
    clock.advance(3)
    assert (await api.get(f"{PATH}/{job['id']}")).body["latestExecutionStatus"] == "STARTED"
    person = (await api.get(f"/people/{ann['id']}", callingData="true")).body
    assert person["locationId"] == hq
    clock.advance(5)
    done = (await api.get(f"{PATH}/{job['id']}")).body
    assert (done["latestExecutionStatus"], done["latestExecutionExitCode"]) == (
        "COMPLETED",
        "COMPLETED",
    )
    assert done["counts"]["moved"] == 1
    person = (await api.get(f"/people/{ann['id']}", callingData="true")).body
    assert (person["locationId"], person["extension"]) == (branch, "1001")
    numbers = await api.get("/telephony/config/numbers", phoneNumber="+13125550101")
    assert numbers.body["phoneNumbers"][0]["location"]["id"] == branch
    groups = (await api.get("/telephony/config/huntGroups")).body["huntGroups"]
    detail = await api.get(f"/telephony/config/locations/{hq}/huntGroups/{groups[0]['id']}")
    assert detail.body["agents"] == []
    assert (await api.get(f"{PATH}/{job['id']}/errors")).body["items"] == []
    assert [item["id"] for item in (await api.get(PATH)).body["items"]] == [job["id"]]


async def test_one_job_at_a_time(start_sim: StartSim) -> None:
    """A second job while one runs is 409; after the first completes it is accepted."""
    clock = FakeClock()
    api = await start_sim(SimConfig(move_job_seconds=5), clock=clock)
    hq = await make_location(api)
    branch = await make_location(api, "Branch")
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    bob = await make_user(api, "bob@example.com", hq, extension="1002")
    assert (await api.post(PATH, move(branch, ann["id"]))).status == 201
    busy = await api.post(PATH, move(branch, bob["id"]))
    assert (busy.status, busy.body["errorCode"]) == (409, 409003)
    clock.advance(5)
    assert (await api.post(PATH, move(branch, bob["id"]))).status == 201


async def test_job_errors(start_sim: StartSim) -> None:
    """A move made impossible after it started fails in the job and is listed in its errors."""
    clock = FakeClock()
    api = await start_sim(SimConfig(move_job_seconds=2), clock=clock)
    hq = await make_location(api)
    branch = await make_location(api, "Branch")
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    job = (await api.post(PATH, move(branch, ann["id"]))).body["response"]
    await make_user(api, "bob@example.com", branch, extension="1001")
    clock.advance(2)
    done = (await api.get(f"{PATH}/{job['id']}")).body
    assert (done["latestExecutionStatus"], done["latestExecutionExitCode"]) == ("FAILED", "FAILED")
    assert done["counts"]["failed"] == 1
    [item] = (await api.get(f"{PATH}/{job['id']}/errors")).body["items"]
    assert item["item"] == ann["id"]
    assert item["error"]["message"][0]["code"] == "4202"
    assert (await api.get(f"/people/{ann['id']}", callingData="true")).body["locationId"] == hq


async def test_request_validation(api: Api) -> None:
    """Requests the initial validation refuses answer with the spec's ``{error: [...]}`` shape."""
    hq = await make_location(api)
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    plain = (await api.post("/people", {"emails": ["p@example.com"], "displayName": "P"})).body
    empty = await api.post(PATH, {"usersList": []})
    assert (empty.status, empty.body["error"][0]["code"]) == (400, 1026011)
    not_calling = await api.post(PATH, move(hq, plain["id"]))
    assert (not_calling.status, not_calling.body["error"][0]["code"]) == (400, 1026010)
    unknown = await api.post(PATH, move(hq, "nobody"))
    assert (unknown.status, unknown.body["error"][0]["code"]) == (404, 2150012)
    body = move(hq, ann["id"])
    body["usersList"][0]["users"].append({"userId": ann["id"]})
    twice = await api.post(PATH, body)
    assert twice.body["error"][0]["code"] == 1026019
    no_flag = {"usersList": [{"locationId": hq, "users": [{"userId": ann["id"]}]}]}
    assert (await api.post(PATH, no_flag)).body["error"][0]["code"] == 1026006
    assert (await api.get(f"{PATH}/missing")).status == 404


async def test_job_with_no_delay_completes_at_once(start_sim: StartSim) -> None:
    """With ``move_job_seconds`` 0 the job answers COMPLETED and the user has moved."""
    api = await start_sim(SimConfig(move_job_seconds=0))
    hq = await make_location(api)
    branch = await make_location(api, "Branch")
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    job = (await api.post(PATH, move(branch, ann["id"], extension="2001"))).body["response"]
    assert job["latestExecutionStatus"] == "COMPLETED"
    person = (await api.get(f"/people/{ann['id']}", callingData="true")).body
    assert (person["locationId"], person["extension"]) == (branch, "2001")
