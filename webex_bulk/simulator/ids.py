"""Webex ids: base64url (no padding) of ``ciscospark://us/<TYPE>/<uuid>``, from a seeded RNG."""

from __future__ import annotations

import base64
import binascii
import random
import uuid

#: The id types the simulator mints, by the name used in the decoded URI.
PEOPLE = "PEOPLE"
LOCATION = "LOCATION"
PLACE = "PLACE"
DEVICE = "DEVICE"
HUNT_GROUP = "HUNT_GROUP"
CALL_QUEUE = "CALL_QUEUE"
AUTO_ATTENDANT = "AUTO_ATTENDANT"
SCHEDULE = "SCHEDULE"
VIRTUAL_LINE = "VIRTUAL_LINE"
JOB = "JOB_ID"
SCHEDULE_EVENT = "SCHEDULE_EVENT"
LICENSE = "LICENSE"
ORGANIZATION = "ORGANIZATION"
TRUNK = "TRUNK"


def encode_id(kind: str, inner: str) -> str:
    """The public id of an object of type ``kind`` whose inner part is ``inner``."""
    raw = f"ciscospark://us/{kind}/{inner}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_id(public_id: str) -> tuple[str, str] | None:
    """``(TYPE, inner)`` of a public id, or None when it is not one."""
    try:
        text = base64.urlsafe_b64decode(public_id + "=" * (-len(public_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, rest = text.partition("://")
    parts = rest.split("/", 2)
    if prefix != "ciscospark" or len(parts) != 3:
        return None
    return parts[1], parts[2]


class IdMint:
    """Mints uuids and ids from its own seeded RNG, so a run with the same seed repeats them."""

    def __init__(self, seed: int, stream: str = "ids") -> None:
        self._rng = random.Random(f"{seed}:{stream}")

    def uuid(self) -> str:
        """A random (version 4) uuid drawn from the seeded RNG."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def id(self, kind: str) -> str:
        """A new public id of type ``kind``."""
        return encode_id(kind, self.uuid())

    def license_id(self, org_uuid: str, code: str) -> str:
        """A license id: ``ciscospark://us/LICENSE/<orgUuid>:<CODE>_<uuid>``."""
        return encode_id(LICENSE, f"{org_uuid}:{code}_{self.uuid()}")
