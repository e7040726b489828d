"""Benchmark of webex-bulk against the simulator: how close it runs to the server's rate limit,
how few requests it spends per row, side by side with a naive sequential script and the
wxc_sdk async client, on the same profiles and the same rows. Prints a table, writes JSON.

    python scripts/bench.py --quick     # make bench: 1k rows, short time boxes (~10 min)
    python scripts/bench.py --full      # make bench-full: 20k rows, long time boxes, 200k scale
    python scripts/bench_export.py --quick   # the export lane alone (also part of both above)

Every client and every simulator runs in its own process; independent profiles run in parallel
lanes (``--jobs``), the CPU-bound parts (ideal profile, scale) alone. Method and definitions:
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(ROOT))

import bench_auto as auto  # noqa: E402
import bench_data as data  # noqa: E402
import bench_export as export  # noqa: E402
import bench_kinds as kinds  # noqa: E402
import bench_report as report  # noqa: E402
import bench_requests as requests  # noqa: E402
from bench_clients import Variant, run_client, tail, tuned_concurrency, variants  # noqa: E402
from bench_measure import figures  # noqa: E402
from bench_setup import (  # noqa: E402
    FINISH_BOX,
    MIXED_PROFILE,
    MODES,
    SIDE_BY_SIDE,
    Files,
    Mode,
    load_profile,
    make_files,
)

from webex_bulk.simulator import simulator_process  # noqa: E402


@contextlib.contextmanager
def simulator_for(profile_name: str, tenant: Path) -> Iterator[Any]:
    """A simulator process of a profile, starting from ``tenant``."""
    profile = load_profile(profile_name)
    with simulator_process(profile.config(), tenant=tenant, startup_timeout=600) as sim:
        yield sim


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def use_tenant(sim: Any, tenant: Path) -> None:
    """Start the next client from ``tenant``: new tenant, counters, fault RNG and rate buckets."""
    sim.side("config", {"tenant_file": str(tenant)})
    sim.side("reset", {})


def measure_run(
    sim: Any,
    variant: Variant,
    csv_path: Path,
    work: Path,
    *,
    box: float,
    warmup: float,
    rate_limit: float,
    k_min: float | None,
) -> dict[str, Any]:
    """Run one client against the simulator's current tenant; its figures."""
    run = run_client(variant, csv_path, sim.base_url, sim.token, work, box=box)
    counts = sim.side("counts")
    result = figures(
        counts["recent"],
        run.rows,
        run.times,
        warmup=warmup,
        rate_limit=rate_limit,
        k_min=k_min,
        usage=run.usage,
    )
    result.update(
        client=variant.name,
        kind=variant.kind,
        args=list(variant.args),
        exit_code=run.exit_code,
        server_by_status=counts["by_status"],
        engine_summary={
            k: run.summary.get(k) for k in ("by_status", "requests", "rate_limited", "retries")
        }
        if run.summary
        else None,
    )
    if run.exit_code not in (0, 3, 143, 4) or not run.rows:
        result["stderr_tail"] = list(tail(work / "stderr.log"))
    return result


def ideal_lane(mode: Mode, files: Files, scratch: Path) -> dict[str, Any]:
    """Every client on the ideal profile (no latency, no limit), to the end of the file: the
    minimum requests per row of each client and workload, and its CPU per row."""
    profile = load_profile("ideal")
    results: dict[str, Any] = {}
    clients = [
        Variant("engine", "engine", ("--rate", "1000", "--concurrency", "32")),
        Variant("naive", "naive"),
        Variant("wxc-sdk", "wxc", ("--concurrency", "40")),
    ]
    with simulator_process(profile.config(), tenant=files.users_empty) as sim:
        for variant in clients:
            for workload, tenant in (
                ("fresh", files.users_empty),
                ("rerun", files.users_provisioned),
            ):
                use_tenant(sim, tenant)
                work = scratch / "ideal" / variant.name / workload
                result = measure_run(
                    sim,
                    variant,
                    files.users,
                    work,
                    box=FINISH_BOX,
                    warmup=0.0,
                    rate_limit=0.0,
                    k_min=None,
                )
                results[f"{variant.kind}/{workload}"] = result
                log(
                    f"ideal {variant.name} {workload}: k={result['k']} "
                    f"{result['rows_done']} rows in {result['duration']} s"
                )
    return results


def profile_lane(
    name: str, mode: Mode, files: Files, scratch: Path, k_min: dict[str, float]
) -> list[dict[str, Any]]:
    """The side-by-side on one profile: every client, fresh import then re-run."""
    profile = load_profile(name)
    results = []
    with simulator_process(profile.config(), tenant=files.users_empty) as sim:
        for variant in variants(profile.rate_limit, profile.p99):
            for workload in ("fresh", "rerun"):
                use_tenant(
                    sim, files.users_empty if workload == "fresh" else files.users_provisioned
                )
                finish = workload == "rerun" and variant.kind == "engine"
                box = FINISH_BOX if finish else mode.box if workload == "fresh" else mode.rerun_box
                warmup = mode.warmup if workload == "fresh" else mode.rerun_warmup
                result = measure_run(
                    sim,
                    variant,
                    files.users,
                    scratch / name / variant.name / workload,
                    box=box,
                    warmup=warmup,
                    rate_limit=profile.rate_limit,
                    k_min=k_min.get(f"{variant.kind}/{workload}"),
                )
                result.update(profile=name, workload=workload, rate_limit=profile.rate_limit)
                results.append(result)
                log(f"{name} {variant.name} {workload}: {report.one_line(result)}")
    return results


def mixed_lane(mode: Mode, files: Files, scratch: Path) -> dict[str, Any]:
    """The engine, tuned, on a fresh import of every entity type and its re-run, to the end."""
    profile = load_profile(MIXED_PROFILE)
    workers = tuned_concurrency(profile.rate_limit, profile.p99)
    variant = Variant(
        "engine-tuned",
        "engine",
        ("--rate", f"{profile.rate_limit:g}", "--concurrency", str(workers)),
    )
    results: dict[str, Any] = {"profile": MIXED_PROFILE, "rows_by_type": files.mixed_counts}
    with simulator_process(profile.config(), tenant=files.mixed_tenant) as sim:
        use_tenant(sim, files.mixed_tenant)
        for workload in ("fresh", "rerun"):
            if workload == "rerun":
                sim.side("reset", {"counters": True, "tenant": False, "faults": True})
            result = measure_run(
                sim,
                variant,
                files.mixed,
                scratch / "mixed" / workload,
                box=FINISH_BOX,
                warmup=mode.warmup,
                rate_limit=profile.rate_limit,
                k_min=None,
            )
            counts = sim.side("counts")
            result["writes"] = counts["writes"]
            rows = _rows_of(scratch / "mixed" / workload)
            minimum = data.mixed_minimum(files.mixed_counts) if workload == "fresh" else None
            result["by_kind"] = kinds.k_by_kind(counts["recent"], rows, minimum)
            results[workload] = result
            log(f"mixed {workload}: {report.one_line(result)}")
    return results


def _rows_of(work: Path) -> list[list[Any]]:
    """The rows a client run recorded (type included for the engine)."""
    path = work / "rows.json"
    return (
        list(json.loads(path.read_text(encoding="utf-8")).get("rows", [])) if path.exists() else []
    )


def mixed_then_resume(
    mode: Mode, files: Files, scratch: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The mixed import and its re-run, then the same import killed halfway and resumed."""
    mixed = mixed_lane(mode, files, scratch)
    profile = load_profile(MIXED_PROFILE)
    workers = tuned_concurrency(profile.rate_limit, profile.p99)
    variant = Variant(
        "engine-tuned",
        "engine",
        ("--rate", f"{profile.rate_limit:g}", "--concurrency", str(workers)),
    )
    resumed = requests.resume_lane(
        simulator_for,
        MIXED_PROFILE,
        variant,
        files.mixed,
        files.mixed_tenant,
        scratch,
        mixed["fresh"]["by_kind"],
    )
    log(f"resume: {resumed['resumed_requests']} requests, expected {resumed['expected_requests']}")
    return mixed, resumed


def scale_lane(mode: Mode, files: Files, scratch: Path) -> dict[str, Any]:
    """The engine alone on a big users file, no latency, no limit: its CPU ceiling and memory."""
    import psutil

    profile = load_profile("ideal")
    variant = Variant("engine", "engine", ("--rate", "1000", "--concurrency", "32"))
    with simulator_process(
        profile.config(recent_requests=0), tenant=files.scale_tenant, startup_timeout=600
    ) as sim:
        server = psutil.Process(sim.pid)
        before = sum(server.cpu_times()[:2])
        run = run_client(
            variant,
            files.scale,
            sim.base_url,
            sim.token,
            scratch / "scale",
            box=FINISH_BOX,
            timing=False,
        )
        server_cpu = sum(server.cpu_times()[:2]) - before
        counts = sim.side("counts")
    seconds = run.times.ended - run.times.launched
    engine_seconds = float(run.summary.get("duration_seconds") or seconds)
    done = int((run.summary.get("by_status") or {}).get("success", 0))
    return {
        "rows": mode.scale_rows,
        "rows_done": done,
        "exit_code": run.exit_code,
        "wall_seconds": round(seconds, 1),
        "engine_run_seconds": round(engine_seconds, 1),
        "rows_per_second": round(done / seconds, 1),
        "rows_per_second_in_run": round(done / engine_seconds, 1),
        "cpu_seconds": round(run.usage.cpu_seconds, 1),
        "cpu_ms_per_row": round(run.usage.cpu_seconds / max(done, 1) * 1000, 3),
        "peak_rss_mb": round(run.usage.peak_rss_mb, 1),
        "simulator_cpu_seconds": round(server_cpu, 1),
        "requests": counts["total"],
        "args": list(variant.args),
    }


def machine() -> dict[str, Any]:
    """Where the figures were taken."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"python": platform.python_version(), "cpus": cpus, "platform": platform.platform()}


def run_all(mode: Mode, scratch: Path, only: list[str] | None) -> dict[str, Any]:
    """Every part of the benchmark, in order: ideal, scale, post-LDAP and export (each alone),
    then the lanes."""
    files = make_files(scratch, mode)
    started = time.monotonic()
    log(f"{mode.name}: {mode.rows} users, boxes {mode.box:g}/{mode.rerun_box:g} s")
    ideal = ideal_lane(mode, files, scratch)
    k_min = {key: value["k"] for key, value in ideal.items()}
    scale = scale_lane(mode, files, scratch)
    log(f"scale: {scale['rows_per_second']} rows/s, peak RSS {scale['peak_rss_mb']} MB")
    post_ldap = requests.post_ldap_lane(
        simulator_for, files.post_ldap, files.synced_tenant, scratch
    )
    log(f"post-LDAP: k {post_ldap['fresh']['k']}, re-run k {post_ldap['rerun']['k']}")
    # Alone too: its tenant is filled by a mixed import on the ideal profile (CPU-bound).
    exported = export.export_lane(mode, scratch)
    log(
        f"export: {exported['objects']} objects, {exported['objects_per_second']} objects/s, "
        f"eff {exported['efficiency']}, 429s {exported['rate_limited']}"
    )
    names = [n for n in SIDE_BY_SIDE if not only or n in only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=mode.jobs) as pool:
        mixed = pool.submit(mixed_then_resume, mode, files, scratch)
        ambiguous = pool.submit(
            requests.ambiguous_lane, simulator_for, files.users, files.users_empty, scratch
        )
        lanes = [pool.submit(profile_lane, n, mode, files, scratch, k_min) for n in names]
        runs = [result for lane in lanes for result in lane.result()]
        mixed_result, resumed = mixed.result()
        ambiguous_result = ambiguous.result()
    # After the side-by-side, so the fastest lanes (150/s) do not compete with nine others.
    auto_names = [n for n in auto.AUTO_PROFILES if not only or n in only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(auto_names) or 1) as pool:
        fast = [pool.submit(auto.auto_lane, n, mode.auto_box, scratch) for n in auto_names]
        auto_runs = [lane.result() for lane in fast]
    for result in auto_runs:
        log(f"{result['profile']} {result['client']} fresh: {report.one_line(result)}")
    return {
        "mode": attrs.asdict(mode),
        "machine": machine(),
        "profiles": {n: load_profile(n).knobs for n in (*names, "ideal")},
        "k_min": k_min,
        "ideal": ideal,
        "runs": runs,
        "mixed": mixed_result,
        "resume": resumed,
        "post_ldap": post_ldap,
        "ambiguous": ambiguous_result,
        "auto": auto_runs,
        "export": exported,
        "extra_sections": [*auto.render(auto_runs, mode.auto_box), "", *export.render(exported)],
        "scale": scale,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    """Parse the mode, run, print the table and the targets, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_const", const="quick", dest="mode")
    which.add_argument("--full", action="store_const", const="full", dest="mode")
    parser.add_argument("--jobs", type=int, default=None, help="parallel profile lanes")
    parser.add_argument("--only", default=None, help="comma-separated profile names")
    parser.add_argument("--output", default=None, help="JSON file [bench/results/bench-MODE.json]")
    args = parser.parse_args()
    mode = MODES[args.mode or "quick"]
    if args.jobs:
        mode = attrs.evolve(mode, jobs=args.jobs)
    with tempfile.TemporaryDirectory(prefix="webex-bench-") as scratch:
        results = run_all(mode, Path(scratch), args.only.split(",") if args.only else None)
    results["targets"] = [
        *report.targets(results),
        *auto.targets(results, report._check),
        *export.targets(results),
    ]
    print(report.render(results))
    output = Path(args.output or ROOT / "bench" / "results" / f"bench-{mode.name}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {output}")


if __name__ == "__main__":
    main()
