"""The engine as the benchmark runs it: ``webex-bulk run`` in this process, plus a timer around
each work item so the benchmark can report row latency. Nothing else of the engine is changed.

    python scripts/bench_engine.py TIMINGS.json [--no-timing] run FILE --base-url … --rate …
    python scripts/bench_engine.py TIMINGS.json --no-timing export --out FILE --base-url …

``TIMINGS.json`` receives ``{"rows": [[started, ended, ok, entity_type], …], "peak_rss_mb": …}``
when the command ends, however it ends (times are ``time.monotonic``, the same clock in every
process of the machine).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webex_bulk.cli import commands as cli  # noqa: E402
from webex_bulk.engine import executor  # noqa: E402
from webex_bulk.error_handling import Status  # noqa: E402

RunItem = Callable[[Any, Any], Coroutine[Any, Any, list[Any]]]
Record = tuple[float, float, bool, str]


def timed(original: RunItem, rows: list[Record]) -> RunItem:
    """Wrap ``Engine._run_item``: one (started, ended, success, entity type) record per row of
    the item."""

    async def run_item(engine: Any, item: Any) -> list[Any]:
        started = time.monotonic()
        outcomes = await original(engine, item)
        ended = time.monotonic()
        rows.extend((started, ended, o.status == Status.SUCCESS, o.entity_type) for o in outcomes)
        return outcomes

    return run_item


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
    """Run the CLI with the timer in place; write the timings whatever the exit."""
    target = Path(sys.argv[1])
    args = sys.argv[2:]
    rows: list[Record] = []
    if args and args[0] == "--no-timing":
        args = args[1:]
    else:
        executor.Engine._run_item = timed(executor.Engine._run_item, rows)  # type: ignore[method-assign]
    try:
        cli.main(args, prog_name="webex-bulk")
    finally:
        target.write_text(json.dumps({"rows": rows, "peak_rss_mb": peak_rss_mb()}), "utf-8")


if __name__ == "__main__":
    main()
