"""A seeded input file of every entity type, of any size, for the reliability suite.

Every valid row can succeed on an empty simulator tenant whatever the order of requests, so the
final outcome of each row depends on the file only (I4); a few rows are rejected before any API
call and a few are out of scope (pending), so all three outputs are exercised.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = (
    "entity_type",
    "name",
    "display_name",
    "email",
    "first_name",
    "last_name",
    "location",
    "extension",
    "phone_number",
    "department",
    "members",
    "policy",
    "queue_size",
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

#: Area codes of the locations' numbers (``+1 <area> 555 XXXX`` is a valid US number).
AREAS = ("408", "415", "650", "212", "312", "202", "718", "617", "303", "206")
MODELS = ("DMS Cisco 8851", "DMS Cisco 8845", "DMS Cisco 6821")


def _row(**cells: str) -> list[str]:
    return [cells.get(column, "") for column in HEADER]


def mixed_rows(total: int, seed: int = 0) -> list[list[str]]:
    """``total`` rows (at least 60): locations, numbers, schedules, users, workspaces, hunt
    groups, call queues, auto attendants, devices, rejected rows and out-of-scope rows."""
    assert total >= 60, "a mixed file needs at least 60 rows"
    sites = max(2, min(len(AREAS), total // 250))
    features = max(1, total // 200)  # per kind, spread over the sites
    devices = total // 12
    workspaces = total // 12
    rejected = max(3, total // 40)
    out_of_scope = max(2, total // 100)
    numbers = total // 10
    fixed = sites * 2 + features * 3 + devices + workspaces + rejected + out_of_scope + numbers
    users = total - fixed
    assert users > devices + features * 6, "too few rows for the users the others need"
    rows: list[list[str]] = []
    site_names = [f"Site {i:03d}" for i in range(sites)]
    for i, name in enumerate(site_names):
        rows.append(
            _row(
                entity_type="location",
                name=name,
                state="CA",
                time_zone="America/Los_Angeles",
                address1=f"{100 + i} Main Street",
                city="San Jose",
                postal_code="95134",
                country="US",
            )
        )
        rows.append(
            _row(
                entity_type="schedule",
                name="Office Hours",
                location=name,
                hours="Mon-Fri 08:00-18:00",
            )
        )

    def number(site: int, index: int) -> str:
        return f"+1{AREAS[site]}555{index:04d}"

    # Numbers go round-robin to the sites' inventories; every third user takes one of its site
    # (each number once in the whole file), the rest stay unassigned.
    by_site: list[list[str]] = [[] for _ in range(sites)]
    for index in range(numbers):
        site = index % sites
        by_site[site].append(number(site, index))
        rows.append(
            _row(entity_type="number", location=site_names[site], phone_number=by_site[site][-1])
        )
    free = [list(site_numbers) for site_numbers in by_site]
    user_emails: list[tuple[int, str]] = []
    for index in range(users):
        site = index % sites
        email = f"user{index:05d}@load.example.com"
        phone = free[site].pop() if index % 3 == 0 and free[site] else ""
        user_emails.append((site, email))
        rows.append(
            _row(
                entity_type="user",
                email=email,
                first_name="User",
                last_name=f"N{index:05d}",
                location=site_names[site],
                extension=str(100_000 + index),
                phone_number=phone,
                department=("Sales", "Support", "Finance", "IT")[index % 4],
            )
        )
    for index in range(workspaces):
        site = index % sites
        rows.append(
            _row(
                entity_type="workspace",
                display_name=f"Room {index:04d}",
                location=site_names[site],
                extension=str(300_000 + index),
            )
        )
    members_of = {site: [email for s, email in user_emails if s == site] for site in range(sites)}
    for index in range(features):
        site = index % sites
        name = site_names[site]
        pool = members_of[site]
        members = ";".join(pool[(index * 6) % len(pool) : (index * 6) % len(pool) + 3])
        rows.append(
            _row(
                entity_type="hunt_group",
                name=f"Hunt {index:03d}",
                location=name,
                extension=str(400_000 + index),
                members=members,
                policy="circular",
            )
        )
        rows.append(
            _row(
                entity_type="call_queue",
                name=f"Queue {index:03d}",
                location=name,
                extension=str(500_000 + index),
                members=members,
                policy="uniform",
                queue_size="10",
            )
        )
        rows.append(
            _row(
                entity_type="auto_attendant",
                name=f"Menu {index:03d}",
                location=name,
                extension=str(600_000 + index),
                business_schedule="Office Hours",
            )
        )
    for index in range(devices):
        _, owner = user_emails[index * 2 % len(user_emails)]
        rows.append(
            _row(
                entity_type="device",
                mac=f"0A1B{index:08X}",
                model=MODELS[index % len(MODELS)],
                owner=owner,
            )
        )
    for index in range(rejected):
        site = index % sites
        bad = (
            _row(
                entity_type="user",
                email=f"bad{index}@@x.example",
                first_name="B",
                last_name="R",
                location=site_names[site],
                extension=str(700_000 + index),
            ),
            _row(
                entity_type="user",
                email=f"badext{index}@load.example.com",
                first_name="B",
                last_name="R",
                location=site_names[site],
                extension=f"x{index}",
            ),
            _row(entity_type="device", mac=f"ZZ:{index:02d}", model=MODELS[0], owner="nobody"),
        )[index % 3]
        rows.append(bad)
    for index in range(out_of_scope):
        kind = ("trunk", "route_group")[index % 2]
        rows.append(_row(entity_type=kind, name=f"Manual {index:03d}", location=site_names[0]))
    assert len(rows) == total
    random.Random(f"mixed:{seed}").shuffle(rows)
    return rows


def write_mixed_file(path: Path, total: int, seed: int = 0) -> Path:
    """Write ``mixed_rows(total, seed)`` as a CSV at ``path``; returns ``path``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(mixed_rows(total, seed))
    return path
