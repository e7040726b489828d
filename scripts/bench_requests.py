"""The benchmark's request-count lanes, each the engine alone on its own simulator: a post-LDAP
import (people synced from a directory get calling), creates whose answer is lost (the
ambiguous-POST profile), and a mixed import killed with SIGKILL halfway and resumed.

Definitions and figures: ``docs/performance.md``, *Requests per row*.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import bench_kinds as kinds
from bench_clients import POLL, Variant, command, run_client
from bench_measure import figures, is_retried

#: The engine with room to spare: requests, not the rate, are what these lanes count.
FAST = Variant("engine", "engine", ("--rate", "1000", "--concurrency", "32"))
KILL_AT = 0.5
KILL_BOX = 3600.0


def _reset(sim: Any, tenant: Path | None) -> None:
    """Start from ``tenant`` (None: keep the tenant), with fresh counters and fault RNG."""
    if tenant is not None:
        sim.side("config", {"tenant_file": str(tenant)})
        sim.side("reset", {})
    else:
        sim.side("reset", {"counters": True, "tenant": False, "faults": True})


def _run(sim: Any, variant: Variant, csv_path: Path, work: Path) -> tuple[dict[str, Any], Any]:
    """Run the engine to the end of the file; its figures, and the run (rows, times)."""
    run = run_client(variant, csv_path, sim.base_url, sim.token, work, box=KILL_BOX)
    counts = sim.side("counts")
    result = figures(
        counts["recent"],
        run.rows,
        run.times,
        warmup=0.0,
        rate_limit=0.0,
        k_min=None,
        usage=run.usage,
    )
    result.update(
        exit_code=run.exit_code,
        by_route=counts["by_route"],
        by_status=counts["by_status"],
        writes=counts["writes"],
    )
    return result, (counts["recent"], run.rows)


def post_ldap_lane(
    sim_for: Callable[..., Any], csv_path: Path, tenant: Path, work: Path
) -> dict[str, Any]:
    """People synced from the directory, no calling: the import, then its re-run."""
    results: dict[str, Any] = {}
    with sim_for("ideal", tenant) as sim:
        for workload in ("fresh", "rerun"):
            _reset(sim, tenant if workload == "fresh" else None)
            result, _ = _run(sim, FAST, csv_path, work / "post-ldap" / workload)
            results[workload] = result
    return results


def ambiguous_lane(
    sim_for: Callable[..., Any], csv_path: Path, tenant: Path, work: Path
) -> dict[str, Any]:
    """A fresh users import where some creates lose their answer (before or after the change):
    the requests spent on each such create beyond its one POST."""
    with sim_for("ambiguous-post", tenant) as sim:
        _reset(sim, tenant)
        result, (records, _) = _run(sim, FAST, csv_path, work / "ambiguous")
        creates = sim.side("creates")
    lost = sum(1 for r in records if r["method"] == "POST" and is_retried(r["status"]))
    # Every request beyond one per row and the listings: the lost POSTs' lookups and re-sends.
    rows = result["rows_done"] + result["rows_failed"]
    extra = result["requests"] - rows - _listing(records)
    result.update(
        lost_answers=lost,
        extra_requests=extra,
        extra_per_lost=round(extra / lost, 2) if lost else None,
        duplicates=creates.get("duplicates", {}),
    )
    return result


def _listing(records: Any) -> int:
    """Requests that are neither a row's POST nor a lookup after a lost answer: the startup and
    the inventory pages (every GET before the first POST)."""
    first_post = min((float(r["t"]) for r in records if r["method"] == "POST"), default=0.0)
    return sum(1 for r in records if r["method"] == "GET" and float(r["t"]) < first_post)


def resume_lane(
    sim_for: Callable[..., Any],
    profile: str,
    variant: Variant,
    csv_path: Path,
    tenant: Path,
    work: Path,
    fresh_by_kind: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The mixed import killed with SIGKILL once half its rows are journaled, then resumed: the
    resume's requests against what its remaining rows cost in an uninterrupted run."""
    run_dir = work / "resume" / "run"
    with sim_for(profile, tenant) as sim:
        _reset(sim, tenant)
        killed_at = _kill_halfway(sim, variant, csv_path, work / "resume", run_dir)
        _reset(sim, None)
        result, (records, rows) = _run(sim, variant, csv_path, work / "resume")
    by_kind = kinds.k_by_kind(records, rows)
    expected = sum(
        entry["rows"] * float(fresh_by_kind.get(kind, {}).get("k") or 0.0)
        for kind, entry in by_kind.items()
        if kind != kinds.STARTUP
    )
    # The listings: every read of a collection (the preflight's, each kind's inventory pages,
    # and the schedules a location lists on first use), as opposed to a read of one object.
    listings = sum(
        1
        for r in records
        if r["method"] == "GET" and not is_retried(r["status"]) and not r["route"].endswith("}")
    )
    sent = sum(1 for r in records if not is_retried(r["status"]))
    result.update(
        killed_after_rows=killed_at,
        resumed_rows=len(rows),
        resumed_requests=sent,
        expected_requests=round(expected, 1),
        listing_requests=listings,
        surplus=round(sent - expected, 1),
        by_kind=by_kind,
    )
    return result


def _kill_halfway(sim: Any, variant: Variant, csv_path: Path, work: Path, run_dir: Path) -> int:
    """Start the engine and SIGKILL it once ``KILL_AT`` of the file's rows are journaled."""
    total = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    work.mkdir(parents=True, exist_ok=True)
    args = command(variant, csv_path, sim.base_url, work, float("inf"), timing=False)
    env = {**os.environ, "WEBEX_TOKEN": sim.token}
    journal = run_dir / "journal.jsonl"
    deadline = time.monotonic() + KILL_BOX
    with (work / "killed.log").open("wb") as err:
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
        done = 0
        while process.poll() is None and time.monotonic() < deadline:
            done = _lines(journal)
            if done >= total * KILL_AT:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(POLL)
        process.wait()
    return _lines(journal)


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:
        return 0
