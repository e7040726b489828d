"""Corporate networks: the run goes through ``HTTP(S)_PROXY`` unless ``NO_PROXY`` says otherwise,
and HTTPS trusts an extra CA bundle (``--ca-bundle``) besides the system's."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from webex_bulk.engine import Caps, parse_only
from webex_bulk.error_handling import ConfigError
from webex_bulk.http import ssl_context

EXAMPLE = Path(__file__).parents[1] / "examples" / "tenant.csv"


class ForwardProxy:
    """A forward HTTP proxy on loopback that counts the requests it passes on to one origin."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.passed: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Pass one request on to the origin and its answer back."""
        self.passed.append(f"{request.method} {request.path}")
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, self.origin + request.path_qs, headers=headers, data=body
            ) as answer,
        ):
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            return web.Response(status=answer.status, body=payload, headers=kept)


_HOP = {
    "host",
    "connection",
    "proxy-connection",
    "content-length",
    "transfer-encoding",
    "content-encoding",
    "keep-alive",
}


async def start_proxy(origin: str) -> AsyncIterator[ForwardProxy]:
    """Serve a ``ForwardProxy`` on an ephemeral port of 127.0.0.1 until the test ends."""
    proxy = ForwardProxy(origin)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    proxy.url = f"http://127.0.0.1:{port}"
    try:
        yield proxy
    finally:
        await runner.cleanup()


def _origin(base_url: str) -> str:
    return base_url.split("/v1")[0]


async def test_a_run_goes_through_the_proxy_named_by_the_environment(
    simulator, run_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set, every request of a run reaches the tenant through the proxy."""
    async with simulator() as sim:
        proxies = start_proxy(_origin(sim.base_url))
        proxy = await anext(proxies)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        try:
            done = await run_engine(sim, EXAMPLE, caps=Caps(only=parse_only("location")))
        finally:
            await proxies.aclose()
    assert done.result.summary["by_status"]["success"] == 3
    assert len(proxy.passed) == done.result.summary["requests"]
    assert "POST /v1/locations" in proxy.passed


async def test_no_proxy_sends_the_run_direct(
    simulator, run_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host listed in NO_PROXY is reached directly: the proxy sees nothing."""
    async with simulator() as sim:
        proxies = start_proxy(_origin(sim.base_url))
        proxy = await anext(proxies)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        try:
            done = await run_engine(sim, EXAMPLE, caps=Caps(only=parse_only("location")))
        finally:
            await proxies.aclose()
    assert done.result.summary["by_status"]["success"] == 3
    assert proxy.passed == []


async def _handshake(context: ssl.SSLContext, server: ssl.SSLContext) -> None:
    """A TLS handshake between ``context`` and a loopback server presenting ``server``'s cert."""

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    try:
        _reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname="localhost"
        )
        writer.close()
    finally:
        listener.close()
        await listener.wait_closed()


async def test_a_ca_bundle_makes_a_private_certificate_trusted(tmp_path: Path) -> None:
    """A server certificate of a private CA verifies once that CA's bundle is given, not before."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server)
    bundle = tmp_path / "corporate-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    await _handshake(ssl_context(str(bundle)), server)
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(ssl_context(None), server)


def test_an_unusable_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    """A CA bundle that holds no certificate is refused, naming the setting and the file."""
    bundle = tmp_path / "empty.pem"
    bundle.write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ca_bundle"):
        ssl_context(str(bundle))
