"""License inventory and unit accounting: who consumes what, and refusing an exhausted license."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from webex_bulk.simulator.errors import ApiError, Code
from webex_bulk.simulator.records import License

PROFESSIONAL = "professional"
BASIC = "basic"
WORKSPACE = "workspace"
#: License kinds a person may use for calling, and those a workspace may use.
PERSON_CALLING = frozenset({PROFESSIONAL, BASIC})
WORKSPACE_CALLING = frozenset({WORKSPACE, PROFESSIONAL})


def kind_of(name: str) -> str:
    """The calling kind of a license, from its Webex name ("" for a non-calling license)."""
    lowered = name.lower()
    if "calling" not in lowered:
        return ""
    if "workspace" in lowered:
        return WORKSPACE
    if "professional" in lowered:
        return PROFESSIONAL
    return BASIC if "basic" in lowered else ""


class LicensePool:
    """The org's licenses with units consumed by users and by workspaces."""

    def __init__(self, licenses: Iterable[License]) -> None:
        self._licenses = {license.id: license for license in licenses}
        self._by_users = dict.fromkeys(self._licenses, 0)
        self._by_workspaces = dict.fromkeys(self._licenses, 0)

    def __iter__(self) -> Iterator[License]:
        return iter(self._licenses.values())

    def get(self, license_id: str) -> License | None:
        """The license with this id, or None."""
        return self._licenses.get(license_id)

    def require(self, license_id: str) -> License:
        """The license with this id; 400 when the org has no such license."""
        license = self._licenses.get(license_id)
        if license is None:
            raise ApiError(400, f"Invalid license id: {license_id}", Code.UNKNOWN_LICENSE)
        return license

    def kind(self, license_id: str) -> str:
        """The calling kind of a license ("" for non-calling or unknown licenses)."""
        license = self._licenses.get(license_id)
        return license.kind if license is not None else ""

    def free(self, license_id: str) -> int:
        """Units still available."""
        return self._licenses[license_id].total - self.consumed(license_id)

    def consumed(self, license_id: str) -> int:
        """Units in use by users and workspaces."""
        return self._by_users[license_id] + self._by_workspaces[license_id]

    def usage(self, license_id: str) -> tuple[int, int]:
        """``(consumedByUsers, consumedByWorkspaces)``."""
        return self._by_users[license_id], self._by_workspaces[license_id]

    def check_free(self, license_ids: Iterable[str]) -> None:
        """400 when any of these licenses has no unit left."""
        for license_id in license_ids:
            if self.free(license_id) <= 0:
                name = self._licenses[license_id].name
                raise ApiError(
                    400, f"No more licenses available for {name}.", Code.LICENSE_EXHAUSTED
                )

    def take(self, license_ids: Iterable[str], *, workspace: bool = False) -> None:
        """Consume one unit of each license (callers check availability first)."""
        counter = self._by_workspaces if workspace else self._by_users
        for license_id in license_ids:
            counter[license_id] += 1

    def give_back(self, license_ids: Iterable[str], *, workspace: bool = False) -> None:
        """Release one unit of each license."""
        counter = self._by_workspaces if workspace else self._by_users
        for license_id in license_ids:
            if license_id in counter and counter[license_id] > 0:
                counter[license_id] -= 1

    def calling_license(self, license_ids: Iterable[str], kinds: frozenset[str]) -> str:
        """The first of ``license_ids`` whose calling kind is in ``kinds``, or ""."""
        for license_id in license_ids:
            license = self._licenses.get(license_id)
            if license is not None and license.kind in kinds:
                return license_id
        return ""

    def first_free(self, kinds: frozenset[str]) -> str:
        """The oldest license of one of ``kinds`` with a free unit; 400 when there is none."""
        candidates = [lic for lic in self._licenses.values() if lic.kind in kinds]
        for license in candidates:
            if self.free(license.id) > 0:
                return license.id
        name = candidates[0].name if candidates else "Webex Calling - Workspaces"
        raise ApiError(400, f"No more licenses available for {name}.", Code.LICENSE_EXHAUSTED)
