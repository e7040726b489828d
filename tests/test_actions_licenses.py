"""Calling-license matching against the simulator: preflight's headroom and the run's
assignments come from one rule, so they agree on the same tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from test_actions_support import PROFESSIONAL, environment, paris_tenant, run_rows, user_row

from webex_bulk.engine.preflight import Level, check_licenses
from webex_bulk.error_handling import Reason, Status

#: A tenant whose Professional units sit under two spellings: the usual name with one unit
#: left, and an enterprise-agreement license with two. Matching the usual name alone sees one
#: free unit where the run can assign three.
SPLIT_PROFESSIONAL = [
    {"name": PROFESSIONAL, "code": "BCSTD", "total": 1},
    {"name": "Webex Calling Professional (Enterprise Agreement)", "code": "BCEA", "total": 2},
    {"name": "Messaging", "code": "MS", "total": 10},
]


async def test_preflight_counts_the_units_the_run_assigns(tmp_path: Path) -> None:
    """On a tenant with a calling license under an unusual name, preflight's free units are
    exactly the users the run then creates, and the rows beyond end license_unavailable."""
    async with environment(tmp_path, paris_tenant(licenses=SPLIT_PROFESSIONAL)) as env:
        checks = await check_licenses(env.client, {"professional": 4, "basic": 0}, None)
        check = next(c for c in checks if c.name == "professional licenses")
        assert check.level is Level.WARN
        assert "3 free for up to 4 user rows" in check.detail
        assert "Enterprise Agreement" in check.detail
        rows = [user_row(f"u{n}@example.com", line=n + 2, extension=f"10{n}") for n in range(4)]
        outcomes = await run_rows(env.context(), rows, workers=1)
        created = [o for o in outcomes if o.status is Status.SUCCESS]
        assert len(created) == 3
        assert [o.reason for o in outcomes if o.status is not Status.SUCCESS] == [
            Reason.LICENSE_UNAVAILABLE
        ]


async def test_preflight_without_a_license_of_the_kind_says_so(tmp_path: Path) -> None:
    """A kind the org has no license of reads as zero free units, named in the warning."""
    async with environment(tmp_path, paris_tenant(licenses=SPLIT_PROFESSIONAL)) as env:
        checks = await check_licenses(env.client, {"basic": 1, "professional": 0}, None)
        check = next(c for c in checks if c.name == "basic licenses")
        assert check.level is Level.WARN
        assert check.detail.startswith("no Webex Calling basic license: 0 free for up to 1")


class TwoPages:
    """A Webex whose license list comes in two pages, recording the query of the listing."""

    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    async def request(self, method: str, path: str, **_: Any) -> Any:
        """Preflight's license check lists only."""
        raise AssertionError(f"unexpected {method} {path}")

    async def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """One Professional license on each page."""
        assert path == "/licenses"
        self.params.append(dict(params or {}))
        for n in (1, 2):
            yield [{"id": f"P{n}", "name": PROFESSIONAL, "totalUnits": 5, "consumedUnits": 4}]


async def test_preflight_reads_every_page_of_licenses() -> None:
    """Licenses on a second page count too, and a partner's org id goes on the listing."""
    client = TwoPages()
    [check] = await check_licenses(client, {"professional": 2}, "ORG")
    assert check.level is Level.OK
    assert "2 free for up to 2 user rows" in check.detail
    assert client.params == [{"orgId": "ORG"}]
