"""The move-users job routes: validate or start a move (one job at a time per org), list jobs,
read a job's state and its errors."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from webex_bulk.simulator import move_jobs
from webex_bulk.simulator.answers import json_response, offset_page, page_size
from webex_bulk.simulator.bodies import read_json, text
from webex_bulk.simulator.errors import ApiError, Code, not_found
from webex_bulk.simulator.ids import JOB
from webex_bulk.simulator.move_jobs import Move, MoveJob
from webex_bulk.simulator.runtime import Simulator, simulator_of

routes = web.RouteTableDef()
PATH = "/v1/telephony/config/jobs/person/moveLocation"
MAX_USERS = 100


class _Refused(Exception):
    """A request the initial validation refuses, with the spec's ``{error: [{code, message}]}``."""

    def __init__(self, code: int | str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@routes.post(PATH)
async def move_users(request: web.Request) -> web.Response:
    """``validate: true`` → 200 with each user's errors and impacts; ``false`` → 201 with the new
    job; 409 while another job runs; 400 ``{error: [...]}`` for a request that cannot be read."""
    sim = simulator_of(request)
    body = await read_json(request)
    try:
        validate, moves = _read(sim, body)
    except _Refused as refused:
        answer = {"error": [{"code": refused.code, "message": refused.message}]}
        return json_response(answer, status=refused.status)
    tenant = sim.tenant
    if validate:
        report = [
            {
                "userId": move.user_id,
                "impacts": move_jobs.impacts(tenant, move),
                "errors": move_jobs.problems(tenant, move),
            }
            for move in moves
        ]
        return json_response({"response": report})
    now = sim.clock()
    if sim.jobs.running(now) is not None:
        raise ApiError(
            409, "Another move users job is in progress.", Code.JOB_RUNNING, telephony=True
        )
    tracking = request.headers.get("TrackingID") or f"ROUTER_{sim.tracking.uuid()}"
    job = sim.jobs.start(
        tenant.mint.id(JOB), tracking, tenant.admin_id, moves, now, sim.config.move_job_seconds
    )
    for one in moves:
        sim.creates.record("moveJobs", one.user_id, one.location_id)
    sim.jobs.advance(tenant, now)
    return json_response({"response": _job_json(sim, job)}, status=201)


@routes.get(PATH)
async def list_jobs(request: web.Request) -> web.Response:
    """Every move-users job of the org, oldest first (offset paging)."""
    sim = simulator_of(request)
    size = page_size(request, 100, 1000)
    page, _ = offset_page(request, list(sim.jobs.jobs.values()), size)
    return json_response({"items": [_job_json(sim, job) for job in page]})


@routes.get(f"{PATH}/{{jobId}}")
async def get_job(request: web.Request) -> web.Response:
    """A job's state: STARTING, STARTED, then COMPLETED (or FAILED), with its counts."""
    sim = simulator_of(request)
    return json_response(_job_json(sim, _job(sim, request)))


@routes.get(f"{PATH}/{{jobId}}/errors")
async def job_errors(request: web.Request) -> web.Response:
    """The moves a completed job could not make, one item per user."""
    sim = simulator_of(request)
    job = _job(sim, request)
    items = [
        {
            "itemNumber": failure["itemNumber"],
            "item": failure["move"].user_id,
            "trackingId": job.tracking_id,
            "error": {
                "key": "400",
                "message": [
                    {
                        "description": problem["message"],
                        "code": str(problem["code"]),
                        "location": failure["move"].location_id,
                    }
                    for problem in failure["errors"]
                ],
            },
        }
        for failure in job.errors
    ]
    return json_response({"items": items})


def _job(sim: Simulator, request: web.Request) -> MoveJob:
    job = sim.jobs.jobs.get(request.match_info["jobId"])
    if job is None:
        raise not_found("job", telephony=True)
    return job


def _job_json(sim: Simulator, job: MoveJob) -> dict[str, Any]:
    now = sim.clock()
    status, exit_code = sim.jobs.status(job, now)
    failed = len(job.errors)
    moved = len(job.moves) - failed if job.done else 0
    execution: dict[str, Any] = {
        "id": job.instance_id,
        "startTime": job.created_time,
        "lastUpdated": job.end_time or job.created_time,
        "statusMessage": status,
        "exitCode": exit_code,
        "createdTime": job.created_time,
        "timeElapsed": f"PT{max(0.0, min(now, job.ends) - job.started):.3f}S",
    }
    if job.end_time:
        execution["endTime"] = job.end_time
    org = sim.tenant.org.id
    return {
        "name": "moveusers",
        "id": job.id,
        "trackingId": job.tracking_id,
        "sourceUserId": job.admin_id,
        "sourceCustomerId": org,
        "targetCustomerId": org,
        "instanceId": job.instance_id,
        "jobExecutionStatus": [execution],
        "latestExecutionStatus": status,
        "latestExecutionExitCode": exit_code,
        "counts": {
            "totalMoves": len(job.moves),
            "moved": moved,
            "failed": failed,
            "pending": 0 if job.done else len(job.moves),
            "skipped": 0,
        },
    }


def _read(sim: Simulator, body: dict[str, Any]) -> tuple[bool, tuple[Move, ...]]:
    """The ``validate`` flag and the moves of a request; ``_Refused`` as the spec lists."""
    groups = body.get("usersList")
    if not isinstance(groups, list) or not groups:
        raise _Refused(Code.MOVE_USERS_EMPTY, "Users list should not be empty.")
    flags = set()
    moves: list[Move] = []
    for group in groups:
        if not isinstance(group, dict):
            raise _Refused(Code.MOVE_USERS_EMPTY, "Users list should not be empty.")
        if not isinstance(group.get("validate"), bool):
            raise _Refused(1026006, "Attribute 'Validate' is required.")
        flags.add(group["validate"])
        location_id = text(group, "locationId")
        if not location_id:
            raise _Refused(1026021, "Attribute location id is required for Calling user.")
        users = group.get("users")
        if not isinstance(users, list) or not users:
            raise _Refused(1026012, "Users should not be empty.")
        for user in users:
            user_id = text(user, "userId") if isinstance(user, dict) else ""
            if not user_id:
                raise _Refused("BATCH-400", "Attribute 'User ID' is required.")
            moves.append(
                Move(user_id, location_id, text(user, "extension"), text(user, "phoneNumber"))
            )
    _check_users(sim, moves)
    validate = True in flags
    if validate and len(moves) > 1:
        raise _Refused(
            Code.MOVE_VALIDATE_SINGLE, "Validate 'true' is supported only for single user."
        )
    return validate, tuple(moves)


def _check_users(sim: Simulator, moves: list[Move]) -> None:
    if len(moves) > MAX_USERS:
        raise _Refused(Code.MOVE_TOO_MANY_USERS, "Selected Users list exceeds the maximum limit.")
    if len({move.user_id for move in moves}) != len(moves):
        raise _Refused(Code.MOVE_DUPLICATE_USER, "Duplicate entry for user is not allowed.")
    for move in moves:
        person = sim.tenant.people.get(move.user_id)
        if person is None:
            raise _Refused(Code.MOVE_USER_NOT_FOUND, "User was not found", status=404)
        if person.line is None:
            raise _Refused(Code.MOVE_NOT_CALLING_USER, "User is not a valid Calling User.")
