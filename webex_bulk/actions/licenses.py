"""The org's calling licenses: which license carries which calling kind, the units free, and the
units this run has reserved. The one license-matching rule, used by the run, ``plan`` and
preflight alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from webex_bulk.actions.compare import license_kind
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.ports import ApiClient
from webex_bulk.error_handling import Reason

LICENSES_PATH = "/licenses"


async def read_licenses(client: ApiClient, query: Mapping[str, Any]) -> LicensePool:
    """Every license of the org (``GET /licenses``, all pages) as a pool with nothing reserved."""
    items: list[Mapping[str, Any]] = []
    async for page in client.pages(LICENSES_PATH, params=query, items_key="items"):
        items.extend(page)
    return LicensePool(items)


class LicensePool:
    """The org's licenses and this run's reservations of their units."""

    def __init__(self, licenses: Iterable[Mapping[str, Any]]) -> None:
        self._licenses = list(licenses)
        self._reserved: dict[str, int] = {}

    def of_kind(self, *kinds: str) -> list[Mapping[str, Any]]:
        """The licenses of these calling kinds (``professional``, ``basic``, ``workspace``)."""
        return [lic for lic in self._licenses if license_kind(str(lic.get("name"))) in kinds]

    def ids_of_kind(self, *kinds: str) -> frozenset[str]:
        """Ids of the licenses of these calling kinds."""
        return frozenset(str(lic["id"]) for lic in self.of_kind(*kinds))

    def free(self, kind: str) -> int:
        """Units of this kind this run may still assign, over every license of the kind."""
        return sum(max(self._free(lic), 0) for lic in self.of_kind(kind))

    def pick(self, kind: str, *, reserve: bool) -> str:
        """A license of ``kind`` with a free unit (most free first); none →
        ``license_unavailable``. ``reserve`` takes the unit."""
        candidates = self.of_kind(kind)
        if not candidates:
            raise RowFailure(
                Reason.LICENSE_UNAVAILABLE, f"the org has no Webex Calling {kind} license"
            )
        best = max(candidates, key=self._free)
        if self._free(best) <= 0:
            raise RowFailure(
                Reason.LICENSE_UNAVAILABLE,
                f"no free unit of {best.get('name')!r} (total {best.get('totalUnits')})",
            )
        if reserve:
            self._reserved[str(best["id"])] = self._reserved.get(str(best["id"]), 0) + 1
        return str(best["id"])

    def release(self, license_id: str) -> None:
        """Give back a unit reserved by ``pick`` when the write certainly did not happen."""
        if self._reserved.get(license_id, 0) > 0:
            self._reserved[license_id] -= 1

    def _free(self, license: Mapping[str, Any]) -> int:
        """Units neither consumed in the tenant nor reserved by this run."""
        total = int(license.get("totalUnits") or 0)
        used = int(license.get("consumedUnits") or 0)
        return total - used - self._reserved.get(str(license.get("id")), 0)
