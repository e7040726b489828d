"""Moving a calling user to another location with the move-users job: validate, start (one job
per org at a time: a busy org is waited out), keep the job id as an intent, poll the job to its
end and read its errors. Steps and budget: ``docs/actions_registry.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from webex_bulk.actions import bodies, lookups
from webex_bulk.actions.base import Change, Decision
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import (
    Action,
    ApiError,
    ForbiddenError,
    Reason,
    Status,
    UnknownOutcome,
)
from webex_bulk.models import Outcome, Row

log = logging.getLogger("webex_bulk.actions.moves")

JOBS_PATH = "/telephony/config/jobs/person/moveLocation"
#: ``latestExecutionStatus`` values of a job that changes no more.
ENDED = frozenset({"COMPLETED", "FAILED", "ABANDONED"})
#: Validation codes saying the user is in the target location already (a move that happened).
ALREADY_THERE = frozenset({"25378", "1026013"})
#: The most polls (and tries while the org is busy) when ``move_poll_interval`` is 0.
MAX_POLLS = 1000

#: Runs the row again once it is in its location (the user's own update steps).
Converge = Callable[[ActionContext, Row], Awaitable[Outcome]]


async def move_decision(
    ctx: ActionContext, row: Row, person: Item, location_id: str, compared: Compared
) -> Decision:
    """A calling user in another location than the row's: a ``move`` (``plan`` shows where from
    and where to); ``compared`` holds the row's other columns, compared with the person."""
    old = await lookups.location_name(ctx, str(person.get("locationId") or ""))
    detail = f"from {old!r} to {row.get('location')!r}"
    moved = Compared().mark("location", row.get("location"), old, differs=True).extend(compared)
    change = Change(
        "move",
        moved.differing,
        str(person["id"]),
        dict(moved.old),
        dict(moved.new),
        detail=detail,
    )
    return Decision(change, person, {"location_id": location_id, "from": old})


async def move(ctx: ActionContext, row: Row, decision: Decision, converge: Converge) -> Outcome:
    """Move the user with its line, then converge the row's other columns."""
    person_id = decision.change.remote_id
    location_id = str(decision.refs["location_id"])
    fields = decision.change.fields
    line = {
        "extension": row.get("extension") if "extension" in fields else "",
        "phone_number": row.get("phone_number") if "phone_number" in fields else "",
    }
    where = f"{row.get('email')} from {decision.refs['from']!r} to {row.get('location')!r}"
    job_id = await _moved(ctx, row, person_id, location_id, line, where)
    response = await ctx.client.request(
        "GET", f"/people/{person_id}", params=ctx.query({"callingData": "true"})
    )
    fresh = dict(response.body) if isinstance(response.body, Mapping) else dict(decision.remote)
    # The ended job is the authority: a person read that still lags shows the new location.
    lookups.add_person(ctx, {**fresh, "locationId": location_id})
    moved = f"moved {where}" + (f" (move-users job {job_id})" if job_id else "")
    rest = await converge(ctx, row)
    if rest.status is not Status.SUCCESS:
        return attrs.evolve(rest, detail=f"{moved}; then {rest.detail}")
    detail = f"{moved}; {rest.detail}" if rest.action is Action.UPDATED else moved
    return Outcome.success(row, Action.UPDATED, person_id, rest.tracking_id, detail)


def _intent_key(row: Row, location_id: str) -> str:
    return f"move {row.key} {location_id}"


async def _moved(
    ctx: ActionContext,
    row: Row,
    person_id: str,
    location_id: str,
    line: Mapping[str, str],
    where: str,
) -> str:
    """The id of the job that moved the user ("" when it was there already); ``RowFailure``
    when the move is refused or does not end in time."""
    key = _intent_key(row, location_id)
    async with ctx.move_lock:  # one job at a time: this run's moves never 409 each other
        job_id = ctx.intents.recall(key)
        if job_id and await _read_job(ctx, job_id, missing_ok=True) is None:
            job_id = ""  # a job Webex no longer knows: validate and start again
        if not job_id:
            job_id = await _start(ctx, person_id, location_id, line, where)
            if not job_id:
                return ""
            # Durable before the first poll: a run killed from here on polls this job again.
            ctx.intents.record(key, job_id)
        job = await _poll(ctx, job_id)
        refusal = await _job_errors(ctx, job_id, job)
        ctx.intents.record(key, "")
    if refusal:
        raise RowFailure(
            Reason.MOVE_REFUSED,
            f"the move-users job {job_id} did not move {where}: {refusal}",
            remote_id=person_id,
        )
    return job_id


def _tries(ctx: ActionContext) -> int:
    """Polls (or tries while the org is busy) that fit in ``move_wait``."""
    interval = ctx.settings.move_poll_interval
    if interval <= 0:
        return MAX_POLLS
    return max(1, int(ctx.settings.move_wait / interval))


async def _start(
    ctx: ActionContext, person_id: str, location_id: str, line: Mapping[str, str], where: str
) -> str:
    """Validate, then start the job; "" when validation says the user is there already.

    A 409 (another move-users job runs in the org) or an unknown outcome is waited out and the
    move validated again: should the unknown start have made a job, its 409 and then the
    "already there" of the validation tell, so no second job is started blindly.
    """
    tries = _tries(ctx)
    for attempt in range(tries):
        problems = await _validate(ctx, person_id, location_id, line, where)
        if any(code in ALREADY_THERE for code, _ in problems):
            return ""
        if problems:
            raise RowFailure(
                Reason.MOVE_REFUSED,
                f"the move-users job refuses to move {where}: "
                + "; ".join(message for _, message in problems),
                remote_id=person_id,
            )
        body = bodies.move_users_body(person_id, location_id, validate=False, **line)
        try:
            response = await ctx.client.request("POST", JOBS_PATH, params=ctx.query(), json=body)
        except ApiError as exc:
            if exc.status != 409 or isinstance(exc, ForbiddenError):
                raise _refused(exc, where, person_id) from None
            log.info("move.busy", extra={"event_fields": {"person": person_id, "try": attempt}})
        except UnknownOutcome as exc:
            log.info(
                "move.unknown", extra={"event_fields": {"person": person_id, "cause": str(exc)}}
            )
        else:
            job = response.body.get("response") if isinstance(response.body, Mapping) else None
            if isinstance(job, Mapping) and job.get("id"):
                return str(job["id"])
        if attempt + 1 < tries:
            await ctx.sleep(ctx.settings.move_poll_interval)
    raise RowFailure(
        Reason.RETRIES_EXHAUSTED,
        f"another move-users job kept the org busy for {ctx.settings.move_wait:g} s "
        f"(one runs at a time): {where} is not started; run again later",
        remote_id=person_id,
    )


async def _validate(
    ctx: ActionContext, person_id: str, location_id: str, line: Mapping[str, str], where: str
) -> list[tuple[str, str]]:
    """The ``(code, message)`` errors the validation of the move reports (none: it may go).

    A request refused as a whole for "source and target are the same" (1026013) is reported
    like the validation's own 25378: the user is there already.
    """
    body = bodies.move_users_body(person_id, location_id, validate=True, **line)
    try:
        response = await ctx.client.request("POST", JOBS_PATH, params=ctx.query(), json=body)
    except ApiError as exc:
        items = exc.body.get("error") if isinstance(exc.body, Mapping) else None
        same = [_problem(item) for item in items] if isinstance(items, list) else []
        if any(code in ALREADY_THERE for code, _ in same):
            return same
        raise _refused(exc, where, person_id) from None
    answer = response.body if isinstance(response.body, Mapping) else {}
    found = []
    for report in answer.get("response") or ():
        if isinstance(report, Mapping) and report.get("userId") in (None, person_id):
            found += [_problem(item) for item in report.get("errors") or ()]
    return found


def _problem(item: Any) -> tuple[str, str]:
    if not isinstance(item, Mapping):
        return "", str(item)
    code = str(item.get("code") or "")
    message = str(item.get("message") or item.get("description") or "").strip()
    return code, message if code in message else f"[Error {code}] {message}"


def _refused(exc: ApiError, where: str, person_id: str) -> Exception:
    """A refusal of the request itself (``{error: [{code, message}]}``) → ``move_refused``;
    any other error as it came (``forbidden``, ``api_rejected``)."""
    items = exc.body.get("error") if isinstance(exc.body, Mapping) else None
    if isinstance(exc, ForbiddenError) or not isinstance(items, list) or not items:
        return exc
    messages = "; ".join(message for _, message in map(_problem, items))
    return RowFailure(
        Reason.MOVE_REFUSED,
        f"the move-users job refuses to move {where}: {messages} [tracking id {exc.tracking_id}]",
        remote_id=person_id,
    )


async def _read_job(ctx: ActionContext, job_id: str, *, missing_ok: bool = False) -> Item | None:
    """``GET …/moveLocation/{jobId}``; None for a job Webex does not know (with ``missing_ok``)."""
    try:
        response = await ctx.client.request("GET", f"{JOBS_PATH}/{job_id}", params=ctx.query())
    except ApiError as exc:
        if missing_ok and exc.status == 404:
            return None
        raise
    return dict(response.body) if isinstance(response.body, Mapping) else {}


async def _poll(ctx: ActionContext, job_id: str) -> Item:
    """Read the job every ``move_poll_interval`` s until it ends (at most ``move_wait`` s)."""
    tries = _tries(ctx)
    status = ""
    for attempt in range(tries):
        job = await _read_job(ctx, job_id)
        assert job is not None  # without missing_ok a 404 raises
        status = str(job.get("latestExecutionStatus") or "")
        if status in ENDED:
            return job
        if attempt + 1 < tries:
            await ctx.sleep(ctx.settings.move_poll_interval)
    raise RowFailure(
        Reason.RETRIES_EXHAUSTED,
        f"the move-users job {job_id} is still {status or 'running'} after "
        f"{ctx.settings.move_wait:g} s; the next run polls the same job",
    )


async def _job_errors(ctx: ActionContext, job_id: str, job: Mapping[str, Any]) -> str:
    """Why an ended job did not move the user ("" when it did)."""
    exit_code = str(job.get("latestExecutionExitCode") or "")
    if job.get("latestExecutionStatus") == "COMPLETED" and exit_code == "COMPLETED":
        return ""
    items = await ctx.list_every(f"{JOBS_PATH}/{job_id}/errors", {}, "items")
    messages = [_problem(entry)[1] for item in items for entry in _error_entries(item)]
    if messages:
        return "; ".join(messages)
    return f"the job ended {job.get('latestExecutionStatus')} ({exit_code or 'no exit code'})"


def _error_entries(item: Mapping[str, Any]) -> list[Any]:
    error = item.get("error")
    entries = error.get("message") if isinstance(error, Mapping) else None
    return list(entries) if isinstance(entries, list) else []
