"""The benchmark's rows and tenants: a users-only file every client can run, a mixed file of every
entity type for the engine, a post-LDAP file for people synced from a directory, and the simulator
tenants they start from (empty, provisioned, or synced people without calling).

Deterministic: the same size gives the same bytes, so every client runs the very same rows.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SITES = 10
EMAIL_DOMAIN = "bench.example.com"
FIRST_EXTENSION = 100_000
PROFESSIONAL = "Webex Calling - Professional"
USER_COLUMNS = ("entity_type", "email", "first_name", "last_name", "location", "extension")
#: A post-LDAP row leaves identity to the directory: no names, only where and which line.
POST_LDAP_COLUMNS = ("entity_type", "email", "location", "extension")
NUMBERS_BATCH = 50
MIXED_COLUMNS = (
    "entity_type",
    "name",
    "display_name",
    "email",
    "first_name",
    "last_name",
    "location",
    "extension",
    "phone_number",
    "members",
    "policy",
    "business_schedule",
    "hours",
    "state",
    "time_zone",
    "address1",
    "city",
    "postal_code",
    "country",
    "mac",
    "model",
    "owner",
)
#: Shares of a mixed file, per 1,000 rows (the rest are users).
MIXED_SHARES = {
    "location": 10,
    "schedule": 10,
    "number": 100,
    "workspace": 100,
    "hunt_group": 10,
    "call_queue": 10,
    "auto_attendant": 10,
    "device": 100,
}


def site(index: int) -> str:
    """The name of the ``index``-th location."""
    return f"Site {index:03d}"


def user(index: int, sites: int = SITES) -> dict[str, str]:
    """The ``index``-th user row (extension only, spread over ``sites`` locations)."""
    return {
        "entity_type": "user",
        "email": f"user{index:06d}@{EMAIL_DOMAIN}",
        "first_name": "User",
        "last_name": f"N{index:06d}",
        "location": site(index % sites),
        "extension": str(FIRST_EXTENSION + index),
    }


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterator[dict[str, str]]) -> int:
    """Write rows under ``columns``; the number of rows written."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        table = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise")
        table.writeheader()
        for row in rows:
            table.writerow(row)
            count += 1
    return count


def users_file(path: Path, count: int) -> Path:
    """A users-only file of ``count`` calling users: the rows every client imports."""
    write_csv(path, USER_COLUMNS, (user(i) for i in range(count)))
    return path


def users_tenant(path: Path, count: int, *, provisioned: bool) -> Path:
    """The tenant of the users workload: calling locations, and the users themselves when
    ``provisioned`` (the state a finished import leaves, for the re-run)."""
    tenant: dict[str, Any] = {
        "licenses": [{"name": PROFESSIONAL, "code": "BCSTD", "total": max(100_000, 2 * count)}],
        "locations": [{"name": site(s), "calling": True} for s in range(SITES)],
    }
    if provisioned:
        tenant["people"] = [_person(user(i)) for i in range(count)]
    path.write_text(json.dumps(tenant), encoding="utf-8")
    return path


def _person(row: dict[str, str]) -> dict[str, Any]:
    return {
        "email": row["email"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "location": row["location"],
        "extension": row["extension"],
        "licenses": [PROFESSIONAL],
    }


def post_ldap_file(path: Path, count: int) -> Path:
    """The post-LDAP file: each synced person gets a location and an extension (and with them
    the default calling license); no names: the directory owns them, the rows leave them be."""
    columns = POST_LDAP_COLUMNS
    write_csv(path, columns, ({c: user(i)[c] for c in columns} for i in range(count)))
    return path


def synced_tenant(path: Path, count: int) -> Path:
    """Calling locations and ``count`` people as a directory sync leaves them: identity only,
    no calling license, no line."""
    people = [
        {k: v for k, v in _person(user(i)).items() if k in ("email", "firstName", "lastName")}
        for i in range(count)
    ]
    tenant = {
        "licenses": [{"name": PROFESSIONAL, "code": "BCSTD", "total": max(100_000, 2 * count)}],
        "locations": [{"name": site(s), "calling": True} for s in range(SITES)],
        "people": [{**person, "licenses": []} for person in people],
    }
    path.write_text(json.dumps(tenant), encoding="utf-8")
    return path


def empty_tenant(path: Path, count: int) -> Path:
    """A tenant with no location: the mixed file creates everything."""
    tenant = {
        "licenses": [
            {"name": PROFESSIONAL, "code": "BCSTD", "total": max(100_000, count)},
            {"name": "Webex Calling - Workspaces", "code": "BCWS", "total": max(10_000, count)},
        ]
    }
    path.write_text(json.dumps(tenant), encoding="utf-8")
    return path


def mixed_counts(total: int) -> dict[str, int]:
    """Rows per entity type of a mixed file of ``total`` rows."""
    counts = {kind: max(1, total * share // 1000) for kind, share in MIXED_SHARES.items()}
    counts["user"] = total - sum(counts.values())
    return counts


def mixed_minimum(counts: dict[str, int]) -> dict[str, float]:
    """The fewest requests per row a fresh import of a mixed file can cost, per entity type: its
    writes (``docs/actions_registry.md``, *Minimum requests per row*). Numbers are added 50 to
    a request per location."""
    locations = counts["location"]
    per_location = [
        counts["number"] // locations + (s < counts["number"] % locations) for s in range(locations)
    ]
    batches = sum(-(-n // NUMBERS_BATCH) for n in per_location)
    minimum = dict.fromkeys(counts, 1.0)
    minimum["location"] = 2.0  # create, then enable calling
    minimum["number"] = batches / counts["number"]
    return minimum


def mixed_file(path: Path, total: int) -> dict[str, int]:
    """A fresh-import file of every entity type; its rows per type."""
    counts = mixed_counts(total)
    write_csv(path, MIXED_COLUMNS, _mixed_rows(counts))
    return counts


def _mixed_rows(counts: dict[str, int]) -> Iterator[dict[str, str]]:
    locations = counts["location"]
    for index in range(locations):
        yield _location(index)
    for index in range(counts["schedule"]):
        yield {
            "entity_type": "schedule",
            "name": "Office Hours",
            "location": site(index % locations),
            "hours": "Mon-Fri 08:00-18:00",
        }
    for index in range(counts["number"]):
        yield {
            "entity_type": "number",
            "location": site(index % locations),
            "phone_number": _number(index),
        }
    for index in range(counts["user"]):
        row = user(index, locations)
        if index < counts["number"] // 2:
            row = {**row, "location": site(index % locations), "phone_number": _number(index)}
        yield row
    yield from _places_and_features(counts, locations)
    for index in range(counts["device"]):
        yield {
            "entity_type": "device",
            "mac": f"00:1B:54:{index >> 16 & 255:02X}:{index >> 8 & 255:02X}:{index & 255:02X}",
            "model": "DMS Cisco 8851",
            "owner": user(index, locations)["email"],
        }


def _places_and_features(counts: dict[str, int], locations: int) -> Iterator[dict[str, str]]:
    extension = 500_000
    for index in range(counts["workspace"]):
        extension += 1
        yield {
            "entity_type": "workspace",
            "display_name": f"Room {index:05d}",
            "location": site(index % locations),
            "extension": str(extension),
        }
    for kind in ("hunt_group", "call_queue", "auto_attendant"):
        for index in range(counts[kind]):
            extension += 1
            where = index % locations
            row = {
                "entity_type": kind,
                "name": f"{kind.replace('_', ' ').title()} {index:04d}",
                "location": site(where),
                "extension": str(extension),
            }
            if kind == "auto_attendant":
                row["business_schedule"] = "Office Hours"
            else:
                members = [user(where + locations * k, locations)["email"] for k in range(2)]
                row["members"] = ";".join(members)
            yield row


def _location(index: int) -> dict[str, str]:
    return {
        "entity_type": "location",
        "name": site(index),
        "time_zone": "America/New_York",
        "address1": f"{100 + index} Main Street",
        "city": "Raleigh",
        "state": "NC",
        "postal_code": "27601",
        "country": "US",
    }


def _number(index: int) -> str:
    """A valid, unique US number per index (Raleigh area code, exchanges 200-999)."""
    return f"+1919{200 + index // 10_000:03d}{index % 10_000:04d}"
