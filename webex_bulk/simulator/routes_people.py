"""People routes: list (cursor paging, filters, page caps), create, get, full-replace update and
delete of ``/v1/people``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web

from webex_bulk.simulator.answers import cursor_page, json_response, next_link, page_size
from webex_bulk.simulator.bodies import flag, read_json, require, text
from webex_bulk.simulator.errors import bad_request
from webex_bulk.simulator.people import (
    PersonDraft,
    create_person,
    delete_person,
    person_json,
    replace_person,
)
from webex_bulk.simulator.records import Person
from webex_bulk.simulator.runtime import simulator_of

routes = web.RouteTableDef()

DEFAULT_PAGE = 100
PAGE_CAP = 1000
CALLING_PAGE_CAP = 100
LOCATION_PAGE_CAP = 50
MAX_IDS = 85
#: Optional fields a full-replace PUT clears when the body leaves them out.
OPTIONAL_FIELDS = ("department", "title", "manager", "managerId", "avatar", "addresses", "siteUrls")


@routes.get("/v1/people")
async def list_people(request: web.Request) -> web.Response:
    """People by email, displayName prefix, ids or location; new people show after the lag."""
    sim = simulator_of(request)
    people = sim.tenant.people
    calling = flag(request, "callingData")
    location_id = request.query.get("locationId", "")
    cap = LOCATION_PAGE_CAP if location_id else CALLING_PAGE_CAP if calling else PAGE_CAP
    size = page_size(request, DEFAULT_PAGE, cap)
    ids = _id_filter(request.query.get("id", ""))
    email = request.query.get("email", "").strip().lower()
    prefix = request.query.get("displayName", "").casefold()
    now = sim.clock()

    def entries(after: int) -> Iterator[tuple[int, Person]]:
        if ids:
            return people.entries_of(ids, after)
        if email:
            return people.entries_of([sim.tenant.person_by_email.get(email, "")], after)
        return people.entries(after, group=location_id or None)

    def keep(person: Person) -> bool:
        return (
            people.visible(person.id, now)
            and (not prefix or person.display_name.casefold().startswith(prefix))
            and (
                not location_id
                or (person.line is not None and person.line.location_id == location_id)
            )
        )

    page, cursor = cursor_page(request, entries, keep, size)
    body: dict[str, Any] = {"items": [person_json(sim.tenant, p, calling, now) for p in page]}
    if ids:
        found = {person.id for person in page}
        missing = [person_id for person_id in ids if person_id not in found]
        if missing and cursor is None:
            body["notFoundIds"] = missing
    headers = None
    if cursor is not None:
        headers = next_link(
            request,
            {"cursor": cursor},
            drop_filters=sim.config.next_link_drops_filters,
            telephony=False,
        )
    return json_response(body, headers=headers)


def _id_filter(value: str) -> list[str]:
    ids = [part for part in value.split(",") if part]
    if len(ids) > MAX_IDS:
        raise bad_request(f"At most {MAX_IDS} ids can be listed at once.")
    return ids


@routes.post("/v1/people")
async def create_person_route(request: web.Request) -> web.Response:
    """Create a person (200), with its calling line when a calling license is given."""
    sim = simulator_of(request)
    body = await read_json(request)
    require(body, ("emails",))
    draft = person_draft(body)
    if not (body.get("displayName") or body.get("firstName") or body.get("lastName")):
        raise bad_request("One of displayName, firstName or lastName is required.")
    person = create_person(sim.tenant, draft, sim.hidden_until())
    sim.creates.record("people", person.email)
    now = sim.clock()
    if sim.config.sip_address_lag:
        sim.tenant.sip_ready[person.id] = now + sim.config.sip_address_lag
    if flag(request, "minResponse"):
        return json_response({"id": person.id})
    return json_response(person_json(sim.tenant, person, flag(request, "callingData"), now))


@routes.get("/v1/people/{personId}")
async def get_person(request: web.Request) -> web.Response:
    """One person by id (a bare uuid works too); no consistency lag here."""
    sim = simulator_of(request)
    person = sim.tenant.person(request.match_info["personId"])
    return json_response(person_json(sim.tenant, person, flag(request, "callingData"), sim.clock()))


@routes.put("/v1/people/{personId}")
async def update_person(request: web.Request) -> web.Response:
    """Full replace: optional fields, numbers, extension and licenses the body omits are cleared."""
    sim = simulator_of(request)
    body = await read_json(request)
    person = sim.tenant.person(request.match_info["personId"])
    require(body, ("displayName",))
    updated = replace_person(sim.tenant, person, person_draft(body))
    if flag(request, "minResponse"):
        return json_response({"id": updated.id})
    return json_response(
        person_json(sim.tenant, updated, flag(request, "callingData"), sim.clock())
    )


@routes.delete("/v1/people/{personId}")
async def delete_person_route(request: web.Request) -> web.Response:
    """Delete a person (204), freeing its licenses, line and devices."""
    sim = simulator_of(request)
    delete_person(sim.tenant, sim.tenant.person(request.match_info["personId"]))
    return web.Response(status=204)


def person_draft(body: dict[str, Any]) -> PersonDraft:
    """Take a create or replace body apart; only ``work`` numbers can be written."""
    emails = body.get("emails") or []
    if not isinstance(emails, list) or not all(isinstance(item, str) for item in emails):
        raise bad_request("emails must be a list of strings.")
    email = emails[0].strip().lower() if emails else ""
    if emails and ("@" not in email or email.startswith("@") or email.endswith("@")):
        raise bad_request(f"Invalid email address {emails[0]!r}.")
    numbers = body.get("phoneNumbers") or []
    if not isinstance(numbers, list):
        raise bad_request("phoneNumbers must be a list.")
    work = [
        item for item in numbers if isinstance(item, dict) and item.get("type", "work") == "work"
    ]
    first, last = text(body, "firstName"), text(body, "lastName")
    licenses = body.get("licenses") or []
    if not isinstance(licenses, list):
        raise bad_request("licenses must be a list of license ids.")
    return PersonDraft(
        email=email,
        display_name=text(body, "displayName") or f"{first} {last}".strip(),
        first_name=first,
        last_name=last,
        licenses=tuple(str(item) for item in licenses),
        location_id=text(body, "locationId"),
        extension=text(body, "extension"),
        number=text(work[0], "value") if work else "",
        optional={key: body[key] for key in OPTIONAL_FIELDS if body.get(key) not in (None, "", [])},
    )
