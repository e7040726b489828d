"""The pure parts of the request path: retry decision, Retry-After parsing, retry budget,
adaptive rate and the translation of transport errors."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
import yarl
from hypothesis import given
from hypothesis import strategies as st

from webex_bulk.config import Settings
from webex_bulk.http.rate import (
    AUTO_START_RATE,
    PROBE_CALM,
    RATE_FLOOR,
    SETTLE_SHARE,
    AdaptiveRate,
    RetryBudget,
)
from webex_bulk.http.retry import (
    RATE_LIMITED_RETRIES,
    Backoff,
    Failure,
    FailureKind,
    GiveUp,
    RetryAfter,
    decide_retry,
    parse_retry_after,
)
from webex_bulk.http.transport import translate_transport_error

SETTINGS = Settings()  # max_attempts 4, backoff base 1 s, cap 60 s
NOW = 1_700_000_000.0

SERVER = Failure(FailureKind.SERVER_ERROR, "HTTP 503", 503)
NOT_SENT = Failure(FailureKind.NOT_SENT, "could not connect (refused)")
NO_ANSWER = Failure(FailureKind.NO_ANSWER, "timeout waiting for the answer")
LIMITED = Failure(FailureKind.RATE_LIMITED, "HTTP 429", 429, retry_after=7.0)
RNG = random.Random(0)


def sends_until_give_up(method: str, failure: Failure) -> tuple[int, GiveUp]:
    """Run the decision loop of one request whose every attempt fails the same way."""
    rng = random.Random(1)
    attempts = limited = 0
    for sends in range(1, 100):
        if failure.kind is FailureKind.RATE_LIMITED:
            limited += 1
        else:
            attempts += 1
        decision = decide_retry(
            method,
            failure,
            attempts=attempts,
            rate_limited=limited,
            elapsed=0.0,
            settings=SETTINGS,
            rng=rng,
        )
        if isinstance(decision, GiveUp):
            return sends, decision
    raise AssertionError("the policy never gave up")


# -- exact attempt counts --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("failure", [SERVER, NOT_SENT, NO_ANSWER], ids=lambda f: f.kind)
def test_idempotent_methods_get_max_attempts(method: str, failure: Failure) -> None:
    """GET/PUT/PATCH/DELETE are sent max_attempts (4) times on any transient failure."""
    sends, decision = sends_until_give_up(method, failure)
    assert sends == SETTINGS.max_attempts == 4
    assert not decision.unknown_outcome


@pytest.mark.parametrize("failure", [SERVER, NO_ANSWER], ids=lambda f: f.kind)
def test_post_that_may_have_been_applied_is_sent_once(failure: Failure) -> None:
    """A POST after a 5xx or a timeout is never re-sent: the outcome is unknown."""
    sends, decision = sends_until_give_up("post", failure)
    assert sends == 1
    assert decision.unknown_outcome


def test_post_that_never_left_is_retried() -> None:
    """A POST whose connection could not be made is retried like a GET (4 sends)."""
    sends, decision = sends_until_give_up("POST", NOT_SENT)
    assert sends == 4
    assert not decision.unknown_outcome


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_rate_limited_answers_have_their_own_cap(method: str) -> None:
    """429/423 are retried (POST too) 20 times regardless of max_attempts, then given up."""
    sends, decision = sends_until_give_up(method, LIMITED)
    assert sends == RATE_LIMITED_RETRIES + 1 == 21
    assert not decision.unknown_outcome


def test_rate_limited_retry_waits_what_the_server_asked() -> None:
    """The decision after a 429 is the parsed Retry-After pause, not a backoff."""
    decision = decide_retry(
        "POST",
        LIMITED,
        attempts=0,
        rate_limited=1,
        elapsed=0.0,
        settings=SETTINGS,
        rng=random.Random(0),
    )
    assert decision == RetryAfter(7.0)


def test_rate_limited_answers_do_not_use_up_attempts() -> None:
    """After 3 transient failures and 15 429s a GET still has one attempt left."""
    decision = decide_retry(
        "GET",
        SERVER,
        attempts=3,
        rate_limited=15,
        elapsed=0.0,
        settings=SETTINGS,
        rng=random.Random(0),
    )
    assert isinstance(decision, Backoff)


def test_no_wait_is_ordered_past_the_request_max_time() -> None:
    """A 429 pause or a backoff that would end past request_max_time gives up instead (not an
    unknown outcome); one that ends before it is ordered as usual."""
    settings = Settings(request_max_time=100.0, backoff_base=0.0)
    limited = decide_retry(
        "GET", LIMITED, attempts=0, rate_limited=1, elapsed=94.0, settings=settings, rng=RNG
    )
    assert isinstance(limited, GiveUp)
    assert "request_max_time 100 s" in limited.reason
    assert not limited.unknown_outcome
    assert decide_retry(
        "GET", LIMITED, attempts=0, rate_limited=1, elapsed=92.0, settings=settings, rng=RNG
    ) == RetryAfter(7.0)
    late = decide_retry(
        "PUT", SERVER, attempts=1, rate_limited=0, elapsed=100.5, settings=settings, rng=RNG
    )
    assert isinstance(late, GiveUp)


def test_the_default_cap_bounds_a_request_well_below_twenty_long_pauses() -> None:
    """With the defaults, a request rate limited with the longest Retry-After (120 s) gives up
    after 600 s of pauses, not after 20 × 120 s."""
    elapsed = 0.0
    pause = Failure(FailureKind.RATE_LIMITED, "HTTP 429", 429, retry_after=120.0)
    for limited in range(1, RATE_LIMITED_RETRIES + 2):  # bounded: the count cap is the backstop
        decision = decide_retry(
            "GET",
            pause,
            attempts=0,
            rate_limited=limited,
            elapsed=elapsed,
            settings=SETTINGS,
            rng=RNG,
        )
        if isinstance(decision, GiveUp):
            break
        elapsed += decision.seconds
    assert elapsed == 600.0
    assert "request_max_time" in decision.reason


def test_a_token_grant_post_is_replayable() -> None:
    """The token grant (replayable) is retried after a 5xx, where any other POST is not."""
    assert isinstance(
        decide_retry(
            "POST", SERVER, attempts=1, rate_limited=0, elapsed=0.0, settings=SETTINGS, rng=RNG
        ),
        GiveUp,
    )
    replay = decide_retry(
        "POST",
        SERVER,
        attempts=1,
        rate_limited=0,
        elapsed=0.0,
        settings=SETTINGS,
        rng=RNG,
        replayable=True,
    )
    assert isinstance(replay, Backoff)


# -- full jitter envelope --------------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0)])
def test_backoff_stays_inside_the_full_jitter_envelope(attempts: int, ceiling: float) -> None:
    """Over 1,000 seeded draws every delay lies in [0, base·2^n] and the draws fill that range."""
    rng = random.Random(42)
    delays = []
    for _ in range(1000):
        decision = decide_retry(
            "GET",
            SERVER,
            attempts=attempts,
            rate_limited=0,
            elapsed=0.0,
            settings=SETTINGS,
            rng=rng,
        )
        assert isinstance(decision, Backoff)
        delays.append(decision.seconds)
    assert all(0.0 <= d <= ceiling for d in delays)
    assert min(delays) < 0.05 * ceiling
    assert max(delays) > 0.95 * ceiling


def test_backoff_is_capped() -> None:
    """With base 10 s and cap 15 s the 4th retry never waits more than 15 s."""
    settings = Settings(max_attempts=10, backoff_base=10.0, backoff_cap=15.0)
    rng = random.Random(7)
    delays = [
        decide_retry(
            "GET", SERVER, attempts=5, rate_limited=0, elapsed=0.0, settings=settings, rng=rng
        )
        for _ in range(1000)
    ]
    assert all(isinstance(d, Backoff) and 0.0 <= d.seconds <= 15.0 for d in delays)
    assert max(d.seconds for d in delays if isinstance(d, Backoff)) > 14.0


def test_zero_backoff_turns_waiting_off() -> None:
    """backoff_base 0 gives zero delays (the test switch)."""
    settings = Settings(backoff_base=0.0)
    decision = decide_retry(
        "GET",
        SERVER,
        attempts=1,
        rate_limited=0,
        elapsed=0.0,
        settings=settings,
        rng=random.Random(0),
    )
    assert decision == Backoff(0.0)


# -- Retry-After -----------------------------------------------------------------------------


def http_date(offset: float) -> str:
    """An IMF-fixdate ``offset`` seconds after NOW."""
    return format_datetime(datetime.fromtimestamp(NOW + offset, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("  12 ", 12.0),
        ("1.5", 1.5),
        ("0.25", 0.25),
        ("-3", 10.0),
        ("rand(30),add(30)", 10.0),
        ("", 10.0),
        (None, 10.0),
        ("abc", 10.0),
        ("nan", 10.0),
        ("inf", 10.0),
        ("1e400", 10.0),
        ("999999", 120.0),
        ("121", 120.0),
    ],
)
def test_retry_after_values(value: str | None, expected: float) -> None:
    """Seconds are honoured, unusable values give the default (10 s), big ones the cap (120 s)."""
    assert parse_retry_after(value, NOW, 10.0, 120.0) == pytest.approx(expected)


def test_retry_after_http_dates() -> None:
    """A future HTTP-date gives the seconds until it; a past one gives 0; a far one the cap."""
    assert parse_retry_after(http_date(42), NOW, 10.0, 120.0) == pytest.approx(42.0, abs=1.0)
    assert parse_retry_after(http_date(-300), NOW, 10.0, 120.0) == 0.0
    assert parse_retry_after(http_date(86400), NOW, 10.0, 120.0) == 120.0


def test_retry_after_default_is_capped_too() -> None:
    """A default larger than the cap is itself capped."""
    assert parse_retry_after(None, NOW, 500.0, 120.0) == 120.0


retry_after_text = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda f: f"  {f}\t"),
    st.sampled_from(["rand(30),add(30)", "", " ", "1,2", "Wed, 21 Oct 2015 07:28:00 GMT"]),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: format_datetime(d, usegmt=True)),
    st.datetimes().map(lambda d: format_datetime(d)),
)


@given(
    value=retry_after_text,
    default=st.floats(min_value=0.0, max_value=1e6),
    cap=st.floats(min_value=0.0, max_value=1e6),
)
def test_retry_after_never_raises_and_stays_in_range(
    value: str | None, default: float, cap: float
) -> None:
    """Whatever the header holds, the pause is a number in [0, cap] and nothing raises."""
    pause = parse_retry_after(value, NOW, default, cap)
    assert 0.0 <= pause <= cap


# -- retry budget ----------------------------------------------------------------------------


def test_budget_always_allows_the_floor() -> None:
    """With no traffic at all, 10 retries per minute are allowed and the 11th is not."""
    budget = RetryBudget(0.1)
    assert all(budget.try_spend(5.0) for _ in range(10))
    assert not budget.try_spend(5.0)


def test_budget_grows_with_traffic() -> None:
    """1,000 requests in the minute allow 100 retries (10 %)."""
    budget = RetryBudget(0.1)
    for i in range(1000):
        budget.note_request(i * 0.05)
    spent = sum(budget.try_spend(50.0) for _ in range(150))
    assert spent == 100


def test_budget_slides() -> None:
    """Retries older than a minute no longer count."""
    budget = RetryBudget(0.0)
    assert all(budget.try_spend(0.0) for _ in range(10))
    assert not budget.try_spend(59.0)
    assert budget.try_spend(61.0)


# -- adaptive rate ---------------------------------------------------------------------------


def test_rate_drops_once_per_burst_of_429s() -> None:
    """Several 429s for requests sent before the decrease lower the rate only once (×0.7 when
    nothing accepted proves a rate; a later burst lowers it once more)."""
    rate = AdaptiveRate(10.0)
    assert rate.on_rate_limited(now=100.0, sent_at=99.9)
    assert not rate.on_rate_limited(now=100.1, sent_at=99.95)
    assert rate.rate == pytest.approx(7.0)
    assert rate.on_rate_limited(now=101.0, sent_at=100.5)
    assert rate.rate == pytest.approx(4.9)


def test_rate_never_below_the_floor() -> None:
    """Repeated 429s stop lowering the rate at 0.5/s."""
    rate = AdaptiveRate(10.0)
    for i in range(50):
        rate.on_rate_limited(now=float(i), sent_at=float(i))
    assert rate.rate == RATE_FLOOR


def drive(rate: AdaptiveRate, now: float, seconds: float, load: float) -> tuple[float, list[float]]:
    """Send and succeed at ``load`` × the current rate for ``seconds``; the rates seen."""
    seen = [rate.rate]
    end = now + seconds
    while now < end:
        now += 1.0 / (rate.rate * load)
        rate.note_sent(now)
        if rate.on_success(now):
            seen.append(rate.rate)
    return now, seen


def test_rate_climbs_back_slowly_to_the_configured_rate() -> None:
    """After a decrease a busy client regains small steps every calm interval, never above 10/s."""
    rate = AdaptiveRate(10.0)
    rate.on_rate_limited(now=0.0, sent_at=0.0)
    _, seen = drive(rate, 0.0, 600.0, load=1.0)
    assert seen[1] - seen[0] == pytest.approx(0.5)
    assert all(b > a for a, b in itertools.pairwise(seen))
    assert seen[-1] == 10.0


def test_an_unused_rate_does_not_climb() -> None:
    """Traffic at half the allowed rate never raises it: unused headroom proves nothing."""
    rate = AdaptiveRate(0.0)
    _, seen = drive(rate, 0.0, 600.0, load=0.5)
    assert seen == [AUTO_START_RATE]


def test_auto_rate_probes_up_then_settles_below_the_first_429() -> None:
    """--rate auto starts at 4/s, climbs while calm, and after a 429 holds at 98 % of the rate the
    accepted requests prove (below the rate that met it) until the first probe a minute on."""
    rate = AdaptiveRate(0.0)
    assert rate.auto
    assert rate.rate == AUTO_START_RATE
    now, _ = drive(rate, 0.0, 100.0, load=1.0)
    met = rate.rate
    assert met > AUTO_START_RATE
    rate.on_rate_limited(now, now)
    assert rate.estimate is not None
    assert rate.ceiling == pytest.approx(SETTLE_SHARE * rate.estimate)
    assert rate.ceiling < met
    now, seen = drive(rate, now, PROBE_CALM - 1.0, load=1.0)
    assert max(seen) == pytest.approx(SETTLE_SHARE * rate.estimate)


# -- transport errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (aiohttp.ConnectionTimeoutError(), FailureKind.NOT_SENT),
        (
            aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None),
                ConnectionRefusedError(111, "Connection refused"),
            ),
            FailureKind.NOT_SENT,
        ),
        (aiohttp.SocketTimeoutError(), FailureKind.NO_ANSWER),
        (TimeoutError(), FailureKind.NO_ANSWER),
        (aiohttp.ServerDisconnectedError(), FailureKind.NO_ANSWER),
        (aiohttp.ClientPayloadError("cut"), FailureKind.NO_ANSWER),
        (aiohttp.ClientConnectionError("reset"), FailureKind.NO_ANSWER),
    ],
)
def test_transport_errors_translate_by_whether_the_request_left(
    exc: BaseException, kind: FailureKind
) -> None:
    """Only failures before the connection existed count as 'certainly not sent'."""
    assert translate_transport_error(exc).kind is kind


def _key(host: str, port: int) -> Any:
    return aiohttp.client_reqrep.ConnectionKey(host, port, True, True, None, None, None)


@pytest.mark.parametrize(
    ("exc", "unreachable", "cause"),
    [
        (
            aiohttp.ClientConnectorError(_key("api.test", 443), ConnectionRefusedError(111, "x")),
            "api.test:443",
            "could not connect (connection refused)",
        ),
        (
            aiohttp.ClientConnectorDNSError(_key("nowhere.invalid", 443), OSError(-2, "unknown")),
            "nowhere.invalid:443",
            "host name not found (unknown)",
        ),
        (
            aiohttp.ClientProxyConnectionError(_key("proxy.corp", 3128), OSError(111, "refused")),
            "proxy.corp:3128",
            "could not connect to the proxy (refused)",
        ),
        (aiohttp.ConnectionTimeoutError(), "api.test:443", "connect timeout"),
        (aiohttp.ServerDisconnectedError(), "", "server disconnected"),
    ],
)
def test_a_connection_never_made_names_the_host(exc: Any, unreachable: str, cause: str) -> None:
    """Failures to connect at all carry the host that could not be reached (the proxy's when it
    is the proxy), so the network is blamed; a failure after connecting carries none."""
    failure = translate_transport_error(exc, yarl.URL("https://api.test/v1/people/me"))
    assert (failure.unreachable, failure.cause) == (unreachable, cause)
