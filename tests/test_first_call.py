"""The first call of a command: a host that cannot be reached (refused, name not found, TLS) is
reported as the network, naming the host and what to check, never as the token; a 404 there says
that ``--base-url`` must end with ``/v1``. Exit 1, as for any failed preflight."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from click.testing import CliRunner, Result

from webex_bulk.cli.commands import main
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine import RunRequest, preflight_file
from webex_bulk.simulator import simulator_process

EXAMPLE = Path(__file__).parents[1] / "examples" / "tenant.csv"


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def invoke(tmp_path: Path, base_url: str, *args: str, **env: str) -> Result:
    """``webex-bulk ARGS`` against ``base_url``, without waits between attempts."""
    values = {
        "WEBEX_TOKEN": "a-token-that-is-never-checked",
        "WEBEX_BULK_BASE_URL": base_url,
        "WEBEX_BULK_RUNS_ROOT": str(tmp_path / "runs"),
        "WEBEX_BULK_BACKOFF_BASE": "0",
        **env,
    }
    return CliRunner().invoke(main, list(args), env=values, catch_exceptions=False)


def says_network(result: Result, host: str) -> None:
    """The command failed as the network, naming the host and what to check, not the token."""
    assert result.exit_code == 1, result.output
    assert f"[FAIL] network: cannot reach {host}" in result.output
    assert "HTTPS_PROXY" in result.output
    assert "--base-url" in result.output
    assert "firewall" in result.output
    assert "token" not in result.output.split("[FAIL]")[1]
    assert "Traceback" not in result.output


def test_a_closed_port_is_the_network_not_the_token(tmp_path: Path) -> None:
    """Connection refused on the first call: the network, the host and port named, exit 1."""
    port = closed_port()
    result = invoke(tmp_path, f"http://127.0.0.1:{port}/v1", "run", str(EXAMPLE))
    says_network(result, f"127.0.0.1:{port}")
    assert "connection refused" in result.output


def test_a_host_name_that_does_not_resolve_is_the_network(tmp_path: Path) -> None:
    """A name of the reserved ``.invalid`` domain never resolves, with or without internet."""
    base_url = "https://webex-bulk-test.invalid/v1"
    result = invoke(tmp_path, base_url, "preflight", str(EXAMPLE), WEBEX_BULK_MAX_ATTEMPTS="1")
    says_network(result, "webex-bulk-test.invalid:443")
    assert "host name not found" in result.output


@pytest.fixture
async def untrusted_tls() -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1 whose certificate no trusted CA signed; its base URL."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server)
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server)
    await site.start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


async def test_an_untrusted_certificate_is_the_network(untrusted_tls: str, tmp_path: Path) -> None:
    """A TLS certificate no trusted CA signed (a proxy re-signing TLS): the network, naming TLS."""
    request = RunRequest(
        input_path=EXAMPLE,
        settings=Settings(
            base_url=untrusted_tls, runs_root=str(tmp_path / "runs"), backoff_base=0.0
        ),
        credentials=Credentials(access_token="a-token"),
    )
    checks = await preflight_file(request)
    [failed] = [check for check in checks if check.level == "fail"]
    assert failed.name == "network"
    assert "TLS certificate not trusted" in failed.detail
    assert "HTTPS_PROXY" in failed.hint


async def test_a_refresh_that_cannot_reach_the_host_is_the_network(tmp_path: Path) -> None:
    """With refresh credentials the first request is the token grant: unreachable, it is still
    the network that fails, not the refresh token."""
    request = RunRequest(
        input_path=EXAMPLE,
        settings=Settings(
            base_url=f"http://127.0.0.1:{closed_port()}/v1",
            runs_root=str(tmp_path / "runs"),
            backoff_base=0.0,
        ),
        credentials=Credentials(
            refresh_token="a-refresh-token", client_id="an-id", client_secret="a-secret"
        ),
    )
    checks = await preflight_file(request)
    assert [check.name for check in checks if check.level == "fail"] == ["network"]


def test_a_base_url_without_v1_gets_the_hint(tmp_path: Path) -> None:
    """A 404 on the first call (the simulator's root without ``/v1``) says how --base-url ends."""
    with simulator_process() as sim:
        root = sim.base_url.removesuffix("/v1")
        result = invoke(tmp_path, root, "preflight", str(EXAMPLE), WEBEX_TOKEN=sim.token)
    assert result.exit_code == 1, result.output
    assert "[FAIL] base URL: GET /people/me → 404" in result.output
    assert "--base-url must end with /v1" in result.output


def test_export_blames_the_network_too(tmp_path: Path) -> None:
    """``export`` has no preflight: its own first call is judged the same way, exit 1."""
    port = closed_port()
    out = tmp_path / "tenant.csv"
    result = invoke(tmp_path, f"http://127.0.0.1:{port}/v1", "export", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"webex-bulk: cannot reach 127.0.0.1:{port}: could not connect" in result.output
    assert "HTTPS_PROXY" in result.output
    assert not out.exists()


def test_export_with_a_base_url_without_v1_gets_the_hint(tmp_path: Path) -> None:
    """A 404 on export's first call names the setting and how it must end, exit 1."""
    out = tmp_path / "tenant.csv"
    with simulator_process() as sim:
        root = sim.base_url.removesuffix("/v1")
        result = invoke(tmp_path, root, "export", "--out", str(out), WEBEX_TOKEN=sim.token)
    assert result.exit_code == 1, result.output
    assert "setting 'base_url'" in result.output
    assert "--base-url must end with /v1" in result.output
    assert not out.exists()
