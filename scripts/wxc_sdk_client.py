"""The wxc_sdk client the benchmark compares with: the async Webex Calling SDK doing the same
user imports the way its examples do — a lookup by e-mail, then one create with the calling
license, location and extension, many rows at once under the SDK's own concurrency limit.

The SDK is used with its defaults (``concurrent_requests`` 10, 429s retried after
``Retry-After``, no retry of a 5xx); only ``--concurrency`` changes. Needs the ``bench`` extra.

    WEBEX_TOKEN=… python scripts/wxc_sdk_client.py --base-url URL --csv FILE --out RESULT.json
        [--concurrency 10] [--stop-at MONOTONIC]

Writes ``{"rows": [[started, ended, ok], …], "failed": N}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

with warnings.catch_warnings():
    # aiohttp discourages subclassing ClientSession, which the SDK does; not ours to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    from wxc_sdk.as_api import AsWebexSimpleApi
    from wxc_sdk.as_rest import AsRestError, AsRestSession
    from wxc_sdk.people import Person

CALLING_LICENSE = "Webex Calling - Professional"
#: Seconds rows in flight may take to finish once the client is told to stop.
STOP_GRACE = 10.0


async def import_user(api: AsWebexSimpleApi, row: dict[str, str], refs: dict[str, str]) -> None:
    """Look the user up by e-mail; if absent, create them as a calling user in one request."""
    found = await api.people.list(email=row["email"], calling_data=True)
    if found:
        return
    person = Person(
        emails=[row["email"]],
        display_name=f"{row['first_name']} {row['last_name']}",
        first_name=row["first_name"],
        last_name=row["last_name"],
        location_id=refs[row["location"]],
        extension=row["extension"],
        licenses=[refs[CALLING_LICENSE]],
    )
    await api.people.create(person, calling_data=True)


async def references(api: AsWebexSimpleApi) -> dict[str, str]:
    """Location ids by name and the calling license id, read once."""
    refs = {location.name: location.location_id for location in await api.locations.list()}
    for item in await api.licenses.list():
        if item.name == CALLING_LICENSE:
            refs[CALLING_LICENSE] = item.license_id
    return refs


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Import the rows with ``2 × concurrency`` row tasks, so the SDK's own limit is what binds."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    AsRestSession.BASE = args.base_url.rstrip("/")
    rows: list[tuple[float, float, bool]] = []
    failed = 0
    async with AsWebexSimpleApi(
        tokens=os.environ["WEBEX_TOKEN"], concurrent_requests=args.concurrency
    ) as api:
        refs = await references(api)
        pending = _rows(Path(args.csv))

        async def worker() -> None:
            nonlocal failed
            for row in pending:
                if stop.is_set() or time.monotonic() >= args.stop_at:
                    return
                started = time.monotonic()
                try:
                    await import_user(api, row, refs)
                    ok = True
                except (AsRestError, aiohttp.ClientError, TimeoutError):
                    ok = False
                    failed += 1
                rows.append((started, time.monotonic(), ok))

        tasks = [asyncio.create_task(worker()) for _ in range(2 * args.concurrency)]
        watch = asyncio.create_task(_stop_watch(stop, args.stop_at, tasks))
        await asyncio.gather(*tasks, return_exceptions=True)
        watch.cancel()
    return {"rows": rows, "failed": failed}


async def _stop_watch(stop: asyncio.Event, stop_at: float, tasks: list[asyncio.Task[None]]) -> None:
    """At ``stop_at`` (or SIGTERM) stop taking rows; rows still in flight after ``STOP_GRACE``
    (the SDK retries a 429 forever) are cancelled and count as not done."""
    with contextlib.suppress(TimeoutError):
        timeout = None if stop_at == float("inf") else max(0.0, stop_at - time.monotonic())
        await asyncio.wait_for(stop.wait(), timeout)
    stop.set()
    await asyncio.sleep(STOP_GRACE)
    for task in tasks:
        task.cancel()


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def peak_rss_mb() -> float | None:
    """This process's own peak RSS (``VmHWM``): unlike ``ru_maxrss``, not inflated by the memory
    of the parent it was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> None:
    """Parse the arguments, run, write the result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--stop-at", type=float, default=float("inf"))
    args = parser.parse_args()
    result = asyncio.run(run(args))
    result["peak_rss_mb"] = peak_rss_mb()
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")
    print(f"rows {len(result['rows'])} failed {result['failed']}", file=sys.stderr)


if __name__ == "__main__":
    main()
