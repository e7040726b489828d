"""A toxiproxy-like TCP proxy for tests: it sits on 127.0.0.1 between a client and a server and
applies seeded network toxics to the upstream (client → server) or downstream (server → client)
bytes of each connection. It knows nothing about HTTP or about webex-bulk.

Toxics follow toxiproxy's catalogue and semantics: ``Latency`` (with jitter), ``Bandwidth``,
``SlowClose``, ``BlackHole`` (toxiproxy's ``timeout``), ``ResetPeer``, ``Slicer`` and
``LimitData``. Each has a ``stream`` and a ``toxicity``: the probability that it applies to a
given connection, drawn once per connection and toxic from the proxy's seeded generator. The
toxic list may change while connections are open; open connections then draw again, as with
toxiproxy, so a black hole added mid-run also swallows the pooled keep-alive connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

import attrs

Stream = Literal["upstream", "downstream"]
CHUNK = 65_536


@attrs.frozen(kw_only=True)
class Toxic:
    """A toxic that does nothing: the bytes pass as they come (the base of every toxic)."""

    stream: Stream = "downstream"
    toxicity: float = 1.0

    async def on_data(self, data: bytes, stage: Stage) -> None:
        """One chunk read from this stream: pass it on (or not) through ``stage``."""
        await stage.forward(data)

    async def on_open(self, stage: Stage) -> None:
        """Runs beside the connection from the moment this toxic applies to it (timers)."""

    async def on_eof(self, stage: Stage) -> None:
        """The sender closed this stream; runs before the close is passed on."""


@attrs.frozen(kw_only=True)
class Latency(Toxic):
    """Each chunk arrives ``latency`` ± ``jitter`` seconds after it was read, order kept."""

    latency: float = 0.05
    jitter: float = 0.0

    async def on_data(self, data: bytes, stage: Stage) -> None:
        """Hold the chunk until its release time (never before the previous chunk's)."""
        loop = asyncio.get_running_loop()
        delay = max(0.0, self.latency + stage.rng.uniform(-self.jitter, self.jitter))
        release = max(stage.memo.get("release", 0.0), loop.time() + delay)
        stage.memo["release"] = release
        await asyncio.sleep(max(0.0, release - loop.time()))
        await stage.forward(data)


@attrs.frozen(kw_only=True)
class Bandwidth(Toxic):
    """At most ``rate`` bytes per second, sent in slices of a tenth of a second's worth."""

    rate: float = 65_536.0

    async def on_data(self, data: bytes, stage: Stage) -> None:
        """Send the chunk slice by slice, each after the time its bytes cost."""
        piece = max(1, int(self.rate / 10))
        for start in range(0, len(data), piece):
            part = data[start : start + piece]
            await asyncio.sleep(len(part) / self.rate)
            await stage.forward(part)


@attrs.frozen(kw_only=True)
class SlowClose(Toxic):
    """The close of this stream is passed on only ``delay`` seconds after it happened."""

    delay: float = 0.1

    async def on_eof(self, stage: Stage) -> None:
        """Wait before the close goes through."""
        await asyncio.sleep(self.delay)


@attrs.frozen(kw_only=True)
class BlackHole(Toxic):
    """Every byte of this stream is dropped; after ``timeout`` seconds the connection is closed
    (``timeout`` 0: never — the peer waits until it gives up)."""

    timeout: float = 0.0

    async def on_data(self, data: bytes, stage: Stage) -> None:
        """Drop the chunk."""

    async def on_open(self, stage: Stage) -> None:
        """Close the connection once the timeout has passed."""
        if self.timeout > 0:
            await asyncio.sleep(self.timeout)
            stage.close()


@attrs.frozen(kw_only=True)
class ResetPeer(Toxic):
    """The connection is reset (TCP RST, "connection reset by peer") ``timeout`` seconds after
    this toxic applies to it."""

    timeout: float = 0.0

    async def on_open(self, stage: Stage) -> None:
        """Reset both sockets once the timeout has passed."""
        await asyncio.sleep(self.timeout)
        stage.reset()


@attrs.frozen(kw_only=True)
class Slicer(Toxic):
    """Chunks are cut into pieces of ``average_size`` ± ``size_variation`` bytes, ``delay``
    seconds apart."""

    average_size: int = 32
    size_variation: int = 16
    delay: float = 0.0

    async def on_data(self, data: bytes, stage: Stage) -> None:
        """Send the chunk in small pieces."""
        start = 0
        while start < len(data):
            low = max(1, self.average_size - self.size_variation)
            size = stage.rng.randint(low, self.average_size + self.size_variation)
            await stage.forward(data[start : start + size])
            start += size
            if self.delay and start < len(data):
                await asyncio.sleep(self.delay)


@attrs.frozen(kw_only=True)
class LimitData(Toxic):
    """The connection is closed once ``limit`` bytes of this stream have gone through."""

    limit: int = 4096

    async def on_data(self, data: bytes, stage: Stage) -> None:
        """Pass the bytes up to the limit, then close the connection."""
        sent = int(stage.memo.get("sent", 0))
        allowed = data[: max(0, self.limit - sent)]
        stage.memo["sent"] = sent + len(allowed)
        if allowed:
            await stage.forward(allowed)
        if sent + len(data) >= self.limit:
            stage.close()


class Stage:
    """What a toxic sees of one stream of one connection: where its output goes, its own
    per-connection memory, the connection's generator, and how to close or reset it."""

    def __init__(self, pipe: Pipe, index: int) -> None:
        self._pipe = pipe
        self._index = index
        self.memo: dict[str, float] = pipe.memo.setdefault(index, {})
        self.rng = pipe.connection.rng

    async def forward(self, data: bytes) -> None:
        """Hand bytes to the next toxic of the stream, or to the socket after the last one."""
        await self._pipe.send(data, self._index + 1)

    def close(self) -> None:
        """Close the whole connection (FIN on both sides)."""
        self._pipe.connection.close()

    def reset(self) -> None:
        """Reset the whole connection (RST on both sides)."""
        self._pipe.connection.reset()


class Pipe:
    """One direction of one connection: the toxics that apply to it, then the writer."""

    def __init__(self, connection: Connection, stream: Stream, writer: asyncio.StreamWriter):
        self.connection = connection
        self.stream = stream
        self._writer = writer
        self.memo: dict[int, dict[str, float]] = {}

    async def send(self, data: bytes, index: int = 0) -> None:
        """Run ``data`` through the toxics from ``index`` on; the last stage writes it."""
        toxics = self.connection.active(self.stream)
        if index < len(toxics):
            await toxics[index].on_data(data, Stage(self, index))
            return
        if self._writer.is_closing():
            return
        self._writer.write(data)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def pump(self, reader: asyncio.StreamReader) -> None:
        """Copy this stream until its sender closes it; then close the connection."""
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(CHUNK):
                await self.send(data)
        for index, toxic in enumerate(self.connection.active(self.stream)):
            await toxic.on_eof(Stage(self, index))
        self.connection.close()


class Connection:
    """One proxied connection: its two pipes, its draws of the toxics, its timers."""

    def __init__(
        self,
        proxy: ChaosProxy,
        client: asyncio.StreamWriter,
        server: asyncio.StreamWriter,
        rng: random.Random,
    ) -> None:
        self._proxy = proxy
        self._writers = (client, server)
        self.rng = rng
        self.closed = asyncio.Event()
        self.pipes = {"upstream": Pipe(self, "upstream", server)}
        self.pipes["downstream"] = Pipe(self, "downstream", client)
        self._drawn: dict[Toxic, bool] = {}
        self._generation = -1
        self._active: dict[str, tuple[Toxic, ...]] = {"upstream": (), "downstream": ()}
        self._group: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: dict[Toxic, asyncio.Task[None]] = {}

    def active(self, stream: Stream) -> tuple[Toxic, ...]:
        """The toxics that apply to this stream now (drawn again when the list changed)."""
        if self._generation != self._proxy.generation:
            self._redraw()
        return self._active[stream]

    def _redraw(self) -> None:
        self._generation = self._proxy.generation
        chosen: dict[str, list[Toxic]] = {"upstream": [], "downstream": []}
        for toxic in self._proxy.toxics:
            if toxic not in self._drawn:  # toxics are frozen values: equal ones share a draw
                self._drawn[toxic] = self.rng.random() < toxic.toxicity
            if not self._drawn[toxic]:
                continue
            chosen[toxic.stream].append(toxic)
            if toxic not in self._timers and self._group is not None:
                stage = Stage(self.pipes[toxic.stream], len(chosen[toxic.stream]) - 1)
                timer = self._group.create_task(toxic.on_open(stage))
                self._timers[toxic] = timer
                self._tasks.append(timer)
        for toxic, timer in list(self._timers.items()):
            if toxic not in self._proxy.toxics:  # a removed toxic's timer must not fire later
                timer.cancel()
                del self._timers[toxic]
        self._active = {stream: tuple(items) for stream, items in chosen.items()}

    async def serve(self, client: asyncio.StreamReader, server: asyncio.StreamReader) -> None:
        """Pump both streams and run the toxics' timers until the connection is closed."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            self._tasks.append(group.create_task(self.pipes["upstream"].pump(client)))
            self._tasks.append(group.create_task(self.pipes["downstream"].pump(server)))
            self._redraw()
            await self.closed.wait()
            # A task cancelled here ends quietly: a TaskGroup does not count it as an error.
            for task in self._tasks:
                task.cancel()

    def close(self) -> None:
        """Close both sockets gracefully."""
        for writer in self._writers:
            if not writer.is_closing():
                writer.close()
        self.closed.set()

    def reset(self) -> None:
        """Close both sockets with an RST."""
        for writer in self._writers:
            sock = writer.get_extra_info("socket")
            if sock is not None and not writer.is_closing():
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
        self.closed.set()


class ChaosProxy:
    """A TCP proxy from ``127.0.0.1:port`` to ``host:upstream_port`` with changeable toxics."""

    def __init__(
        self, host: str, upstream_port: int, toxics: Sequence[Toxic] = (), *, seed: int = 0
    ) -> None:
        self._host = host
        self._upstream_port = upstream_port
        self._rng = random.Random(f"{seed}:chaos-proxy")
        self.toxics: tuple[Toxic, ...] = tuple(toxics)
        self.generation = 0
        self.connections = 0
        self.port = 0
        self._live: set[Connection] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    def set_toxics(self, toxics: Sequence[Toxic]) -> None:
        """Replace the toxics; open connections draw the new ones on their next bytes."""
        self.toxics = tuple(toxics)
        self.generation += 1

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # awaited at shutdown: start_server does not track its handlers
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        self.connections += 1
        rng = random.Random(self._rng.getrandbits(64))
        try:
            up_reader, up_writer = await asyncio.open_connection(self._host, self._upstream_port)
        except OSError:
            writer.close()
            return
        connection = Connection(self, writer, up_writer, rng)
        self._live.add(connection)
        try:
            await connection.serve(reader, up_reader)
        finally:
            self._live.discard(connection)
            connection.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ChaosProxy]:
        """Listen on an ephemeral port of 127.0.0.1 for the body of the block."""
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for connection in list(self._live):
                connection.close()
            await server.wait_closed()
            await asyncio.gather(*self._handlers, return_exceptions=True)
