"""Tokens on the request path: the refresh grant, single-flight refresh on 401, proactive
refresh before expiry, the token file rewrite, and no secret in logs or messages."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from support import BASE, FakeClock, make_client, sent
from yarl import URL

from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import AuthError, StorageError
from webex_bulk.http import WebexClient
from webex_bulk.log import setup_logging
from webex_bulk.state import EVENTS_FILE
from webex_bulk.state.persistence import write_atomic

pytestmark = pytest.mark.timeout(20)

TOKEN_URL = f"{BASE}/access_token"
SECRET = "client-secret-xyz"
REFRESH = "refresh-token-r1"
SECRETS = (SECRET, REFRESH, "old-token", "new-token", "refresh-token-r2")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def clock() -> FakeClock:
    """The fake clock the client reads and sleeps on."""
    return FakeClock()


#: The writer the engine gives the client for the token file.
SAVE = functools.partial(write_atomic, mode=0o600)


def refreshing_client(
    session: aiohttp.ClientSession,
    clock: FakeClock,
    *,
    access_token: str | None = "old-token",
    refreshable: bool = True,
    token_file: Path | None = None,
    save_file: Any = SAVE,
) -> WebexClient:
    """A client whose credentials may refresh (client id, secret, refresh token)."""
    credentials = Credentials(
        access_token=access_token,
        refresh_token=REFRESH if refreshable else None,
        client_id="cid" if refreshable else None,
        client_secret=SECRET if refreshable else None,
        token_file=token_file,
    )
    return make_client(
        session,
        clock,
        credentials=credentials,
        save_file=save_file,
        run_id="r",
        backoff_base=0.0,
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
    client = refreshing_client(session, clock, access_token=None)
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
    client = refreshing_client(session, clock)
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
    client = refreshing_client(session, clock, refreshable=False)
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
    client = refreshing_client(session, clock)
    with pytest.raises(AuthError, match="even after a refresh"):
        await client.request("GET", "/x")
    assert len(sent(mocked, "GET", f"{BASE}/x")) == 2
    assert len(sent(mocked, "POST", TOKEN_URL)) == 1


async def test_no_credentials_at_all_sends_nothing(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Without any token or refresh grant the request raises AuthError before sending."""
    client = refreshing_client(session, clock, access_token=None, refreshable=False)
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
    client = refreshing_client(session, clock, access_token=None)
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
    client = refreshing_client(session, clock, access_token=None, token_file=token_file)
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
    await refreshing_client(session, clock, access_token=None, token_file=token_file).request(
        "GET", "/x"
    )
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o640


async def test_a_refused_refresh_is_fatal_and_secret_free(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 400 from the token endpoint raises AuthError naming the status, not the secrets."""
    mocked.post(TOKEN_URL, status=400, payload={"message": f"invalid grant {REFRESH}"})
    client = refreshing_client(session, clock, access_token=None)
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
    await refreshing_client(session, clock, access_token=None).request("GET", "/x")
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
    client = refreshing_client(session, clock, token_file=token_file)
    await client.request("GET", "/x")
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + repr(getattr(record, "event_fields", {}))
        assert not any(secret in text for secret in SECRETS), record.getMessage()
    assert {"auth.refresh", "auth.token_file_saved", "http.retry", "http.rate_limited"} <= {
        r.getMessage() for r in caplog.records
    }


async def test_a_rotated_refresh_token_without_a_token_file_stops_the_run(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """When the API rotates the refresh token and there is no token file to keep it, the
    request raises AuthError (exit 1) saying so, and no API call follows the refresh."""
    mocked.post(TOKEN_URL, payload=token_answer(refresh="refresh-token-r2"))
    client = refreshing_client(session, clock, access_token=None)
    with pytest.raises(AuthError, match="no token file") as caught:
        await client.request("GET", "/x")
    assert not any(secret in str(caught.value) for secret in SECRETS)
    assert sent(mocked, "GET", f"{BASE}/x") == []


async def test_a_rotated_refresh_token_that_cannot_be_saved_stops_the_run(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock, tmp_path: Path
) -> None:
    """A failed write-back of a rotated refresh token raises AuthError naming the file and the
    cause; the token file keeps its content."""
    token_file = tmp_path / "token.json"
    token_file.write_text('{"refresh_token": "refresh-token-r1"}', encoding="utf-8")

    def failing(path: Path, data: bytes) -> None:
        raise StorageError(str(path), "write", "No space left on device")

    mocked.post(TOKEN_URL, payload=token_answer(refresh="refresh-token-r2"))
    client = refreshing_client(
        session, clock, access_token=None, token_file=token_file, save_file=failing
    )
    with pytest.raises(AuthError, match="No space left on device") as caught:
        await client.request("GET", "/x")
    assert str(token_file) in str(caught.value)
    assert "refresh-token-r2" not in str(caught.value)
    assert json.loads(token_file.read_text(encoding="utf-8")) == {"refresh_token": REFRESH}


async def test_a_token_file_that_is_not_an_object_is_never_overwritten(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock, tmp_path: Path
) -> None:
    """A rotation with a token file that no longer holds a JSON object raises AuthError and
    leaves the file as it was."""
    token_file = tmp_path / "token.json"
    token_file.write_text("[1, 2]", encoding="utf-8")
    mocked.post(TOKEN_URL, payload=token_answer(refresh="refresh-token-r2"))
    client = refreshing_client(session, clock, access_token=None, token_file=token_file)
    with pytest.raises(AuthError, match="not a JSON object"):
        await client.request("GET", "/x")
    assert token_file.read_text(encoding="utf-8") == "[1, 2]"


async def test_a_missing_token_file_is_created_0600(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock, tmp_path: Path
) -> None:
    """A token file deleted during the run is written anew with only the rotated refresh token,
    mode 0600."""
    token_file = tmp_path / "gone.json"
    mocked.post(TOKEN_URL, payload=token_answer(refresh="refresh-token-r2"))
    mocked.get(f"{BASE}/x", payload={})
    client = refreshing_client(session, clock, access_token=None, token_file=token_file)
    await client.request("GET", "/x")
    assert json.loads(token_file.read_text(encoding="utf-8")) == {
        "refresh_token": "refresh-token-r2"
    }
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


async def test_a_token_file_readable_by_others_is_warned_about(
    session: aiohttp.ClientSession,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A token file of mode 0644 gives an auth.token_file_open warning naming the fix; 0600
    gives none."""
    token_file = tmp_path / "token.json"
    token_file.write_text("{}", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="webex_bulk")
    token_file.chmod(0o600)
    refreshing_client(session, clock, token_file=token_file)
    assert [r for r in caplog.records if r.getMessage() == "auth.token_file_open"] == []
    token_file.chmod(0o644)
    refreshing_client(session, clock, token_file=token_file)
    (warning,) = [r for r in caplog.records if r.getMessage() == "auth.token_file_open"]
    assert getattr(warning, "event_fields", {})["mode"] == "0644"


async def test_a_refreshed_token_never_reaches_events_log(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock, tmp_path: Path
) -> None:
    """The refreshed access token and the rotated refresh token are registered with the log
    redactor: an event that carries them is written to events.log with *** instead."""
    token_file = tmp_path / "token.json"
    token_file.write_text("{}", encoding="utf-8")
    mocked.post(TOKEN_URL, payload=token_answer(access="fresh-token-77", refresh="rotated-r9"))
    mocked.get(f"{BASE}/x", payload={})
    run_dir = tmp_path / "run"
    with setup_logging(run_dir / EVENTS_FILE, "json", "info", [], stream=io.StringIO()):
        client = refreshing_client(session, clock, access_token=None, token_file=token_file)
        await client.request("GET", "/x")
        leak = {"seen": "fresh-token-77 rotated-r9"}
        logging.getLogger("webex_bulk.test").warning("test.leak", extra={"event_fields": leak})
    events = (run_dir / "events.log").read_text(encoding="utf-8")
    assert "test.leak" in events
    assert "auth.refresh" in events
    assert "fresh-token-77" not in events
    assert "rotated-r9" not in events


async def test_a_rate_limited_refresh_waits_the_retry_after(
    mocked: aioresponses, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """A 429 from the token endpoint is waited out for its Retry-After (the one retry decision),
    then the grant is sent again and its token used."""
    mocked.post(TOKEN_URL, status=429, headers={"Retry-After": "7"})
    mocked.post(TOKEN_URL, payload=token_answer())
    mocked.get(f"{BASE}/x", payload={})
    await refreshing_client(session, clock, access_token=None).request("GET", "/x")
    assert len(sent(mocked, "POST", TOKEN_URL)) == 2
    assert clock.sleeps == [7.0]
