"""The benchmark's export lane: ``webex-bulk export`` of a tenant holding every entity type the
mixed file makes, against a server limited to R = 10/s with 150 ms median latency (``r10-l150``).

The tenant is made by the mixed import itself, run to its end on the ideal profile in the same
simulator process; then the knobs switch to the limited profile (counters, fault RNG and rate
buckets reset, tenant kept) and the export runs in its own process with the engine's defaults
but ``--rate 10``. Standalone: ``python scripts/bench_export.py --quick`` (or ``--full``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(ROOT))

import bench_data as data  # noqa: E402
from bench_clients import Variant, engine_command, run_client, run_process, tail  # noqa: E402
from bench_measure import is_success  # noqa: E402
from bench_setup import FINISH_BOX, MODES, Mode, load_profile  # noqa: E402

from webex_bulk.simulator import simulator_process  # noqa: E402

EXPORT_PROFILE = "r10-l150"
#: The import that fills the tenant: no latency, no limit, room to spare.
FILL = Variant("engine", "engine", ("--rate", "1000", "--concurrency", "32"))
#: The rate the server allows; everything else is the engine's default.
EXPORT_ARGS = ("--rate", "10")


def export_lane(mode: Mode, scratch: Path) -> dict[str, Any]:
    """Fill a simulator with the mixed file on the ideal profile, then export it at R."""
    work = scratch / "export"
    work.mkdir(parents=True, exist_ok=True)
    mixed = work / "mixed.csv"
    rows_by_type = data.mixed_file(mixed, mode.export_rows)
    tenant = data.empty_tenant(work / "tenant.json", mode.export_rows)
    limited = load_profile(EXPORT_PROFILE)
    with simulator_process(
        load_profile("ideal").config(), tenant=tenant, startup_timeout=600
    ) as sim:
        fill = run_client(FILL, mixed, sim.base_url, sim.token, work / "fill", box=FINISH_BOX)
        filled = sim.side("counts")["writes"]
        sim.side("config", limited.knobs)
        sim.side("reset", {"counters": True, "tenant": False, "faults": True})
        out = work / "tenant-export.csv"
        args = ["export", "--out", str(out), "--base-url", sim.base_url, *EXPORT_ARGS]
        launched = time.monotonic()
        run = run_process(
            engine_command(work / "run", args),
            sim.token,
            work / "run",
            launched=launched,
            stop=launched + FINISH_BOX,
        )
        counts = sim.side("counts")
    result = export_figures(counts["recent"], exported_rows(out), limited.rate_limit)
    result.update(
        profile=EXPORT_PROFILE,
        args=list(EXPORT_ARGS),
        file_rows=mode.export_rows,
        rows_by_type=rows_by_type,
        fill={
            "rows_done": sum(1 for row in fill.rows if row[2]),
            "rows": sum(rows_by_type.values()),
            "writes": filled,
            "seconds": round(fill.times.ended - fill.times.launched, 1),
            "exit_code": fill.exit_code,
        },
        exit_code=run.exit_code,
        wall_seconds=round(run.times.ended - run.times.launched, 2),
        cpu_seconds=round(run.usage.cpu_seconds, 2),
        peak_rss_mb=round(run.usage.peak_rss_mb, 1),
        by_status=counts["by_status"],
        writes=counts["writes"],
    )
    result["objects_per_second"] = round(result["objects"] / result["wall_seconds"], 1)
    if run.exit_code != 0:
        result["stderr_tail"] = list(tail(work / "run" / "stderr.log"))
    return result


def exported_rows(path: Path) -> Counter[str]:
    """Rows per entity type of an export file (its ``#`` lines and header left out)."""
    if not path.exists():
        return Counter()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = (row for row in csv.reader(handle) if row and not row[0].startswith("#"))
        header = next(cells, [])
        if "entity_type" not in header:
            return Counter()
        column = header.index("entity_type")
        return Counter(row[column] for row in cells)


def export_figures(
    records: Sequence[Mapping[str, Any]], objects: Mapping[str, int], rate_limit: float
) -> dict[str, Any]:
    """The export's figures from the simulator's record: requests, their rate over the run (first
    to last arrival) against R, 429s; objects per request. Pure."""
    arrivals = sorted(float(r["t"]) for r in records)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    sent = len(records)
    ok = sum(1 for r in records if is_success(r["status"]))
    limited = sum(1 for r in records if str(r["status"]) == "429")
    total = sum(objects.values())
    return {
        "objects": total,
        "objects_by_type": dict(objects),
        "requests": sent,
        "successes": ok,
        "rate_limited": limited,
        "rate_limited_per_success": round(limited / ok, 4) if ok else None,
        "requests_per_object": round(sent / total, 4) if total else None,
        "run_seconds": round(span, 2),
        "requests_per_second": round(sent / span, 3) if span else None,
        "success_rps": round(ok / span, 3) if span else None,
        "efficiency": round(ok / span / rate_limit, 3) if span and rate_limit else None,
        "objects_per_second_in_run": round(total / span, 1) if span else None,
    }


def render(export: Mapping[str, Any]) -> list[str]:
    """The export lane as text."""
    fill = export["fill"]
    types = ", ".join(f"{k} {v}" for k, v in export["objects_by_type"].items())
    return [
        f"EXPORT ({export['profile']}: R = 10/s, 150 ms median latency; webex-bulk export "
        f"{' '.join(export['args'])}, defaults otherwise)",
        f"  tenant: the mixed file of {export['file_rows']:,} rows imported on the ideal profile "
        f"({fill['rows_done']:,} rows ok, {fill['writes']:,} writes, {fill['seconds']} s)",
        f"  {export['objects']:,} objects in {export['wall_seconds']} s (launch to exit): "
        f"{export['objects_per_second']} objects/s; {export['requests']:,} requests, "
        f"{_num(export['requests_per_object'])} per object; first to last request "
        f"{export['run_seconds']} s: {_num(export['requests_per_second'])} requests/s, "
        f"2xx/s ÷ R {_num(export['efficiency'])}; 429s {export['rate_limited']} "
        f"({_num(export['rate_limited_per_success'])} per success); cpu {export['cpu_seconds']} s, "
        f"RSS {export['peak_rss_mb']} MB, exit {export['exit_code']}",
        f"  objects: {types}",
    ]


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:g}"


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The export lane's target (none when the lane did not run): at the server's rate it
    respects the limit like ``run``. Its speed is reported, not a target: the people listing is
    cursor-paged (one round trip a page), so an export is bound by latency there, not by R."""
    export = results.get("export")
    if not export:
        return []
    eff, limited = export["efficiency"], export["rate_limited_per_success"]
    shown = f"429/ok {_num(limited)} (speed: {export['objects_per_second']} objects/s, "
    shown += f"2xx/s ÷ R {_num(eff)})"
    return [
        {
            "target": "export at --rate R: 429s <= 1 % of successes",
            "measured": shown,
            "met": limited is not None and limited <= 0.01,
            "values": {"efficiency": eff, "rate_limited_per_success": limited},
        }
    ]


def main() -> None:
    """The export lane alone: print its section and target, write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_const", const="quick", dest="mode")
    which.add_argument("--full", action="store_const", const="full", dest="mode")
    parser.add_argument("--output", default=None, help="JSON file [bench/results/export-MODE.json]")
    args = parser.parse_args()
    mode = MODES[args.mode or "quick"]
    with tempfile.TemporaryDirectory(prefix="webex-bench-") as scratch:
        results = {"mode": mode.name, "export": export_lane(mode, Path(scratch))}
    results["targets"] = targets(results)
    print("\n".join(render(results["export"])))
    for target in results["targets"]:
        print(f"  [{'met ' if target['met'] else 'MISS'}] {target['target']}: {target['measured']}")
    output = Path(args.output or ROOT / "bench" / "results" / f"export-{mode.name}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {output}")


if __name__ == "__main__":
    main()
