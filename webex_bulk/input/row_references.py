"""What a row names of other rows: the keys of the rows it needs first (its location, number,
members, schedule, owner). Pure: a row in, row keys out.
"""

from __future__ import annotations

from webex_bulk.models import EntityType, Row


def dependencies(row: Row) -> tuple[str, ...]:
    """The keys of the rows this row needs first: location, number, members, schedule, owner."""
    location = row.get("location").casefold()
    if row.entity_type is EntityType.LOCATION:
        return ()
    if row.entity_type is EntityType.DEVICE:
        return (reference_key(row.get("owner"), row.get("location")),)
    found = [f"location:{location}"]
    if row.get("phone_number") and row.entity_type is not EntityType.NUMBER:
        found.append(f"number:{row.get('phone_number')}")
    named = [*row.members]
    for column in ("originators", "targets"):
        named.extend(part for part in row.get(column).split(";") if part)
    for member in named:
        found.extend(member_keys(member, row.get("location")))
    if row.entity_type is EntityType.AUTO_ATTENDANT:
        found.append(f"schedule:{location}/{row.get('business_schedule').casefold()}")
    if row.entity_type is EntityType.CALL_PARK:
        if row.get("recall_hunt_group"):
            found.append(f"hunt_group:{location}/{row.get('recall_hunt_group').casefold()}")
        for extension in (part for part in row.get("park_extensions").split(";") if part):
            found.append(f"call_park_extension:{location}/{extension.casefold()}")
    return tuple(dict.fromkeys(found))


def reference_key(member: str, location: str) -> str:
    """The row key a member or device owner names: a user by e-mail, else a workspace of
    ``location``."""
    if "@" in member:
        return f"user:{member.lower()}"
    return f"workspace:{location.casefold()}/{member.casefold()}"


def member_keys(member: str, location: str) -> tuple[str, ...]:
    """The row keys a feature member may name: a user by e-mail, else a workspace or a virtual
    line of ``location`` (by display name)."""
    if "@" in member:
        return (reference_key(member, location),)
    place = f"{location.casefold()}/{member.casefold()}"
    return (f"workspace:{place}", f"virtual_line:{place}")
