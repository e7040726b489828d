"""Post-LDAP users against the simulator: people synced from the directory get a calling license,
a location and an extension in one request each and keep the directory's names, people not synced
yet wait without a request, and a line the license cannot set is still checked and corrected."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from test_actions_support import (
    BASIC,
    PARIS,
    PROFESSIONAL,
    environment,
    make_row,
    paris_tenant,
    route_count,
    run_rows,
    summary,
    writes,
)

from webex_bulk.models import EntityType, Row

SYNCED = 40
ABSENT = 10
NOT_SYNCED = "not synced from the directory yet; run again after the next sync"
PATCH = "PATCH /v1/licenses/users"
GET_ONE = "GET /v1/people/{personId}"
PUT_ONE = "PUT /v1/people/{personId}"
LICENSES = [
    {"name": PROFESSIONAL, "code": "BCSTD", "total": 1000},
    {"name": BASIC, "code": "BCBASIC", "total": 1000},
]


def synced(index: int) -> dict[str, Any]:
    """A person as a directory sync leaves them: identity only, no calling license, no line."""
    return {
        "email": f"synced{index:03d}@example.com",
        "firstName": "Synced",
        "lastName": f"N{index:03d}",
        "licenses": [],
    }


def post_ldap_row(index: int, extension: str) -> Row:
    """A post-LDAP row: e-mail, location and extension; identity stays the directory's."""
    values = {
        "email": f"synced{index:03d}@example.com",
        "location": PARIS,
        "extension": extension,
        "license": "professional",
    }
    return make_row(EntityType.USER, f"user:{values['email']}", values, index + 2)


def by_email(state: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The people of a state dump by e-mail."""
    return {p["email"]: p for p in state["people"]}


async def test_synced_people_cost_one_request_each(tmp_path: Path) -> None:
    """Each synced person costs one PATCH and no GET or PUT, ends with the row's license and
    line, and the re-run finds every row unchanged without a write."""
    tenant = paris_tenant(licenses=LICENSES, people=[synced(i) for i in range(SYNCED)])
    rows = [post_ldap_row(i, str(5000 + i)) for i in range(SYNCED)]
    async with environment(tmp_path, tenant) as env:
        outcomes = await run_rows(env.context(), rows)
        assert summary(outcomes) == [("success", "updated")] * SYNCED
        counts = await env.counts()
        assert route_count(counts, PATCH) == SYNCED
        assert route_count(counts, GET_ONE) == 0
        assert route_count(counts, PUT_ONE) == 0
        assert writes(counts) == SYNCED
        state = await env.state("people,locations")
        people = by_email(state)
        paris = next(loc for loc in state["locations"] if loc["name"] == PARIS)
        for index in range(SYNCED):
            person = people[f"synced{index:03d}@example.com"]
            assert (person["first_name"], person["last_name"]) == ("Synced", f"N{index:03d}")
            assert person["display_name"] == f"Synced N{index:03d}"
            assert person["line"]["extension"] == str(5000 + index)
            assert person["line"]["location_id"] == paris["id"]
            assert len(person["licenses"]) == 1
        await env.reset_counts()
        again = await run_rows(env.context(), rows)
        assert summary(again) == [("success", "unchanged")] * SYNCED
        assert writes(await env.counts()) == 0


async def test_people_not_synced_yet_wait_without_a_request_of_their_own(tmp_path: Path) -> None:
    """Nameless rows of people the directory has not synced end pending not_in_directory at the
    cost of no request (the listing answers), beside synced people at one PATCH each."""
    tenant = paris_tenant(licenses=LICENSES, people=[synced(i) for i in range(SYNCED)])
    rows = [post_ldap_row(i, str(5000 + i)) for i in range(SYNCED + ABSENT)]
    async with environment(tmp_path, tenant) as env:
        outcomes = await run_rows(env.context(), rows)
        counts = await env.counts()
    assert (
        summary(outcomes)
        == [("success", "updated")] * SYNCED + [("pending", "not_in_directory")] * ABSENT
    )
    assert {o.detail for o in outcomes[SYNCED:]} == {NOT_SYNCED}
    assert writes(counts) == route_count(counts, PATCH) == SYNCED
    assert route_count(counts, "GET /v1/people") <= 1  # the one listing page
    assert counts["total"] <= SYNCED + 3  # plus a page each of locations, people, licenses


async def test_a_line_the_license_cannot_set_is_checked_and_corrected(tmp_path: Path) -> None:
    """A person who already has a line keeps it through a license change, so the line is read
    back and the differing extension written: the PATCH answer alone is not trusted."""
    held = {
        **synced(0),
        "location": PARIS,
        "extension": "1111",
        "licenses": [BASIC],
    }
    tenant = paris_tenant(licenses=LICENSES, people=[held])
    async with environment(tmp_path, tenant) as env:
        [outcome] = await run_rows(env.context(), [post_ldap_row(0, "2222")])
        assert summary([outcome]) == [("success", "updated")]
        assert outcome.detail == "updated: license, extension"
        counts = await env.counts()
        assert route_count(counts, PATCH) == 1
        assert route_count(counts, GET_ONE) == 1
        assert route_count(counts, PUT_ONE) == 1
        person = by_email(await env.state("people"))["synced000@example.com"]
        assert person["line"]["extension"] == "2222"


async def test_a_line_changed_after_the_run_is_found_by_the_next_listing(tmp_path: Path) -> None:
    """The next run's inventory listing compares every field: an extension changed in the
    tenant after a post-LDAP run is found and written back."""
    tenant = paris_tenant(licenses=LICENSES, people=[synced(0)])
    rows = [post_ldap_row(0, "3000")]
    async with environment(tmp_path, tenant) as env:
        await run_rows(env.context(), rows)
        [changed] = await run_rows(env.context(), [post_ldap_row(0, "3001")])
        assert summary([changed]) == [("success", "updated")]
        await env.reset_counts()
        [back] = await run_rows(env.context(), rows)
        assert summary([back]) == [("success", "updated")]
        assert back.detail == "updated: extension"
        assert route_count(await env.counts(), PUT_ONE) == 1
        person = by_email(await env.state("people"))["synced000@example.com"]
        assert person["line"]["extension"] == "3000"
