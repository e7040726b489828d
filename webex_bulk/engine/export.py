"""``export``: the tenant written as an input file that ``run`` reads, type by type in phase order.

Streams: each page of a listing becomes rows before the next is read. Goes through the same
client as ``run`` (rate limit, retries, breaker) and writes with the outputs' CSV rules (BOM,
CRLF, formula escaping) behind a ``#`` header naming the org and the time.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import attrs

from webex_bulk import __version__
from webex_bulk.actions import EXPORTS, ActionContext, TenantReader
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine.batch_iterator import PHASES
from webex_bulk.engine.executor import StopControl
from webex_bulk.engine.preflight import first_call_check
from webex_bulk.engine.saved_plan import current_org
from webex_bulk.engine.session import open_client
from webex_bulk.error_handling import (
    ApiError,
    ConfigError,
    NetworkError,
    RetriesExhausted,
    RunAborted,
    StorageError,
)
from webex_bulk.http import WebexClient
from webex_bulk.input import KNOWN_COLUMNS, SCHEMA, SETTINGS_COLUMNS, escape_cell
from webex_bulk.log import setup_logging
from webex_bulk.models import EntityType

log = logging.getLogger("webex_bulk.engine.export")


@attrs.frozen
class ExportRequest:
    """What ``export`` needs, already parsed and checked by the CLI."""

    settings: Settings
    credentials: Credentials
    out: Path | None = None  # None: standard output
    only: frozenset[EntityType] | None = None
    location: str | None = None
    with_settings: bool = False  # one GET per user or workspace and settings group

    def types(self) -> list[EntityType]:
        """The entity types to write, in phase order (those the export can convert yet)."""
        ordered = [kind for phase in PHASES for kind in phase.types if kind in EXPORTS]
        return [kind for kind in ordered if self.only is None or kind in self.only]


@attrs.frozen
class ExportResult:
    """What an export wrote: rows per type, objects left out per type, requests, seconds."""

    path: Path | None
    org: str
    rows: Mapping[str, int]
    skipped: Mapping[str, int]
    requests: int
    seconds: float


def export_columns(types: list[EntityType], *, with_settings: bool = False) -> list[str]:
    """The header: ``entity_type`` and every column of the types, in the template's order
    (the settings columns only ``with_settings``)."""
    used = {column.name for kind in types for column in SCHEMA[kind].columns}
    if not with_settings:
        used -= set(SETTINGS_COLUMNS)
    return ["entity_type", *(c for c in KNOWN_COLUMNS if c in used)]


async def export_tenant(
    request: ExportRequest, stdout: IO[bytes], stop: StopControl | None = None
) -> ExportResult:
    """Write the tenant as an input file to ``request.out`` (whole or not at all) or ``stdout``.

    A stop (SIGINT, SIGTERM) ends it between two rows with ``RunAborted``; no file is left.
    """
    stop = stop or StopControl()
    settings = request.settings
    started = time.monotonic()
    secrets = request.credentials.secrets()
    with setup_logging(None, settings.log_format, settings.log_level, secrets):
        async with open_client(settings, request.credentials, uuid.uuid4().hex[:12]) as client:
            org_id, org_name = await _org_name(client, settings)
            reader = TenantReader(
                ActionContext(client=client, settings=settings),
                location=request.location,
                with_settings=request.with_settings,
            )
            await reader.start()
            written: Counter[str] = Counter()
            when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            types = request.types()
            with _target(request.out, stdout) as handle:
                table = csv.writer(handle, lineterminator="\r\n")
                for line in _header_lines(org_id, org_name, request, when):
                    table.writerow([line])
                columns = export_columns(types, with_settings=request.with_settings)
                table.writerow(columns)
                for kind in types:
                    async for cells in reader.rows(kind):
                        if stop.stopped:
                            raise RunAborted(f"{stop.why}; the export was not written")
                        row = {"entity_type": kind.value, **cells}
                        table.writerow([escape_cell(row.get(column, "")) for column in columns])
                        written[kind.value] += 1
                    _event("export.type", kind.value, written[kind.value], reader.skipped)
            if client.stats.writes:
                raise AssertionError(f"export sent {client.stats.writes} writes")  # a bug
            requests = client.stats.requests
    return ExportResult(
        path=request.out,
        org=org_name,
        rows={kind.value: written[kind.value] for kind in types},
        skipped=dict(reader.skipped),
        requests=requests,
        seconds=round(time.monotonic() - started, 3),
    )


def _event(name: str, kind: str, rows: int, skipped: Mapping[str, int]) -> None:
    fields = {"entity_type": kind, "rows": rows, "skipped": skipped.get(kind, 0)}
    log.info(name, extra={"event_fields": fields})


async def _org_name(client: WebexClient, settings: Settings) -> tuple[str, str]:
    """The org's id and display name (the name falls back to the id when it cannot be read)."""
    org_id = settings.org_id or ""
    try:
        org_id = await current_org(client, settings.org_id)
        org = (await client.request("GET", f"/organizations/{org_id}")).body or {}
    except ApiError as exc:
        if settings.org_id or exc.path != "/people/me":
            return org_id, org_id
        raise _first_call_error(exc, settings) from None
    except RetriesExhausted as exc:
        raise _first_call_error(exc, settings) from None
    return org_id, str(org.get("displayName") or org_id)


def _first_call_error(exc: ApiError | RetriesExhausted, settings: Settings) -> Exception:
    """The first call's failure as the network's or the base URL's when it is one (as preflight
    judges it on ``run``), else as it was."""
    if isinstance(exc, RetriesExhausted) and exc.unreachable:
        return NetworkError(exc.unreachable, exc.cause)
    check = first_call_check(exc, settings.base_url)
    if check is None:
        return exc
    source = "--base-url / WEBEX_BULK_BASE_URL"
    return ConfigError("base_url", source, f"{check.detail} — {check.hint}")


@contextlib.contextmanager
def _target(path: Path | None, stdout: IO[bytes]) -> Iterator[IO[str]]:
    """A text stream in the outputs' encoding (UTF-8 with BOM); a file appears whole or not
    at all (written beside it, renamed at the end)."""
    if path is None:
        text = _wrap(stdout)
        try:
            yield text
        finally:
            text.flush()
            text.detach()
        return
    partial = path.with_name(path.name + ".partial")
    try:
        handle = partial.open("w", encoding="utf-8-sig", errors="replace", newline="")
    except OSError as error:
        raise StorageError(str(partial), "open", error.strerror or str(error)) from None
    try:
        with handle:
            yield handle
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StorageError(str(path), "write", error.strerror or str(error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _wrap(stream: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")


def _header_lines(org_id: str, org_name: str, request: ExportRequest, when: str) -> list[str]:
    """The ``#`` lines above the header (the reader skips them): org, time, what was read."""
    types = ", ".join(kind.value for kind in request.types())
    where = _one_line(request.location) if request.location else "every location"
    return [
        f"# webex-bulk {__version__} export of org {_one_line(org_name)} ({org_id}) at {when}",
        f"# types: {types}; location: {where}",
    ]


def _one_line(text: str) -> str:
    """Text on one line: a line break in a name would end the comment early."""
    return " ".join(text.split())
