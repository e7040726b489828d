"""Pagination: RFC 8288 Link parsing, cursor next links (restored filters, no max=null),
telephony start/max offsets, and the guards against foreign hosts and loops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from support import BASE, FakeClock, make_client
from yarl import URL

from webex_bulk.error_handling import ApiError
from webex_bulk.http import WebexClient
from webex_bulk.http.pagination import parse_link_header, repair_next_link

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def clock() -> FakeClock:
    """The fake clock the client reads and sleeps on."""
    return FakeClock()


async def every_item(client: WebexClient, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list, page after page."""
    found: list[dict[str, Any]] = []
    async for page in client.pages(path, **kwargs):
        found.extend(page)
    return found


# -- Link header parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (['<https://h/v1/p?after=1>; rel="next"'], "https://h/v1/p?after=1"),
        (['<https://h/v1/p?start=2>;rel="next"'], "https://h/v1/p?start=2"),
        (["<https://h/v1/p?a=1>; rel=next"], "https://h/v1/p?a=1"),
        (['<https://h/p?x=0>; rel="prev", <https://h/p?x=2>; rel="next"'], "https://h/p?x=2"),
        (['<https://h/p?x=2>; rel="next last"'], "https://h/p?x=2"),
        (['<https://h/p?ids=1,2>; rel="next"'], "https://h/p?ids=1,2"),
        (['<https://h/p?x=0>; rel="first"', '<https://h/p?x=9>; rel="next"'], "https://h/p?x=9"),
        (['<https://h/p?x=1>; title="a, b; c"; rel="next"'], "https://h/p?x=1"),
        (['  <https://h/p?x=1>  ;  REL = "Next"  '], "https://h/p?x=1"),
    ],
)
def test_link_header_variants(values: list[str], expected: str) -> None:
    """The next target is found in every spelling the API has been seen to use."""
    assert parse_link_header(values)["next"] == expected


@pytest.mark.parametrize(
    "value", ["", "garbage", '<https://h/p>; rel="prev"', "https://h/p; rel=next"]
)
def test_link_header_without_next(value: str) -> None:
    """Headers with no usable next link give no next."""
    assert "next" not in parse_link_header([value])


def test_repair_drops_max_null_and_restores_filters() -> None:
    """max=null goes, dropped filters come back, paging keys of the first request do not."""
    current = URL("https://h/v1/people?displayName=Ann&max=50&start=0")
    filters = [("displayName", "Ann"), ("max", "50"), ("start", "0")]
    following = repair_next_link("https://h/v1/people?max=null&after=Y2lz%2B", current, filters)
    assert following.raw_query_string == "after=Y2lz%2B&displayName=Ann&max=50"


def test_repair_keeps_a_complete_link_verbatim() -> None:
    """A next link that lost nothing keeps its query, cursor encoding included."""
    current = URL("https://h/v1/people?email=a%40b.c")
    link = "https://h/v1/people?email=a%40b.c&after=x+y%2Bz"
    following = repair_next_link(link, current, [("email", "a@b.c")])
    assert following.raw_query_string == "email=a@b.c&after=x+y%2Bz"
    assert following.query["after"] == "x y+z"


# -- following pages -------------------------------------------------------------------------


async def test_cursor_pages_restore_dropped_filters(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A next link without the filter and with max=null is requested with the filter and max."""
    first = f"{BASE}/people?displayName=Ann&max=2"
    nxt = f"{BASE}/people?max=null&cursor=c2"
    mocked.get(
        first, payload={"items": [{"id": 1}, {"id": 2}]}, headers={"Link": f'<{nxt}>; rel="next"'}
    )
    mocked.get(f"{BASE}/people?cursor=c2&displayName=Ann&max=2", payload={"items": [{"id": 3}]})
    client = make_client(session, clock)
    items = await every_item(client, "/people", params={"displayName": "Ann", "max": 2})
    assert [i["id"] for i in items] == [1, 2, 3]
    assert client.stats.requests == 2


async def test_telephony_offsets_while_pages_are_full(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Without Link, start advances by the page length while a page of `max` comes back full."""
    path = f"{BASE}/telephony/config/numbers"
    mocked.get(f"{path}?max=2&locationId=L", payload={"phoneNumbers": [{"n": 1}, {"n": 2}]})
    mocked.get(f"{path}?max=2&locationId=L&start=2", payload={"phoneNumbers": [{"n": 3}, {"n": 4}]})
    mocked.get(f"{path}?max=2&locationId=L&start=4", payload={"phoneNumbers": [{"n": 5}]})
    client = make_client(session, clock)
    pages = [
        page
        async for page in client.pages(
            "/telephony/config/numbers",
            params={"locationId": "L", "max": 2},
            items_key="phoneNumbers",
        )
    ]
    assert [[i["n"] for i in page] for page in pages] == [[1, 2], [3, 4], [5]]
    assert client.stats.requests == 3


async def test_a_full_last_page_costs_one_empty_page(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """When the last page is exactly full, one more (empty) page ends the list."""
    path = f"{BASE}/telephony/config/locations"
    mocked.get(f"{path}?max=2", payload={"locations": [{"n": 1}, {"n": 2}]})
    mocked.get(f"{path}?max=2&start=2", payload={"locations": []})
    client = make_client(session, clock)
    items = await every_item(
        client, "/telephony/config/locations", params={"max": 2}, items_key="locations"
    )
    assert len(items) == 2
    assert client.stats.requests == 2


async def test_offsets_are_only_for_telephony_lists(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A full page of a cursor-style list without a next link is its last page: no start=."""
    mocked.get(f"{BASE}/people?max=2", payload={"items": [{"id": 1}, {"id": 2}]})
    client = make_client(session, clock)
    assert len(await every_item(client, "/people", params={"max": 2})) == 2
    assert client.stats.requests == 1


async def test_an_endpoint_ignoring_start_does_not_repeat_items(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """If the next offset returns the same page again, the list ends without duplicates."""
    path = f"{BASE}/telephony/config/queues"
    page = {"queues": [{"id": "q1"}, {"id": "q2"}]}
    mocked.get(f"{path}?max=2", payload=page)
    mocked.get(f"{path}?max=2&start=2", payload=page)
    client = make_client(session, clock)
    items = await every_item(
        client, "/telephony/config/queues", params={"max": 2}, items_key="queues"
    )
    assert [i["id"] for i in items] == ["q1", "q2"]
    assert client.stats.requests == 2


async def test_without_link_or_max_one_page_is_all(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A list answer without Link and without a requested max is a single page."""
    mocked.get(f"{BASE}/licenses", payload={"items": [{"id": "a"}]})
    client = make_client(session, clock)
    assert await every_item(client, "/licenses") == [{"id": "a"}]
    assert client.stats.requests == 1


async def test_relative_next_links_resolve_on_the_api_host(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A next link given as a path is followed on the API host."""
    mocked.get(
        f"{BASE}/devices",
        payload={"items": [1]},
        headers={"Link": '</v1/devices?start=1>;rel="next"'},
    )
    mocked.get(f"{BASE}/devices?start=1", payload={"items": [2]})
    client = make_client(session, clock)
    assert await every_item(client, "/devices") == [1, 2]


async def test_a_next_link_to_another_host_is_refused(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A next link to another host raises ApiError and the token is never sent there."""
    link = '<https://evil.example/v1/people?after=x>; rel="next"'
    mocked.get(f"{BASE}/people", payload={"items": [1]}, headers={"Link": link})
    client = make_client(session, clock)
    with pytest.raises(ApiError, match="another host"):
        await every_item(client, "/people")
    assert all(url.host == "api.test" for _, url in mocked.requests)


async def test_a_repeating_next_link_stops_the_list(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A next link pointing back at a page already read ends the list instead of looping."""
    link = f'<{BASE}/people>; rel="next"'
    mocked.get(f"{BASE}/people", payload={"items": [1]}, headers={"Link": link}, repeat=True)
    client = make_client(session, clock)
    assert await every_item(client, "/people") == [1]
    assert client.stats.requests == 1


async def test_a_missing_items_key_is_an_empty_page(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """An answer that leaves the (empty) list out yields no items."""
    mocked.get(f"{BASE}/telephony/config/huntGroups", payload={})
    client = make_client(session, clock)
    assert await every_item(client, "/telephony/config/huntGroups", items_key="huntGroups") == []


async def test_a_non_list_under_the_items_key_is_an_error(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A list answer whose items are not a list raises ApiError instead of guessing."""
    mocked.get(f"{BASE}/people", payload={"items": {"id": 1}})
    with pytest.raises(ApiError, match="no list"):
        await every_item(make_client(session, clock), "/people")
