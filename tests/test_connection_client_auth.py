"""Tokens on the request path: the refresh grant, single-flight refresh on 401, proactive
refresh before expiry, the token file rewrite, and no secret in logs or messages."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from support import FakeClock
from test_connection_client import BASE, mock_transport, sent
from yarl import URL

from webex_bulk.config import Credentials, Settings
from webex_bulk.error_handling import AuthError
from webex_bulk.http.breaker import CircuitBreaker
from webex_bulk.http.client import WebexClient
from webex_bulk.http.token_store import save_token_file

pytestmark = pytest.mark.timeout(20)

TOKEN_URL = f"{BASE}/access_token"
SECRET = "client-secret-xyz"
REFRESH = "refresh-token-r1"
SECRETS = (SECRET, REFRESH, "old-token", "new-token", "refresh-token-r2")


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """An aioresponses mock for the test's duration."""
    with mock_transport(monkeypatch) as mock:
        yield mock


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def clock() -> FakeClock:
    """The fake clock the client reads and sleeps on."""
    return FakeClock()


def make_client(
    session: aiohttp.ClientSession,
    clock: FakeClock,
    *,
    access_token: str | None = "old-token",
    refreshable: bool = True,
    token_file: Path | None = None,
) -> WebexClient:
    """A client whose credentials may refresh (client id, secret, refresh token)."""
    settings = Settings(base_url=BASE, rate=1000.0, backoff_base=0.0)
    credentials = Credentials(
        access_token=access_token,
        refresh_token=REFRESH if refreshable else None,
        client_id="cid" if refreshable else None,
        client_secret=SECRET if refreshable else None,
        token_file=token_file,
    )
    breaker = CircuitBreaker(10, 30.0, 600.0, 1800.0, 1)
    return WebexClient(
        settings, credentials, session, breaker, run_id="r", clock=clock, sleep=clock.sleep
    )


def token_answer(access: str = "new-token", refresh: str = REFRESH, expires: int = 3600) -> Any:
    """A successful refresh answer."""
    return {
        "access_token": access,
        "expires_in": expires,
        "refresh_token": refresh,
        "refresh_token_expires_in": 7776000,
        "token_type": "Bearer",
    }


def bearer_of(call: Any) -> str:
    """The Authorization header of a recorded call."""
    return str(call.kwargs["headers"]["Authorization"])


async def test_refresh_grant_is_a_form_post_to_access_token(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Without an access token the first request refreshes with the form-encoded grant."""
    mocked.post(TOKEN_URL, payload=token_answer())
    mocked.get(f"{BASE}/x", payload={})
    client = make_client(session, clock, access_token=None)
    await client.request("GET", "/x")
    (refresh,) = sent(mocked, "POST", TOKEN_URL)
    assert refresh.kwargs["data"] == {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "client_secret": SECRET,
        "refresh_token": REFRESH,
    }
    assert "Authorization" not in refresh.kwargs["headers"]
    assert bearer_of(sent(mocked, "GET", f"{BASE}/x")[0]) == "Bearer new-token"
    assert client.stats.refreshes == 1
    assert client.stats.writes == 0


async def test_concurrent_401s_share_one_refresh(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Five requests refused at once cause exactly one refresh call, then all succeed."""
    refused = 0
    all_refused = asyncio.Event()

    def api(url: URL, **kwargs: Any) -> CallbackResult:
        nonlocal refused
        if kwargs["headers"]["Authorization"] == "Bearer old-token":
            refused += 1
            if refused == 5:
                all_refused.set()
            return CallbackResult(status=401, payload={"message": "expired"})
        return CallbackResult(status=200, payload={"ok": True})

    async def grant(url: URL, **kwargs: Any) -> CallbackResult:
        await asyncio.wait_for(all_refused.wait(), 5)
        return CallbackResult(status=200, payload=token_answer())

    mocked.get(f"{BASE}/x", callback=api, repeat=True)
    mocked.post(TOKEN_URL, callback=grant, repeat=True)
    client = make_client(session, clock)
    answers = await asyncio.gather(*(client.request("GET", "/x") for _ in range(5)))
    assert [a.body for a in answers] == [{"ok": True}] * 5
    assert len(sent(mocked, "POST", TOKEN_URL)) == 1
    assert refused == 5
    assert client.stats.refreshes == 1


async def test_401_without_refresh_credentials_is_fatal(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A refused static token raises AuthError at once, telling what to do, naming no secret."""
    mocked.get(f"{BASE}/x", status=401, payload={"message": "bad"}, repeat=True)
    client = make_client(session, clock, refreshable=False)
    with pytest.raises(AuthError, match="WEBEX_TOKEN") as caught:
        await client.request("GET", "/x")
    assert "old-token" not in str(caught.value)
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 1
    assert not sent(mocked, "POST", TOKEN_URL)


async def test_a_second_401_after_a_refresh_is_fatal(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """One refresh and one retry only: a token refused again raises AuthError."""
    mocked.get(f"{BASE}/x", status=401, repeat=True)
    mocked.post(TOKEN_URL, payload=token_answer(), repeat=True)
    client = make_client(session, clock)
    with pytest.raises(AuthError, match="even after a refresh"):
        await client.request("GET", "/x")
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 2
    assert len(sent(mocked, "POST", TOKEN_URL)) == 1


async def test_no_credentials_at_all_sends_nothing(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Without any token or refresh grant the request raises AuthError before sending."""
    client = make_client(session, clock, access_token=None, refreshable=False)
    with pytest.raises(AuthError, match="no usable access token"):
        await client.request("GET", "/x")
    assert client.stats.requests == 0


async def test_token_is_refreshed_before_it_expires(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """With expires_in 3600 and a 300 s margin, a request at +3301 s refreshes first."""
    mocked.post(TOKEN_URL, payload=token_answer("new-token"))
    mocked.post(TOKEN_URL, payload=token_answer("newer-token"))
    mocked.get(f"{BASE}/x", payload={}, repeat=True)
    client = make_client(session, clock, access_token=None)
    await client.request("GET", "/x")
    clock.now += 3299.0
    await client.request("GET", "/x")
    assert len(sent(mocked, "POST", TOKEN_URL)) == 1
    clock.now += 2.0
    await client.request("GET", "/x")
    assert len(sent(mocked, "POST", TOKEN_URL)) == 2
    assert bearer_of(sent(mocked, "GET", f"{BASE}/x")[-1]) == "Bearer newer-token"


async def test_a_rotated_refresh_token_is_written_back_0600(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock, tmp_path: Path
) -> None:
    """The new refresh token replaces the old one in the token file; other keys stay; mode 0600;
    no temporary file is left behind."""
    token_file = tmp_path / "token.json"
    original = {"client_id": "cid", "client_secret": SECRET, "refresh_token": REFRESH, "x": 1}
    token_file.write_text(json.dumps(original), encoding="utf-8")
    token_file.chmod(0o644)
    mocked.post(TOKEN_URL, payload=token_answer(refresh="refresh-token-r2"))
    mocked.get(f"{BASE}/x", payload={})
    client = make_client(session, clock, access_token=None, token_file=token_file)
    await client.request("GET", "/x")
    saved = json.loads(token_file.read_text(encoding="utf-8"))
    assert saved == {**original, "refresh_token": "refresh-token-r2"}
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["token.json"]


async def test_an_unchanged_refresh_token_leaves_the_file_alone(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock, tmp_path: Path
) -> None:
    """A refresh that returns the same refresh token does not rewrite the token file."""
    token_file = tmp_path / "token.json"
    token_file.write_text('{"refresh_token": "refresh-token-r1"}', encoding="utf-8")
    token_file.chmod(0o640)
    mocked.post(TOKEN_URL, payload=token_answer())
    mocked.get(f"{BASE}/x", payload={})
    await make_client(session, clock, access_token=None, token_file=token_file).request("GET", "/x")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o640


async def test_a_refused_refresh_is_fatal_and_secret_free(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 400 from the token endpoint raises AuthError naming the status, not the secrets."""
    mocked.post(TOKEN_URL, status=400, payload={"message": f"invalid grant {REFRESH}"})
    client = make_client(session, clock, access_token=None)
    with pytest.raises(AuthError, match="400") as caught:
        await client.request("GET", "/x")
    assert not any(secret in str(caught.value) for secret in SECRETS)
    assert len(sent(mocked, "POST", TOKEN_URL)) == 1


async def test_a_transient_refresh_failure_is_retried(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 503 from the token endpoint is retried; the next answer's token is used."""
    mocked.post(TOKEN_URL, status=503)
    mocked.post(TOKEN_URL, payload=token_answer())
    mocked.get(f"{BASE}/x", payload={})
    await make_client(session, clock, access_token=None).request("GET", "/x")
    assert len(sent(mocked, "POST", TOKEN_URL)) == 2


async def test_nothing_secret_is_logged(
    mocked: aioresponses,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Across refresh, rotation, 401, retries and errors, no log record holds a secret."""
    token_file = tmp_path / "token.json"
    token_file.write_text("{}", encoding="utf-8")
    mocked.get(f"{BASE}/x", status=401)
    mocked.post(TOKEN_URL, payload=token_answer(refresh="refresh-token-r2"))
    mocked.get(f"{BASE}/x", status=503)
    mocked.get(f"{BASE}/x", status=429)
    mocked.get(f"{BASE}/x", payload={})
    caplog.set_level(logging.DEBUG, logger="webex_bulk")
    client = make_client(session, clock, token_file=token_file)
    await client.request("GET", "/x")
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + repr(getattr(record, "event_fields", {}))
        assert not any(secret in text for secret in SECRETS), record.getMessage()
    assert {"auth.refresh", "auth.token_file_saved", "http.retry", "http.rate_limited"} <= {
        r.getMessage() for r in caplog.records
    }


def test_save_token_file_refuses_to_clobber_a_non_object(tmp_path: Path) -> None:
    """A token file that is not a JSON object is left untouched and ValueError is raised."""
    token_file = tmp_path / "token.json"
    token_file.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON object"):
        save_token_file(token_file, {"refresh_token": "x"})
    assert token_file.read_text(encoding="utf-8") == "[1, 2]"


def test_save_token_file_creates_a_missing_file_0600(tmp_path: Path) -> None:
    """A missing token file is created with only the given keys and mode 0600."""
    token_file = tmp_path / "new.json"
    save_token_file(token_file, {"refresh_token": "x"})
    assert json.loads(token_file.read_text(encoding="utf-8")) == {"refresh_token": "x"}
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
