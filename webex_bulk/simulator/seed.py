"""The starting tenant: the default org, or one described by a JSON tenant file (org, admin,
licenses, locations with their PSTN, numbers, people, virtual lines, synthetic people). Objects
go through the rules the API applies, so a file cannot describe an impossible tenant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from webex_bulk.simulator.config import PSTN_TYPES, ConfigError, SimConfig
from webex_bulk.simulator.errors import ApiError
from webex_bulk.simulator.ids import LOCATION, ORGANIZATION, IdMint, encode_id
from webex_bulk.simulator.licensing import kind_of
from webex_bulk.simulator.people import PersonDraft, create_person
from webex_bulk.simulator.records import Address, License, Line, Location, Org
from webex_bulk.simulator.tenant import Tenant, timestamp
from webex_bulk.simulator.virtual_lines import create_virtual_line

DEFAULT_LICENSES = (
    {"name": "Webex Calling - Professional", "code": "BCSTD", "total": 100_000},
    {"name": "Webex Calling - Basic", "code": "BCBASIC", "total": 100_000},
    {"name": "Webex Calling - Workspaces", "code": "BCWS", "total": 10_000},
    {"name": "Messaging", "code": "MS", "total": 100_000},
)
DEFAULT_ADMIN = {"email": "admin@example.com", "firstName": "Sim", "lastName": "Admin"}
DEFAULT_ADDRESS = {
    "address1": "100 Main Street",
    "city": "Springfield",
    "state": "IL",
    "postalCode": "62701",
    "country": "US",
}


class TenantFileError(ConfigError):
    """A tenant file that cannot be read or describes something the rules refuse."""


def build_tenant(config: SimConfig) -> Tenant:
    """The starting tenant of a simulator: from ``config.tenant_file``, or the default one."""
    spec: Mapping[str, Any] = {}
    if config.tenant_file:
        spec = read_tenant_file(config.tenant_file)
    mint = IdMint(config.seed)
    org_uuid = mint.uuid()
    org_name = str(spec.get("org", {}).get("name", "Simulated Webex Org"))
    org = Org(encode_id(ORGANIZATION, org_uuid), org_uuid, org_name, timestamp())
    try:
        tenant = Tenant(org, _licenses(mint, org_uuid, spec), mint)
        _add_admin(tenant, {**DEFAULT_ADMIN, **spec.get("admin", {})})
        for location in spec.get("locations", ()):
            _add_location(tenant, location, config.new_location_pstn)
        for number in spec.get("numbers", ()):
            _add_number(tenant, number)
        for person in spec.get("people", ()):
            _add_person(tenant, person)
        for virtual in spec.get("virtualLines", ()):
            _add_virtual_line(tenant, virtual)
        if "syntheticPeople" in spec:
            _add_synthetic_people(tenant, spec["syntheticPeople"])
    except TenantFileError:
        raise
    except ApiError as error:
        raise TenantFileError(f"tenant file refused: {error.description}") from error
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise TenantFileError(f"tenant file is malformed: {error!r}") from error
    return tenant


def _licenses(mint: IdMint, org_uuid: str, spec: Mapping[str, Any]) -> list[License]:
    licenses = []
    for item in spec.get("licenses", DEFAULT_LICENSES):
        name, code = str(item["name"]), str(item.get("code", "LIC"))
        license_id = mint.license_id(org_uuid, code)
        licenses.append(License(license_id, name, code, int(item.get("total", 0)), kind_of(name)))
    return licenses


def read_tenant_file(path: str | Path) -> dict[str, Any]:
    """Read and parse a tenant file (a JSON object)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise TenantFileError(f"cannot read tenant file {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise TenantFileError(f"tenant file {path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise TenantFileError(f"tenant file {path} must hold a JSON object")
    return data


def _add_admin(tenant: Tenant, spec: Mapping[str, Any]) -> None:
    first, last = str(spec.get("firstName", "")), str(spec.get("lastName", ""))
    draft = PersonDraft(
        email=str(spec["email"]).lower(),
        display_name=str(spec.get("displayName", f"{first} {last}".strip())),
        first_name=first,
        last_name=last,
    )
    tenant.admin_id = create_person(tenant, draft).id


def _add_location(tenant: Tenant, spec: Mapping[str, Any], default_pstn: str) -> None:
    pstn = str(spec.get("pstn", default_pstn))
    if pstn not in PSTN_TYPES:
        raise TenantFileError(f"location pstn must be one of {', '.join(PSTN_TYPES)}")
    address = {**DEFAULT_ADDRESS, **spec.get("address", {})}
    location = Location(
        id=encode_id(LOCATION, tenant.mint.uuid()),
        name=str(spec["name"]),
        time_zone=str(spec.get("timeZone", "America/Chicago")),
        preferred_language=str(spec.get("preferredLanguage", "en_us")),
        announcement_language=str(spec.get("announcementLanguage", "en_us")),
        address=Address(
            address1=str(address["address1"]),
            address2=str(address.get("address2", "")),
            city=str(address["city"]),
            state=str(address["state"]),
            postal_code=str(address["postalCode"]),
            country=str(address["country"]),
        ),
        created=timestamp(),
        calling=bool(spec.get("calling", True)),
        pstn=pstn,
        routing_prefix=str(spec.get("routingPrefix", "")),
    )
    if location.name in tenant.location_by_name:
        raise TenantFileError(f"location {location.name!r} is listed twice")
    tenant.locations.add(location.id, location)
    tenant.location_by_name[location.name] = location.id
    for number in spec.get("numbers", ()):
        _add_number(tenant, {"phoneNumber": number, "location": location.name})
    if spec.get("mainNumber"):
        main = str(spec["mainNumber"])
        if main not in tenant.lines.numbers:
            _add_number(tenant, {"phoneNumber": main, "location": location.name})
        _set_main(tenant, location, main)


def _location_id(tenant: Tenant, name: Any) -> str:
    try:
        return tenant.location_by_name[str(name)]
    except KeyError:
        raise TenantFileError(f"unknown location {name!r}") from None


def _add_number(tenant: Tenant, spec: Mapping[str, Any]) -> None:
    """Seeded numbers go straight into the inventory: the PSTN provider put them there."""
    location = tenant.locations.get(_location_id(tenant, spec["location"]))
    assert location is not None
    number = str(spec["phoneNumber"])
    state = str(spec.get("state", "ACTIVE")).upper()
    tenant.lines.add_numbers(location, [number], state, from_provider=True)
    if not location.main_number:
        _set_main(tenant, location, number)


def _set_main(tenant: Tenant, location: Location, number: str) -> None:
    current = tenant.locations.get(location.id)
    assert current is not None
    tenant.locations.replace(location.id, attrs.evolve(current, main_number=number))


def _license_ids(tenant: Tenant, names: Any) -> tuple[str, ...]:
    by_name = {lic.name: lic.id for lic in tenant.licenses}
    by_code = {lic.code: lic.id for lic in tenant.licenses}
    result = []
    for name in names:
        license_id = by_name.get(str(name)) or by_code.get(str(name))
        if license_id is None:
            raise TenantFileError(f"unknown license {name!r}")
        result.append(license_id)
    return tuple(result)


def _add_person(tenant: Tenant, spec: Mapping[str, Any]) -> None:
    location_id = _location_id(tenant, spec["location"]) if spec.get("location") else ""
    number = str(spec.get("phoneNumber", ""))
    if number and number not in tenant.lines.numbers and location_id:
        _add_number(tenant, {"phoneNumber": number, "location": spec["location"]})
    first, last = str(spec.get("firstName", "")), str(spec.get("lastName", ""))
    default_licenses = ["Webex Calling - Professional"] if location_id else []
    draft = PersonDraft(
        email=str(spec["email"]).lower(),
        display_name=str(spec.get("displayName", f"{first} {last}".strip())),
        first_name=first,
        last_name=last,
        licenses=_license_ids(tenant, spec.get("licenses", default_licenses)),
        location_id=location_id,
        extension=str(spec.get("extension", "")),
        number=number,
        optional={key: spec[key] for key in ("department", "title") if key in spec},
    )
    create_person(tenant, draft)


def _add_virtual_line(tenant: Tenant, spec: Mapping[str, Any]) -> None:
    location = tenant.locations.get(_location_id(tenant, spec["location"]))
    assert location is not None
    number = str(spec.get("phoneNumber", ""))
    if number and number not in tenant.lines.numbers:
        _add_number(tenant, {"phoneNumber": number, "location": spec["location"]})
    names = (str(spec["firstName"]), str(spec["lastName"]), str(spec.get("displayName", "")))
    line = Line(location.id, str(spec.get("extension", "")), number)
    create_virtual_line(tenant, location, names, line, {})


def _add_synthetic_people(tenant: Tenant, spec: Mapping[str, Any]) -> None:
    """``count`` calling users in ``location`` with consecutive extensions (and numbers)."""
    count = int(spec["count"])
    location = str(spec["location"])
    domain = str(spec.get("emailDomain", "load.example.com"))
    first_extension = int(spec.get("firstExtension", 100_000))
    first_number = int(str(spec["firstNumber"]).lstrip("+")) if spec.get("firstNumber") else 0
    license = spec.get("license", "Webex Calling - Professional")
    for index in range(count):
        person: dict[str, Any] = {
            "email": f"user{index:07d}@{domain}",
            "firstName": "User",
            "lastName": f"{index:07d}",
            "location": location,
            "extension": str(first_extension + index),
            "licenses": [license],
        }
        if first_number:
            person["phoneNumber"] = f"+{first_number + index}"
        _add_person(tenant, person)
