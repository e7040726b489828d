"""A rejected reference names a near match the run knows ("did you mean"); simulator-backed."""

from __future__ import annotations

from pathlib import Path

from test_actions_support import (
    PARIS,
    environment,
    feature_row,
    paris_tenant,
    run_one,
    user_row,
)

from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType

ANN = {
    "email": "ann@example.com",
    "location": PARIS,
    "extension": "1111",
    "firstName": "Ann",
    "lastName": "Tester",
}


async def test_misspelt_location_suggests_the_known_one(tmp_path: Path) -> None:
    """A user of 'Paris HQQ' is rejected unknown_reference, suggesting the location the run saw."""
    tenant = paris_tenant(people=[ANN])
    async with environment(tmp_path, tenant) as env:
        ctx = env.context()
        await run_one(ctx, user_row("ann@example.com", extension="1111"))
        outcome = await run_one(ctx, user_row("bo@example.com", location="Paris HQQ", line=3))
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert outcome.detail.endswith(f"did you mean {PARIS!r}?")


async def test_misspelt_member_suggests_the_known_person(tmp_path: Path) -> None:
    """A hunt group member e-mail one letter off a known person names that person."""
    tenant = paris_tenant(people=[ANN])
    async with environment(tmp_path, tenant) as env:
        ctx = env.context()
        await run_one(ctx, user_row("ann@example.com", extension="1111"))
        row = feature_row(
            EntityType.HUNT_GROUP, "Sales", line=3, members=("anne@example.com",), extension="2001"
        )
        outcome = await run_one(ctx, row)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert outcome.detail.endswith("did you mean 'ann@example.com'?")


async def test_no_near_match_gives_no_suggestion(tmp_path: Path) -> None:
    """A location like nothing known is rejected without a guess."""
    async with environment(tmp_path, paris_tenant()) as env:
        outcome = await run_one(env.context(), user_row("bo@example.com", location="Atlantis"))
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "did you mean" not in outcome.detail
