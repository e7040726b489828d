"""The request path with a mocked transport (aioresponses): request shape, classification,
retries, the global pause, the breaker and the retry budget, under a fake clock."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from support import BASE, TOKEN, WALL_EPOCH, FakeClock, make_client, sent
from yarl import URL

from webex_bulk.error_handling import (
    ApiError,
    ForbiddenError,
    RetriesExhausted,
    RunAborted,
    UnknownOutcome,
)
from webex_bulk.http import BreakerState

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def clock() -> FakeClock:
    """The fake clock the client reads and sleeps on (made inside the test's loop)."""
    return FakeClock()


# -- request shape ---------------------------------------------------------------------------


async def test_every_request_carries_bearer_and_tracking_id(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Authorization is the bearer token and TrackingID is WEBEX_BULK_<run-id>_<uuid>."""
    mocked.get(f"{BASE}/people/me", payload={"id": "me"})
    client = make_client(session, clock)
    response = await client.request("GET", "/people/me")
    headers = sent(mocked, "GET", f"{BASE}/people/me")[0].kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert re.fullmatch(r"WEBEX_BULK_run1_[0-9a-f-]{36}", headers["TrackingID"])
    assert response.tracking_id == headers["TrackingID"]
    assert response.body == {"id": "me"}


async def test_tracking_ids_differ_per_attempt(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A retried request sends a fresh TrackingID on each attempt."""
    mocked.get(f"{BASE}/x", status=503)
    mocked.get(f"{BASE}/x", payload={})
    await make_client(session, clock).request("GET", "/x")
    ids = [call.kwargs["headers"]["TrackingID"] for call in sent(mocked, "GET", f"{BASE}/x")]
    assert len(ids) == 2
    assert ids[0] != ids[1]


async def test_the_echoed_tracking_id_wins(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """The response's Trackingid header (even duplicated) is the response's tracking id."""
    mocked.get(f"{BASE}/x", payload={}, headers={"Trackingid": "ROUTER_abc, ROUTER_abc"})
    response = await make_client(session, clock).request("GET", "/x")
    assert response.tracking_id == "ROUTER_abc"


async def test_params_are_encoded_for_the_api(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Booleans become true/false and None values are left out of the query."""
    url = f"{BASE}/people?callingData=true&email=a%40b.com"
    mocked.get(url, payload={"items": []})
    params = {"email": "a@b.com", "callingData": True, "orgId": None}
    await make_client(session, clock).request("GET", "/people", params=params)
    assert len(sent(mocked, "GET", url)) == 1


async def test_json_and_form_bodies_are_sent_as_given(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """json= goes out as the JSON body, form= as the form body; writes are counted."""
    mocked.post(f"{BASE}/a", payload={"id": "1"}, status=201)
    mocked.put(f"{BASE}/b", status=204)
    client = make_client(session, clock)
    await client.request("POST", "/a", json={"name": "x"})
    await client.request("put", "/b", form={"k": "v"})
    assert sent(mocked, "POST", f"{BASE}/a")[0].kwargs["json"] == {"name": "x"}
    assert sent(mocked, "PUT", f"{BASE}/b")[0].kwargs["data"] == {"k": "v"}
    assert client.stats.writes == 2
    assert client.stats.requests == 2


# -- classification --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204, 206])
async def test_every_2xx_is_a_response(
    status: int, mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Any 2xx (206 partial content included) returns a Response with the parsed body."""
    body = "" if status == 204 else '{"failureReason": "x"}'
    mocked.put(f"{BASE}/x", status=status, body=body)
    response = await make_client(session, clock).request("PUT", "/x")
    assert response.status == status
    assert response.body == (None if status == 204 else {"failureReason": "x"})


async def test_4xx_is_an_api_error_with_the_webex_details(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 409 carries message, first description, errors[0] code, tracking id and body."""
    body = {
        "message": "Number already exists",
        "errors": [{"description": "[Error 8363] exists", "errorCode": 8363}],
        "trackingId": "ROUTER_1",
        "errorCode": 25223,
    }
    mocked.post(f"{BASE}/n", status=409, payload=body)
    client = make_client(session, clock)
    with pytest.raises(ApiError) as caught:
        await client.request("POST", "/n", json={})
    error = caught.value
    assert (error.status, error.error_code, error.tracking_id) == (409, 8363, "ROUTER_1")
    assert error.message == "Number already exists: [Error 8363] exists"
    assert error.body == body
    assert len(sent(mocked, "POST", f"{BASE}/n")) == 1


async def test_top_level_error_code_is_the_fallback(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Without errors[].errorCode the top-level errorCode is the code."""
    mocked.get(f"{BASE}/x", status=400, payload={"message": "bad", "errorCode": 25058})
    with pytest.raises(ApiError) as caught:
        await make_client(session, clock).request("GET", "/x")
    assert caught.value.error_code == 25058
    assert caught.value.message == "bad"


async def test_403_is_forbidden(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 403 raises ForbiddenError and is not retried."""
    mocked.get(f"{BASE}/x", status=403, payload={"message": "no scope"})
    with pytest.raises(ForbiddenError):
        await make_client(session, clock).request("GET", "/x")
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 1


async def test_error_without_json_body_still_has_a_message(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 404 with an HTML body gives an ApiError whose message is the start of that text."""
    mocked.get(f"{BASE}/x", status=404, body="<html>Not Found</html>")
    with pytest.raises(ApiError) as caught:
        await make_client(session, clock).request("GET", "/x")
    assert "Not Found" in caught.value.message
    assert caught.value.body is None


async def test_the_token_never_shows_in_errors_or_reprs(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """An error body echoing the token is scrubbed; the client's repr holds no secret."""
    mocked.get(f"{BASE}/x", status=400, payload={"message": f"bad token {TOKEN}"})
    client = make_client(session, clock)
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/x")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caught.value.message
    assert TOKEN not in repr(client)


async def test_a_get_whose_2xx_is_not_json_is_retried(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 200 with a body that is not JSON is a transient failure for a GET."""
    mocked.get(f"{BASE}/x", status=200, body="<html>proxy</html>")
    mocked.get(f"{BASE}/x", payload={"ok": True})
    response = await make_client(session, clock).request("GET", "/x")
    assert response.body == {"ok": True}


async def test_a_post_whose_2xx_is_not_json_has_an_unknown_outcome(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A POST answered 200 with a non-JSON body may have been applied: UnknownOutcome."""
    mocked.post(f"{BASE}/x", status=200, body="garbage{")
    with pytest.raises(UnknownOutcome):
        await make_client(session, clock).request("POST", "/x", json={})


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_idempotent_requests_get_max_attempts_on_5xx(
    method: str,
    status: int,
    mocked: aioresponses,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """A 5xx-only endpoint is tried exactly max_attempts (4) times, then RetriesExhausted."""
    mocked.add(f"{BASE}/x", method, status=status, repeat=True)
    client = make_client(session, clock)
    with pytest.raises(RetriesExhausted) as caught:
        await client.request(method, "/x")
    assert len(sent(mocked, method, f"{BASE}/x")) == 4
    assert caught.value.attempts == 4
    assert client.stats.retries == 3
    assert len(clock.sleeps) == 3
    assert all(0.0 <= s <= limit for s, limit in zip(clock.sleeps, [1.0, 2.0, 4.0], strict=True))


async def test_post_with_503_is_an_unknown_outcome_and_never_resent(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """POST + 503 raises UnknownOutcome after exactly one POST."""
    mocked.post(f"{BASE}/people", status=503, repeat=True)
    client = make_client(session, clock)
    with pytest.raises(UnknownOutcome):
        await client.request("POST", "/people", json={"emails": ["a@b.c"]})
    assert len(sent(mocked, "POST", f"{BASE}/people")) == 1


async def test_post_with_timeout_is_an_unknown_outcome(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A POST whose answer timed out is not re-sent."""
    mocked.post(f"{BASE}/people", exception=aiohttp.SocketTimeoutError(), repeat=True)
    with pytest.raises(UnknownOutcome, match="timeout"):
        await make_client(session, clock).request("POST", "/people", json={})
    assert len(sent(mocked, "POST", f"{BASE}/people")) == 1


async def test_post_that_could_not_connect_is_resent(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A POST whose connection timed out before sending is sent again and succeeds."""
    mocked.post(f"{BASE}/people", exception=aiohttp.ConnectionTimeoutError())
    mocked.post(f"{BASE}/people", payload={"id": "p1"})
    response = await make_client(session, clock).request("POST", "/people", json={})
    assert response.body == {"id": "p1"}
    assert len(sent(mocked, "POST", f"{BASE}/people")) == 2


async def test_post_with_429_is_resent_after_the_pause(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """POST + 429 is re-sent (it was certainly not processed), after Retry-After seconds."""
    mocked.post(f"{BASE}/people", status=429, headers={"Retry-After": "7"})
    mocked.post(f"{BASE}/people", payload={"id": "p1"})
    client = make_client(session, clock)
    response = await client.request("POST", "/people", json={})
    assert response.body == {"id": "p1"}
    assert len(sent(mocked, "POST", f"{BASE}/people")) == 2
    assert sum(clock.sleeps) >= 7.0
    assert client.stats.rate_limited == 1
    assert client.stats.retries == 0


async def test_423_is_handled_like_429(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """423 Locked without Retry-After pauses retry_after_default seconds, then retries."""
    mocked.get(f"{BASE}/x", status=423)
    mocked.get(f"{BASE}/x", payload={})
    client = make_client(session, clock, retry_after_default=3.0)
    await client.request("GET", "/x")
    assert sum(clock.sleeps) == pytest.approx(3.0)
    assert client.stats.rate_limited == 1


async def test_rate_limited_answers_are_capped_per_request(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """An endpoint that only answers 429 is sent 21 times, then RetriesExhausted."""
    mocked.get(f"{BASE}/x", status=429, headers={"Retry-After": "0"}, repeat=True)
    client = make_client(session, clock, max_attempts=1)
    with pytest.raises(RetriesExhausted, match="rate limited"):
        await client.request("GET", "/x")
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 21


@pytest.mark.parametrize("style", ["seconds", "http-date"])
async def test_the_pause_is_global(
    style: str, mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """After one 429 whose Retry-After says 30 s (as seconds, or as an HTTP-date read on the
    client's wall clock), no request of any worker leaves before the pause ends."""
    arrivals: list[tuple[str, float]] = []

    def retry_after() -> str:
        if style == "seconds":
            return "30"
        return formatdate(WALL_EPOCH + clock.now + 30.0, usegmt=True)

    def record(name: str, status: int) -> Any:
        def callback(url: URL, **kwargs: Any) -> CallbackResult:
            arrivals.append((name, clock.now))
            headers = {"Retry-After": retry_after()}
            return CallbackResult(status=status, payload={}, headers=headers)

        return callback

    mocked.get(f"{BASE}/a", callback=record("a", 429))
    mocked.get(f"{BASE}/a", callback=record("a", 200))
    mocked.get(f"{BASE}/b", callback=record("b", 200), repeat=True)
    clock.mode = "manual"
    client = make_client(session, clock)
    first = asyncio.ensure_future(client.request("GET", "/a"))
    await clock.sleepers(1)  # the 429 came back: its request waits out the pause
    others = [asyncio.ensure_future(client.request("GET", "/b")) for _ in range(5)]
    await clock.sleepers(6)  # every other worker waits too
    clock.advance(29.9)
    await asyncio.sleep(0)
    assert arrivals == [("a", 1000.0)]
    clock.advance(0.1)
    await asyncio.gather(first, *others)
    later = arrivals[1:]
    assert len(later) == 6
    assert all(at >= 1030.0 for _, at in later)


async def test_a_request_gives_up_at_its_total_time_cap(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A server that answers every send with 429 and Retry-After: 120 makes a request give up
    after request_max_time (300 s here): two pauses taken, the third would end past the cap;
    RetriesExhausted names the cap, and far fewer than 20 pauses were spent."""
    mocked.get(f"{BASE}/x", status=429, headers={"Retry-After": "120"}, repeat=True)
    client = make_client(session, clock, request_max_time=300.0)
    started = clock.now
    with pytest.raises(RetriesExhausted, match="request_max_time 300 s") as caught:
        await client.request("GET", "/x")
    assert caught.value.attempts == 3
    assert clock.now - started == pytest.approx(240.0)
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 3


async def test_a_429_lowers_the_rate(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """The limiter rate drops by ×0.7 after a 429."""
    mocked.get(f"{BASE}/x", status=429, headers={"Retry-After": "1"})
    mocked.get(f"{BASE}/x", payload={})
    client = make_client(session, clock, rate=200.0)
    await client.request("GET", "/x")
    assert client.rate == pytest.approx(140.0)


# -- breaker and budget ----------------------------------------------------------------------


async def test_4xx_and_429_never_trip_the_breaker(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """With threshold 1, 400s and 429s leave the breaker closed."""
    mocked.get(f"{BASE}/bad", status=400, payload={"message": "no"}, repeat=True)
    mocked.get(f"{BASE}/busy", status=429, headers={"Retry-After": "0"}, repeat=True)
    client = make_client(session, clock, breaker_threshold=1)
    for _ in range(5):
        with pytest.raises(ApiError):
            await client.request("GET", "/bad")
    with pytest.raises(RetriesExhausted):
        await client.request("GET", "/busy")
    assert client.breaker_state() is BreakerState.CLOSED
    assert client.stats.breaker_trips == 0


async def test_an_open_breaker_sends_nothing_and_aborts_the_run(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """5xx trip the breaker; while open nothing is sent; open past max_open → RunAborted."""
    mocked.get(f"{BASE}/x", status=503, repeat=True)
    client = make_client(
        session,
        clock,
        max_attempts=2,
        breaker_threshold=2,
        breaker_cooldown=10.0,
        breaker_max_open=25.0,
    )
    with pytest.raises(RetriesExhausted):
        await client.request("GET", "/x")
    assert client.stats.breaker_trips == 1
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 2
    with pytest.raises(RunAborted):
        await client.request("GET", "/x")
    # one half-open probe after the 10 s cooldown; nothing else left while open
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 3
    assert client.breaker.exhausted(clock.now)


async def test_an_exhausted_retry_budget_opens_the_breaker(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """With budget 0 only the floor of 10 retries per minute is allowed; the 11th opens it."""
    mocked.get(f"{BASE}/x", status=503, repeat=True)
    client = make_client(
        session, clock, max_attempts=10, retry_budget=0.0, breaker_threshold=1000, backoff_base=0.0
    )
    with pytest.raises(RetriesExhausted, match="on each of 10 attempts"):
        await client.request("GET", "/x")
    with pytest.raises(RetriesExhausted, match="retry budget"):
        await client.request("GET", "/x")
    assert client.stats.retries == 10
    assert client.stats.breaker_trips == 1
    assert client.breaker_state() is BreakerState.OPEN


# -- cancellation ----------------------------------------------------------------------------


async def test_cancelling_a_request_mid_pause_leaves_the_client_usable(
    mocked: aioresponses, session: aiohttp.ClientSession
) -> None:
    """A request cancelled while it waits out a 429 pause raises CancelledError; later
    requests still go once the pause has passed."""
    clock = FakeClock(mode="manual")
    mocked.get(f"{BASE}/x", status=429, headers={"Retry-After": "5"})
    mocked.get(f"{BASE}/x", payload={"ok": 1})
    client = make_client(session, clock)
    task = asyncio.ensure_future(client.request("GET", "/x"))
    await clock.sleepers(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 1
    clock.advance(5.0)
    assert (await client.request("GET", "/x")).body == {"ok": 1}
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 2


async def test_cancelling_a_probe_frees_its_slot(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A half-open probe cancelled in flight gives its slot back, so the next probe can go."""
    in_flight = asyncio.Event()
    never = asyncio.Event()

    async def hang_first(url: URL, **kwargs: Any) -> CallbackResult:
        if not in_flight.is_set():
            in_flight.set()
            await never.wait()
        return CallbackResult(status=200, payload={"ok": 1})

    mocked.get(f"{BASE}/x", callback=hang_first, repeat=True)
    client = make_client(session, clock, breaker_cooldown=10.0)
    client.breaker.force_open(clock.now)
    clock.now += 10.0
    task = asyncio.ensure_future(client.request("GET", "/x"))
    await in_flight.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await client.request("GET", "/x")).body == {"ok": 1}
    assert client.breaker_state() is BreakerState.CLOSED
