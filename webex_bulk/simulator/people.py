"""People rules: create, full replace, delete and license changes of a person, with the calling
rules (a calling user needs a calling license, a calling-enabled location and a line).

Shared by the people and license routes and by the tenant-file loader; no HTTP here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from webex_bulk.simulator.errors import Code, bad_request, conflict
from webex_bulk.simulator.ids import PEOPLE
from webex_bulk.simulator.licensing import PERSON_CALLING
from webex_bulk.simulator.records import OWNER_PEOPLE, Line, Owner, Person
from webex_bulk.simulator.tenant import Tenant, timestamp


@attrs.frozen
class PersonDraft:
    """What a create or replace body asks for, already taken apart."""

    email: str
    display_name: str
    first_name: str = ""
    last_name: str = ""
    licenses: tuple[str, ...] = ()
    location_id: str = ""
    extension: str = ""
    number: str = ""
    optional: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class LicenseChange:
    """One entry of a ``PATCH /licenses/users`` body."""

    license_id: str
    operation: str = "add"
    location_id: str = ""
    extension: str = ""
    number: str = ""


def create_person(tenant: Tenant, draft: PersonDraft, hidden_until: float = 0.0) -> Person:
    """Create a person (and its calling line); every rule is checked before anything changes."""
    if draft.email in tenant.person_by_email:
        raise conflict(f"A user with email {draft.email} already exists.", Code.EMAIL_IN_USE)
    person_id = tenant.mint.id(PEOPLE)
    owner = Owner(OWNER_PEOPLE, person_id)
    licenses = _licenses_to_take(tenant, draft.licenses, ())
    line = _calling_line(tenant, owner, draft, licenses, None)
    now = timestamp()
    person = Person(
        id=person_id,
        email=draft.email,
        display_name=draft.display_name,
        created=now,
        modified=now,
        first_name=draft.first_name,
        last_name=draft.last_name,
        licenses=licenses,
        line=line,
        other_numbers=_directory_numbers(draft, line),
        optional=draft.optional,
    )
    tenant.people.add(person_id, person, hidden_until)
    tenant.person_by_email[draft.email] = person_id
    tenant.licenses.take(licenses)
    if line is not None:
        tenant.lines.assign(owner, line)
    return person


def replace_person(tenant: Tenant, person: Person, draft: PersonDraft) -> Person:
    """Full replace: fields the draft leaves empty are cleared, licenses not listed are removed."""
    email = draft.email or person.email
    if email != person.email and email in tenant.person_by_email:
        raise conflict(f"A user with email {email} already exists.", Code.EMAIL_IN_USE)
    owner = Owner(OWNER_PEOPLE, person.id)
    licenses = _licenses_to_take(tenant, draft.licenses, person.licenses)
    line = _calling_line(tenant, owner, draft, licenses, person.line)
    added = [lic for lic in licenses if lic not in person.licenses]
    removed = [lic for lic in person.licenses if lic not in licenses]
    updated = attrs.evolve(
        person,
        email=email,
        display_name=draft.display_name,
        modified=timestamp(),
        first_name=draft.first_name,
        last_name=draft.last_name,
        licenses=licenses,
        line=line,
        other_numbers=_directory_numbers(draft, line),
        optional=draft.optional,
    )
    tenant.lines.move(owner, person.line, line)
    if line is None:
        tenant.call_settings.pop(person.id, None)
    tenant.licenses.give_back(removed)
    tenant.licenses.take(added)
    if email != person.email:
        del tenant.person_by_email[person.email]
        tenant.person_by_email[email] = person.id
    tenant.people.replace(person.id, updated)
    return updated


def delete_person(tenant: Tenant, person: Person) -> None:
    """Delete a person: free its line and licenses, drop its devices and agent memberships."""
    owner = Owner(OWNER_PEOPLE, person.id)
    tenant.lines.release(owner, person.line)
    tenant.licenses.give_back(person.licenses)
    del tenant.person_by_email[person.email]
    tenant.people.remove(person.id)
    drop_member_everywhere(tenant, owner)


def change_licenses(
    tenant: Tenant, person: Person, changes: list[LicenseChange]
) -> tuple[Person, bool]:
    """Apply a license PATCH; returns the person and whether some license was not assigned.

    A request error (unknown license, bad calling properties) refuses the whole request; an
    exhausted license is skipped, which makes the answer partial (206), or 400 when nothing at
    all could be done. A new calling license replaces the calling license the person held.
    """
    held = list(person.licenses)
    line = person.line
    skipped = 0
    for change in changes:
        license = tenant.licenses.require(change.license_id)
        if change.operation == "remove":
            held = [lic for lic in held if lic != change.license_id]
        elif change.license_id in held:
            continue
        elif tenant.licenses.free(change.license_id) <= 0:
            skipped += 1
        else:
            if license.kind in PERSON_CALLING:
                held = [lic for lic in held if tenant.licenses.kind(lic) not in PERSON_CALLING]
                if line is None:
                    line = Line(change.location_id, change.extension, change.number)
            held.append(change.license_id)
    if skipped == len(changes):
        tenant.licenses.check_free(change.license_id for change in changes)
    calling = tenant.licenses.calling_license(held, PERSON_CALLING)
    directory = person.other_numbers[0]["value"] if person.other_numbers else ""
    draft = PersonDraft(
        email=person.email,
        display_name=person.display_name,
        first_name=person.first_name,
        last_name=person.last_name,
        licenses=tuple(held),
        location_id=line.location_id if calling and line else "",
        extension=line.extension if calling and line else "",
        number=line.number if calling and line else directory,
        optional=person.optional,
    )
    return replace_person(tenant, person, draft), skipped > 0


def drop_member_everywhere(tenant: Tenant, member: Owner) -> None:
    """Remove a deleted person, workspace or virtual line from every member list (agents,
    targets, paging originators) and delete its devices and call settings."""
    tenant.call_settings.pop(member.id, None)
    for collection in tenant.features.values():
        for feature in list(collection.values()):
            agents = tuple(agent for agent in feature.agents if agent.id != member.id)
            originators = feature.settings.get("originators")
            if originators and member.id in originators:
                kept = [item for item in originators if item != member.id]
                feature = attrs.evolve(feature, settings={**feature.settings, "originators": kept})
                collection.replace(feature.id, feature)
            if len(agents) != len(feature.agents):
                collection.replace(feature.id, attrs.evolve(feature, agents=agents))
    for device in [device for device in tenant.devices.values() if device.owner == member]:
        tenant.devices.remove(device.id)
        tenant.device_by_mac.pop(device.mac, None)


def _licenses_to_take(
    tenant: Tenant, asked: tuple[str, ...], held: tuple[str, ...]
) -> tuple[str, ...]:
    """The licenses a person will hold: unknown ids are refused, exhausted non-calling licenses
    are skipped silently (as Webex does), an exhausted calling license is refused."""
    result: list[str] = []
    for license_id in dict.fromkeys(asked):
        license = tenant.licenses.require(license_id)
        if license.kind and license.kind not in PERSON_CALLING:
            raise bad_request(f"License {license.name} cannot be assigned to a user.")
        if license_id in held or tenant.licenses.free(license_id) > 0:
            result.append(license_id)
        elif license.kind:
            tenant.licenses.check_free([license_id])
    if sum(tenant.licenses.kind(lic) in PERSON_CALLING for lic in result) > 1:
        raise bad_request("A user can hold only one Webex Calling license.", Code.INVALID_VALUE)
    return tuple(result)


def _calling_line(
    tenant: Tenant, owner: Owner, draft: PersonDraft, licenses: tuple[str, ...], held: Line | None
) -> Line | None:
    """The checked line of a calling user, or None for a user without a calling license."""
    if not tenant.licenses.calling_license(licenses, PERSON_CALLING):
        if draft.extension or draft.location_id:
            raise bad_request(
                "An extension or a location needs a Webex Calling license.",
                Code.CALLING_LICENSE_REQUIRED,
            )
        return None
    location_id = draft.location_id or (held.location_id if held else "")
    if not location_id and draft.number:
        record = tenant.lines.numbers.get(draft.number)
        location_id = record.location_id if record else ""
    if not location_id:
        raise bad_request("locationId is required to assign a Webex Calling license.")
    if held is not None and held.location_id != location_id:
        raise bad_request(
            "The location of a calling user cannot be changed here; use the move users job.",
            Code.LOCATION_CHANGE,
        )
    location = tenant.locations.get(location_id)
    if location is None:
        raise bad_request(f"Invalid locationId {location_id}.", Code.INVALID_VALUE)
    line = Line(location_id, draft.extension, draft.number)
    tenant.lines.check(owner, line, location)
    return line


def _directory_numbers(draft: PersonDraft, line: Line | None) -> tuple[Mapping[str, Any], ...]:
    """A number given to a user without calling is kept as a plain directory number."""
    if line is None and draft.number:
        return ({"type": "work", "value": draft.number},)
    return ()


def person_json(
    tenant: Tenant, person: Person, calling: bool, now: float = math.inf
) -> dict[str, Any]:
    """A person as the People API shows it; calling details only with ``callingData=true``.
    A calling user's SIP address shows from ``tenant.sip_ready`` on (at once when not set)."""
    body: dict[str, Any] = {
        "id": person.id,
        "emails": [person.email],
        "phoneNumbers": _phone_numbers(tenant, person, calling),
        "displayName": person.display_name,
        "orgId": tenant.org.id,
        "roles": [],
        "licenses": list(person.licenses),
        "created": person.created,
        "lastModified": person.modified,
        "type": "person",
    }
    if person.first_name:
        body["firstName"] = person.first_name
        body["nickName"] = person.first_name
    if person.last_name:
        body["lastName"] = person.last_name
    body.update(person.optional)
    if person.line is not None and tenant.sip_ready.get(person.id, -math.inf) <= now:
        local = person.email.partition("@")[0]
        address = f"{local}@{tenant.sip_domain}"
        body["sipAddresses"] = [{"type": "cloud-calling", "value": address, "primary": True}]
    if calling and person.line is not None:
        if person.line.extension:
            body["extension"] = person.line.extension
        body["locationId"] = person.line.location_id
    return body


def _phone_numbers(tenant: Tenant, person: Person, calling: bool) -> list[Mapping[str, Any]]:
    line = person.line
    numbers: list[Mapping[str, Any]] = list(person.other_numbers)
    if line is None:
        return numbers
    if line.number:
        numbers.append({"type": "work", "value": line.number, "primary": True})
    location = tenant.locations.get(line.location_id)
    if calling and line.extension and location is not None and location.routing_prefix:
        numbers.append(
            {"type": "work_extension", "value": location.routing_prefix + line.extension}
        )
    return numbers
