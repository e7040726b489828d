"""An input file with ``count`` objects of every entity type, all valid on an empty tenant.

Location ``i`` holds number ``i``, schedule ``i``, user ``i``, virtual line ``i``, workspace
``i``, hunt group ``i`` (members: the user, the workspace and the virtual line), call queue ``i``,
auto attendant ``i`` (on schedule ``i``), call park extension ``i``, call pickup ``i`` (the
workspace and the virtual line), paging group ``i`` (the user pages the workspace and the virtual
line), voicemail group ``i`` (with a passcode), call park ``i`` (the user and the virtual line;
recall to the hunt group for odd ``i``) and device ``i`` (owned by the user, or by the workspace
for odd ``i``). A few cells start with a spreadsheet formula character, so the export's escaping
is on the round trip.
"""

from __future__ import annotations

import csv
from pathlib import Path

from webex_bulk.input.schema import KNOWN_COLUMNS

AREAS = ("408", "415", "650", "212", "312", "202", "718", "617", "303", "206")
MODELS = ("DMS Cisco 8851", "DMS Cisco 8845", "DMS Cisco 6821")
POLICIES = ("circular", "regular", "simultaneous", "uniform", "weighted")


def _number(index: int) -> str:
    """A valid US number, distinct for every index below 100,000."""
    return f"+1 {AREAS[index // 10_000]} 555 {index % 10_000:04d}"


def every_type_rows(count: int) -> list[dict[str, str]]:
    """The rows, in phase order."""
    sites = [f"Site {i:05d}" for i in range(count)]
    rows: list[dict[str, str]] = []
    for i, site in enumerate(sites):
        rows.append(
            {
                "entity_type": "location",
                "name": site,
                "time_zone": "America/New_York" if i % 2 else "America/Los_Angeles",
                "address1": f"{100 + i} Main Street",
                "address2": "Floor 2" if i % 3 == 0 else "",
                "city": "Springfield",
                "state": "IL",
                "postal_code": f"{60000 + i % 9000}",
                "country": "US",
            }
        )
    rows += [
        {"entity_type": "number", "location": site, "phone_number": _number(i)}
        for i, site in enumerate(sites)
    ]
    rows += [
        {
            "entity_type": "schedule",
            "name": "Office Hours",
            "location": site,
            "hours": "mon-fri 08:00-18:00; sat 09:00-13:00" if i % 2 else "mon-sun 07:30-19:00",
        }
        for i, site in enumerate(sites)
    ]
    for i, site in enumerate(sites):
        rows.append(
            {
                "entity_type": "user",
                "email": f"user{i:05d}@example.com",
                "first_name": "Zoë" if i % 7 == 0 else "Alex",
                "last_name": f"Lee {i}",
                "location": site,
                "extension": "2001",
                "phone_number": _number(i),
                "license": "basic" if i % 5 == 0 else "professional",
                "department": "=SUM(A1)" if i == 0 else "Sales",
                "title": "@lead" if i == 0 else "Engineer",
            }
        )
    rows += [
        {
            "entity_type": "virtual_line",
            "display_name": "Night Line",
            "first_name": "Night",
            "last_name": f"Line {i}",
            "location": site,
            "extension": "2006",
        }
        for i, site in enumerate(sites)
    ]
    rows += [
        {"entity_type": "workspace", "display_name": "Lobby", "location": site, "extension": "2002"}
        for site in sites
    ]
    for i, site in enumerate(sites):
        members = f"user{i:05d}@example.com;Lobby;Night Line"
        rows.append(
            {
                "entity_type": "hunt_group",
                "name": "Sales",
                "location": site,
                "extension": "2003",
                "members": members,
                "policy": POLICIES[i % len(POLICIES)],
            }
        )
    for i, site in enumerate(sites):
        rows.append(
            {
                "entity_type": "call_queue",
                "name": "Support",
                "location": site,
                "extension": "2004",
                "members": f"user{i:05d}@example.com",
                "policy": "uniform" if i % 2 else "circular",
                "queue_size": str(5 + i % 20),
            }
        )
    rows += [
        {
            "entity_type": "auto_attendant",
            "name": "Main Menu",
            "location": site,
            "extension": "2005",
            "business_schedule": "Office Hours",
        }
        for site in sites
    ]
    rows += newer_feature_rows(sites)
    for i, site in enumerate(sites):
        workspace_owned = i % 2 == 1
        rows.append(
            {
                "entity_type": "device",
                "mac": f"001B54{i:06X}",
                "model": MODELS[i % len(MODELS)],
                "owner": "Lobby" if workspace_owned else f"user{i:05d}@example.com",
                "location": site if workspace_owned else "",
            }
        )
    return rows


def newer_feature_rows(sites: list[str]) -> list[dict[str, str]]:
    """Call park extensions, call pickups, paging groups, voicemail groups and call parks."""
    rows: list[dict[str, str]] = []
    for i, site in enumerate(sites):
        user = f"user{i:05d}@example.com"
        rows += [
            {
                "entity_type": "call_park_extension",
                "name": "Park 1",
                "location": site,
                "extension": "2007",
            },
            {
                "entity_type": "call_pickup",
                "name": "Pickup",
                "location": site,
                "members": "Lobby;Night Line",
            },
            {
                "entity_type": "paging_group",
                "name": "Paging",
                "location": site,
                "extension": "2008",
                "originators": user,
                "targets": "Lobby;Night Line",
            },
            {
                "entity_type": "voicemail_group",
                "name": "Voicemail",
                "location": site,
                "extension": "2009",
                "passcode": f"{740000 + i}",
                "notification_email": f"vm{i:05d}@example.com" if i % 2 else "",
            },
            {
                "entity_type": "call_park",
                "name": "Park",
                "location": site,
                "members": f"{user};Night Line",
                "recall": "hunt_group_only" if i % 2 else "parking_user_only",
                "recall_hunt_group": "Sales" if i % 2 else "",
                "park_extensions": "Park 1",
            },
        ]
    return rows


def write_every_type(path: Path, count: int) -> Path:
    """Write the file (every known column, in template order)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        table = csv.DictWriter(handle, fieldnames=list(KNOWN_COLUMNS))
        table.writeheader()
        for row in every_type_rows(count):
            table.writerow(row)
    return path
