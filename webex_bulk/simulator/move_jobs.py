"""The move-users job: which moves Webex refuses (and why), moving a calling user with its line
to another location, and jobs whose state follows the server's clock (STARTING, STARTED, then
COMPLETED) and that apply their moves when they complete. One job runs at a time. No HTTP here."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import attrs

from webex_bulk.simulator.errors import Code
from webex_bulk.simulator.records import OWNER_PEOPLE, Line, Owner, Person
from webex_bulk.simulator.tenant import Tenant

#: Share of a job's duration spent in STARTING before it shows STARTED.
STARTING_SHARE = 0.25


@attrs.frozen
class Move:
    """One user to move: to ``location_id``, optionally with a new extension and/or number."""

    user_id: str
    location_id: str
    extension: str = ""
    number: str = ""


@attrs.define
class MoveJob:
    """A move-users job: its moves, when it started and ends (server clock), and its outcome."""

    id: str
    instance_id: int
    tracking_id: str
    admin_id: str
    moves: tuple[Move, ...]
    started: float
    ends: float
    created_time: str
    end_time: str = ""
    done: bool = False
    errors: list[dict[str, Any]] = attrs.Factory(list)


def problems(tenant: Tenant, move: Move) -> list[dict[str, Any]]:
    """What stops this move, as ``{code, message}`` items (empty when it can go ahead)."""
    person = tenant.people.get(move.user_id)
    if person is None or person.line is None:
        return [_item(Code.MOVE_USER_NOT_FOUND, "User Not Found")]
    target = tenant.locations.get(move.location_id)
    if target is None or not target.calling:
        return [_item(Code.MOVE_LOCATION_NOT_FOUND, "Location Not Found")]
    line = person.line
    if line.location_id == target.id:
        return [_item(Code.MOVE_TARGET_SAME, "Target location is same as user's current location.")]
    found = []
    owner = Owner(OWNER_PEOPLE, person.id)
    extension = move.extension or line.extension
    holder = tenant.lines.extension_holder(target.id, extension) if extension else None
    if holder is not None and holder != owner:
        found.append(
            _item(
                Code.MOVE_EXTENSION_TAKEN,
                f"The extension is not available. It is already assigned to a user : {extension}",
            )
        )
    if move.number and move.number != line.number:
        record = tenant.lines.numbers.get(move.number)
        if record is None or record.location_id != target.id or record.owner is not None:
            found.append(
                _item(
                    Code.MOVE_NUMBER_UNAVAILABLE,
                    f"The phone number, {move.number}, is not available in the new group.",
                )
            )
    elif line.number:
        source = tenant.locations.get(line.location_id)
        if source is not None and source.main_number == line.number:
            found.append(_item(10030005, "Number is set as main number of the location"))
    return found


def impacts(tenant: Tenant, move: Move) -> list[dict[str, Any]]:
    """What the move changes besides the location, as ``{code, message}`` items."""
    person = tenant.people.get(move.user_id)
    found = [_item(19716, "Previously stored voice messages of the user are no longer available.")]
    if person is not None and person.line is not None and person.line.number and not move.number:
        found.append(
            _item(
                19717,
                "The primary number, alternate numbers or fax messaging number of the user are "
                f"assigned to the new group: {person.line.number}.",
            )
        )
    if person is not None and any(_memberships(tenant, person)):
        found.append(_item(19705, "User is removed from following group services."))
    return found


def apply(tenant: Tenant, move: Move) -> None:
    """Move the user (call ``problems`` first): its line goes to the new location, a kept number
    moves with it, and it leaves the features of its old location."""
    person = tenant.person(move.user_id)
    old = person.line
    assert old is not None
    owner = Owner(OWNER_PEOPLE, person.id)
    number = move.number or old.number
    new = Line(move.location_id, move.extension or old.extension, number)
    for feature in list(_memberships(tenant, person)):
        agents = tuple(agent for agent in feature.agents if agent.id != person.id)
        tenant.features[feature.kind].replace(feature.id, attrs.evolve(feature, agents=agents))
    tenant.lines.release(owner, old)
    if number and number == old.number:
        tenant.lines.relocate(number, move.location_id)
    tenant.lines.assign(owner, new)
    tenant.people.replace(person.id, attrs.evolve(person, line=new))


def _memberships(tenant: Tenant, person: Person) -> Iterator[Any]:
    location_id = person.line.location_id if person.line else ""
    for collection in tenant.features.values():
        for _, feature in collection.entries(group=location_id):
            if any(agent.id == person.id for agent in feature.agents):
                yield feature


def _item(code: int, message: str) -> dict[str, Any]:
    return {"code": int(code), "message": f"[Error {int(code)}] {message}"}


def _now_text() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class MoveJobs:
    """The org's move-users jobs, oldest first."""

    def __init__(self) -> None:
        self.jobs: dict[str, MoveJob] = {}
        self._instances = itertools.count(1)

    def running(self, now: float) -> MoveJob | None:
        """The job that has not completed yet, if any."""
        return next((job for job in self.jobs.values() if not job.done and now < job.ends), None)

    def start(
        self,
        job_id: str,
        tracking_id: str,
        admin_id: str,
        moves: tuple[Move, ...],
        now: float,
        seconds: float,
    ) -> MoveJob:
        """Register a job that completes ``seconds`` from ``now``."""
        job = MoveJob(
            id=job_id,
            instance_id=next(self._instances),
            tracking_id=tracking_id,
            admin_id=admin_id,
            moves=moves,
            started=now,
            ends=now + seconds,
            created_time=_now_text(),
        )
        self.jobs[job_id] = job
        return job

    def advance(self, tenant: Tenant, now: float) -> None:
        """Complete every job whose time has come: apply each move or record why it failed."""
        for job in self.jobs.values():
            if job.done or now < job.ends:
                continue
            for number, move in enumerate(job.moves, start=1):
                found = problems(tenant, move)
                if found:
                    job.errors.append({"itemNumber": number, "move": move, "errors": found})
                else:
                    apply(tenant, move)
            job.done = True
            job.end_time = _now_text()

    def status(self, job: MoveJob, now: float) -> tuple[str, str]:
        """``(latestExecutionStatus, latestExecutionExitCode)`` of a job at time ``now``."""
        if not job.done:
            elapsed = now - job.started
            starting = elapsed < (job.ends - job.started) * STARTING_SHARE
            return ("STARTING" if starting else "STARTED", "UNKNOWN")
        if len(job.errors) == len(job.moves):
            return ("FAILED", "FAILED")
        return ("COMPLETED", "COMPLETED_WITH_ERRORS" if job.errors else "COMPLETED")
