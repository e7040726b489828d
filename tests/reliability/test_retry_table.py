"""The retry policy end to end over real sockets, under a fake clock: exact sends per status and
transport fault for every method, the full-jitter spread, Retry-After as a lower bound (fuzzed
on the wire), and an exhausted retry budget that opens the breaker and holds the gate.

A raw asyncio server on 127.0.0.1 answers each request from a script, so faults that a mock
cannot make (a reset, a close without an answer, a truncated body, a stall, header bytes aiohttp
would never write) reach the client as a real server would send them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import statistics
import struct
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import aiohttp
import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import WALL_EPOCH, FakeClock, make_client

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import (
    ApiError,
    AuthError,
    ForbiddenError,
    RetriesExhausted,
    UnknownOutcome,
)
from webex_bulk.http import BreakerState, WebexClient
from webex_bulk.http.retry import (
    Backoff,
    Failure,
    FailureKind,
    decide_retry,
    parse_retry_after,
)

pytestmark = pytest.mark.timeout(60)

DEFAULTS = Settings()


@attrs.frozen
class Reply:
    """One scripted answer: a status with headers and body, or a transport fault."""

    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: bytes = b""  # raw header lines, each ending in CRLF
    fault: str = ""  # "reset", "close", "truncate" or "stall"


@attrs.frozen
class Arrival:
    """A request as the server saw it, stamped with the client's (fake) clock."""

    method: str
    path: str
    at: float


class ScriptedServer:
    """Answers request n with ``script[n]`` (the last reply repeats); records every arrival."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.script: list[Reply] = [Reply()]
        self.arrivals: list[Arrival] = []
        self.port = 0
        self._closing = asyncio.Event()
        self._handlers: set[asyncio.Task[Any]] = set()

    def play(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, the last one forever after."""
        self.script = list(replies)
        self.arrivals = []

    def _next(self) -> Reply:
        return self.script[min(len(self.arrivals) - 1, len(self.script) - 1)]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        length = 0
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        self.arrivals.append(Arrival(method, path.split("?")[0], self.clock.now))
        reply = self._next()
        if reply.fault == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if reply.fault == "close":
            return False
        if reply.fault == "stall":
            await self._closing.wait()
            return False
        declared = len(reply.body) + (100 if reply.fault == "truncate" else 0)
        writer.write(
            f"HTTP/1.1 {reply.status} X\r\nContent-Length: {declared}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + reply.headers
            + b"\r\n"
            + reply.body
        )
        await writer.drain()
        return reply.fault != "truncate"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ScriptedServer]:
        """Serve on an ephemeral port of 127.0.0.1 for the body of the block."""
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._closing.set()
            server.close()
            await server.wait_closed()
            await asyncio.gather(*self._handlers, return_exceptions=True)


@pytest.fixture
async def clock() -> FakeClock:
    """The fake clock of the client (and of the server's arrival stamps)."""
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[ScriptedServer]:
    """A scripted server on 127.0.0.1, stopped after the test."""
    async with ScriptedServer(clock).running() as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def table_client(
    session: aiohttp.ClientSession, clock: FakeClock, port: int, **overrides: Any
) -> WebexClient:
    """A client with a static token on the fake clock, seeded, pointed at 127.0.0.1:port."""
    return make_client(
        session,
        clock,
        credentials=Credentials(access_token="static-token"),
        rng=random.Random(5),
        run_id="table",
        **{
            "base_url": f"http://127.0.0.1:{port}/v1",
            "read_timeout": 0.1,
            "retry_after_default": 10.0,
            **overrides,
        },
    )


# -- the table -------------------------------------------------------------------------------

HTML_502 = Reply(
    502,
    b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    b"Content-Type: text/html\r\n",
)
TRANSIENT = {
    "500": Reply(500, b'{"message": "boom"}'),
    "502 html": HTML_502,
    "503": Reply(503, b'{"message": "unavailable"}'),
    "504": Reply(504, b""),
    "200 not json": Reply(200, b"<html>proxy login</html>"),
    "reset": Reply(fault="reset"),
    "closed without answer": Reply(fault="close"),
    "truncated body": Reply(fault="truncate"),
    "stalled past the read timeout": Reply(fault="stall"),
}
FINAL = {
    "400": (Reply(400, b'{"message": "bad"}'), ApiError),
    "404": (Reply(404, b'{"message": "no"}'), ApiError),
    "409": (Reply(409, b'{"message": "exists"}'), ApiError),
    "403": (Reply(403, b'{"message": "scope"}'), ForbiddenError),
    "401": (Reply(401, b'{"message": "token"}'), AuthError),
    "302": (Reply(302, b"", b"Location: https://elsewhere.example/\r\n"), ApiError),
}
RATE_LIMITED = {
    "429": Reply(429, b"{}", b"Retry-After: 2\r\n"),
    "423": Reply(423, b"{}", b"Retry-After: 2\r\n"),
}
METHODS = ("GET", "PUT", "PATCH", "DELETE", "POST")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fault", list(TRANSIENT))
async def test_transient_faults_get_max_attempts_except_a_post_that_may_have_landed(
    method: str,
    fault: str,
    server: ScriptedServer,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """Every transient fault gets exactly max_attempts (4) attempts with full-jitter waits,
    except a POST, which is sent once and reported as an unknown outcome; one send per attempt
    (aiohttp's own re-send after a reset or a close is off, so every send is a counted one)."""
    server.play(TRANSIENT[fault])
    client = table_client(session, clock, server.port)
    expected = UnknownOutcome if method == "POST" else RetriesExhausted
    with pytest.raises(expected):
        await client.request(method, "/things", json={"name": "x"})
    sends = [a for a in server.arrivals if a.path == "/v1/things"]
    if method == "POST":
        assert len(sends) == 1
        assert clock.sleeps == []
    else:
        assert len(sends) == DEFAULTS.max_attempts == 4
        assert client.stats.requests == 4
        assert client.stats.retries == 3
        ceilings = [1.0, 2.0, 4.0]
        assert all(0.0 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("answer", list(FINAL))
async def test_final_answers_are_sent_once(
    method: str,
    answer: str,
    server: ScriptedServer,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """4xx, 3xx and a 401 without refresh credentials are never retried: one send, no wait."""
    reply, error = FINAL[answer]
    server.play(reply)
    client = table_client(session, clock, server.port)
    with pytest.raises(error):
        await client.request(method, "/things", json={})
    assert len(server.arrivals) == 1
    assert clock.sleeps == []
    assert client.breaker_state() is BreakerState.CLOSED


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("answer", list(RATE_LIMITED))
async def test_rate_limited_answers_are_resent_after_the_pause_post_included(
    method: str,
    answer: str,
    server: ScriptedServer,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """429 and 423 were certainly not processed: re-sent (POST too) after the announced pause,
    never counted as retries, never tripping even a breaker of threshold 1. (The cap of 20 such
    answers per request is proven in tests/test_retry_policy.py and test_connection_client.py.)"""
    limited = RATE_LIMITED[answer]
    server.play(limited, limited, limited, Reply(200, b'{"id": "1"}'))
    client = table_client(session, clock, server.port, breaker_threshold=1)
    response = await client.request(method, "/things", json={})
    assert response.body == {"id": "1"}
    assert len(server.arrivals) == 4
    gaps = [b.at - a.at for a, b in zip(server.arrivals, server.arrivals[1:], strict=False)]
    assert all(gap >= 2.0 for gap in gaps)
    assert client.breaker_state() is BreakerState.CLOSED
    assert client.stats.retries == 0
    assert client.stats.rate_limited == 3


@pytest.mark.parametrize("method", METHODS)
async def test_a_refused_connection_is_retried_for_every_method(
    method: str, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Nothing listens: the request certainly never left, so even a POST is tried 4 times."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = table_client(session, clock, port)
    with pytest.raises(RetriesExhausted, match="could not connect") as caught:
        await client.request(method, "/things", json={})
    assert caught.value.attempts == 4
    assert client.stats.transport_errors == 4


async def test_a_recovering_server_ends_the_retries_at_the_first_success(
    server: ScriptedServer, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Three different transient faults then a 200: the GET returns on the fourth send."""
    stall = TRANSIENT["stalled past the read timeout"]
    server.play(HTML_502, TRANSIENT["truncated body"], stall, Reply(200))
    client = table_client(session, clock, server.port)
    response = await client.request("GET", "/things")
    assert response.body == {"ok": True}
    assert len(server.arrivals) == 4
    assert client.stats.retries == 3


# -- full jitter -----------------------------------------------------------------------------

SERVER_ERROR = Failure(FailureKind.SERVER_ERROR, "HTTP 503", 503)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize(("attempts", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0)])
def test_full_jitter_draws_fill_their_envelope_evenly(
    seed: int, attempts: int, ceiling: float
) -> None:
    """1,000 seeded draws lie in [0, base·2^n]; each tenth of the range holds 70–130 of them
    (uniform: 100 ± 3σ) and their mean is within 5 % of half the ceiling."""
    rng = random.Random(seed)
    delays = []
    for _ in range(1000):
        decision = decide_retry(
            "GET",
            SERVER_ERROR,
            attempts=attempts,
            rate_limited=0,
            elapsed=0.0,
            settings=DEFAULTS,
            rng=rng,
        )
        assert isinstance(decision, Backoff)
        delays.append(decision.seconds)
    assert all(0.0 <= d <= ceiling for d in delays)
    bins = [0] * 10
    for delay in delays:
        bins[min(9, int(delay / ceiling * 10))] += 1
    assert all(70 <= count <= 130 for count in bins), bins
    assert statistics.fmean(delays) == pytest.approx(ceiling / 2, rel=0.05)


def test_the_cap_bounds_late_retries_and_keeps_them_spread() -> None:
    """With base 1 s and cap 60 s, the 10th retry draws from [0, 60] (not [0, 512]) and still
    spreads over the whole range."""
    settings_ = Settings(max_attempts=10)
    rng = random.Random(9)
    delays = []
    for _ in range(1000):
        decision = decide_retry(
            "GET",
            SERVER_ERROR,
            attempts=9,
            rate_limited=0,
            elapsed=0.0,
            settings=settings_,
            rng=rng,
        )
        assert isinstance(decision, Backoff)
        delays.append(decision.seconds)
    assert max(delays) <= 60.0
    assert min(delays) < 3.0
    assert max(delays) > 57.0


# -- Retry-After: a lower bound, whatever the header holds -----------------------------------


def hostile_retry_after(now_epoch: float) -> list[tuple[str, bytes]]:
    """Retry-After header lines as a careless or hostile server might write them (dates
    relative to ``now_epoch``)."""
    future = formatdate(now_epoch + 30, usegmt=True).encode()
    past = formatdate(now_epoch - 3600, usegmt=True).encode()
    cases = {
        "integer": b"Retry-After: 7\r\n",
        "zero": b"Retry-After: 0\r\n",
        "negative": b"Retry-After: -5\r\n",
        "fraction": b"Retry-After: 1.5\r\n",
        "padded": b"Retry-After:    12   \r\n",
        "leading plus": b"Retry-After: +3\r\n",
        "exponent": b"Retry-After: 1e1\r\n",
        "future date": b"Retry-After: " + future + b"\r\n",
        "past date": b"Retry-After: " + past + b"\r\n",
        "rfc850 date": b"Retry-After: Sunday, 06-Nov-94 08:49:37 GMT\r\n",
        "asctime date": b"Retry-After: Sun Nov  6 08:49:37 1994\r\n",
        "date without zone": b"Retry-After: Wed, 21 Oct 2099 07:28:00\r\n",
        "malformed": b"Retry-After: rand(30),add(30)\r\n",
        "empty": b"Retry-After: \r\n",
        "missing": b"",
        "huge": b"Retry-After: " + b"9" * 200 + b"\r\n",
        "overflowing float": b"Retry-After: 1" + b"0" * 400 + b"\r\n",
        "nan": b"Retry-After: nan\r\n",
        "infinity": b"Retry-After: Infinity\r\n",
        "hex": b"Retry-After: 0x10\r\n",
        "two headers": b"Retry-After: 3\r\nRetry-After: 90\r\n",
        "comma list": b"Retry-After: 5, 6\r\n",
        "latin-1 bytes": b"Retry-After: 5\xff\xfe\r\n",
        "control bytes": b"Retry-After: \x015\r\n",
        "unicode digits": "Retry-After: ٣\r\n".encode(),
        "units": b"Retry-After: 5s\r\n",
    }
    return list(cases.items())


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_hostile_retry_after_never_raises_and_is_waited_out_clamped(
    method: str, server: ScriptedServer, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Whatever a 429's Retry-After holds on the wire, the request succeeds on its next send,
    after a pause of exactly the parsed value clamped to [0, cap] (10 s when unusable), and no
    request leaves before that pause ends."""
    cap = DEFAULTS.retry_after_cap
    for index in range(len(hostile_retry_after(0.0))):
        name, header = hostile_retry_after(WALL_EPOCH + clock.now)[index]
        server.play(Reply(429, b"{}", header), Reply(200, b'{"id": "1"}'))
        clock.sleeps.clear()
        client = table_client(session, clock, server.port)
        started = clock.now
        response = await client.request(method, "/things", json={})
        assert response.body == {"id": "1"}, name
        assert len(server.arrivals) == 2, name
        pause = sum(clock.sleeps)  # no sleep at all for a pause of 0
        assert 0.0 <= pause <= cap, name
        value = _seen_value(header)
        expected = parse_retry_after(value, WALL_EPOCH + started, 10.0, cap)
        assert pause == pytest.approx(expected, abs=1e-9), name
        assert server.arrivals[1].at - started >= pause, name


def _seen_value(header: bytes) -> str | None:
    """The first Retry-After value as aiohttp hands it to the client (None when absent)."""
    if not header:
        return None
    first = header.split(b"\r\n")[0].partition(b":")[2]
    return first.decode("utf-8", errors="surrogateescape").strip()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seconds=st.floats(min_value=0.0, max_value=200.0, allow_nan=False),
    shape=st.sampled_from(["plain", "padded", "fraction", "http-date"]),
    method=st.sampled_from(METHODS),
)
async def test_the_retry_after_pause_is_a_lower_bound_on_the_next_send(
    seconds: float,
    shape: str,
    method: str,
    server: ScriptedServer,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """After a 429 announcing a pause p (seconds, padded, fractional or an HTTP-date), the
    re-sent request reaches the server no earlier than min(p, cap) after the 429, and the
    client waits no longer than that either."""
    text = {
        "plain": f"{int(seconds)}",
        "padded": f"  {int(seconds)} ",
        "fraction": f"{seconds}",
        "http-date": formatdate(WALL_EPOCH + clock.now + seconds, usegmt=True),
    }
    value = text[shape]
    server.play(Reply(429, b"{}", f"Retry-After: {value}\r\n".encode()), Reply(200))
    clock.sleeps.clear()
    client = table_client(session, clock, server.port)
    await client.request(method, "/things", json={})
    limited, resent = server.arrivals
    # The client's wall clock is the fake one: an HTTP-date is read exactly, not give or take
    # the second that passes in real time.
    pause = parse_retry_after(value, WALL_EPOCH + limited.at, 10.0, DEFAULTS.retry_after_cap)
    assert resent.at - limited.at >= pause - 1e-9
    assert sum(clock.sleeps) == pytest.approx(pause, abs=1e-9)
    if shape == "http-date":
        assert pause == pytest.approx(min(seconds, DEFAULTS.retry_after_cap), abs=1.0)


# -- retry budget → breaker --------------------------------------------------------------------


async def test_an_exhausted_budget_opens_the_breaker_and_nothing_leaves_until_the_probe(
    server: ScriptedServer, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """After 300 good requests a 503 storm gets 10 % of the minute's requests as retries; the
    retry that finds the budget empty opens the breaker, no request reaches the server during
    the cooldown, one probe goes after it, and its success closes the breaker."""
    client = table_client(
        session,
        clock,
        server.port,
        breaker_threshold=1000,
        breaker_cooldown=30.0,
        backoff_base=0.0,
        max_attempts=4,
    )
    server.play(Reply(200))
    for index in range(300):
        await client.request("GET", f"/warm/{index}")
        clock.now += 0.1  # 300 requests over 30 s: all inside the sliding minute
    server.play(Reply(503))
    outcomes: list[str] = []
    for index in range(40):  # bounded: the budget runs out long before
        try:
            await client.request("GET", f"/storm/{index}")
        except RetriesExhausted as exc:
            outcomes.append("budget" if "budget" in exc.cause else "attempts")
            if "budget" in exc.cause:
                break
    opened_at = clock.now
    requests_sent = len(server.arrivals) + 300
    assert outcomes[-1] == "budget"
    assert client.stats.breaker_trips == 1
    assert client.breaker_state() is BreakerState.OPEN
    # The budget allowed 10 % of the requests sent in the minute, give or take the last one.
    assert 0.1 * requests_sent - 1 <= client.stats.retries <= 0.1 * requests_sent
    server.play(Reply(200))
    waiting = [client.request("GET", f"/after/{index}") for index in range(5)]
    await asyncio.gather(*waiting)
    probe, *rest = server.arrivals
    assert probe.at >= opened_at + 30.0
    assert all(arrival.at >= probe.at for arrival in rest)
    assert client.breaker_state() is BreakerState.CLOSED
