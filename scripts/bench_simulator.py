"""Benchmark of the Webex API simulator: loopback throughput and memory with a large tenant.

The simulator runs as its own process (zero latency, no rate limit) with ``--people`` synthetic
calling users; a separate client process drives each scenario with aiohttp. Prints a table and
writes JSON to ``bench/results/simulator.json``.

    python scripts/bench_simulator.py [--people 200000] [--requests 20000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webex_bulk.simulator import SimConfig, simulator_process  # noqa: E402

TARGET_RPS = 1_500
TARGET_RSS_MB = 500
SCENARIOS = ("lookup_by_email", "get_by_id", "number_by_phone", "list_pages", "create_person")


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (from /proc; psutil when /proc is missing)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 1024 / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc; 0 elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tenant_file(directory: Path, people: int) -> Path:
    """A tenant with one calling location and ``people`` calling users with numbers."""
    tenant = {
        "licenses": [
            {"name": "Webex Calling - Professional", "code": "BCSTD", "total": people + 1_000_000}
        ],
        "locations": [{"name": "HQ"}],
        "syntheticPeople": {"count": people, "location": "HQ", "firstNumber": "+12000000000"},
    }
    path = directory / "tenant.json"
    path.write_text(json.dumps(tenant), encoding="utf-8")
    return path


def run_client(
    base_url: str, token: str, scenario: str, requests: int, concurrency: int, people: int
) -> dict[str, Any]:
    """Run one scenario in a separate client process; its measured figures."""
    command = [
        sys.executable,
        __file__,
        "--client",
        json.dumps(
            {
                "base_url": base_url,
                "token": token,
                "scenario": scenario,
                "requests": requests,
                "concurrency": concurrency,
                "people": people,
            }
        ),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


async def client(spec: dict[str, Any]) -> dict[str, Any]:
    """The client side: ``requests`` requests of one scenario over ``concurrency`` connections."""
    import aiohttp

    base, scenario = spec["base_url"], spec["scenario"]
    people = max(1, int(spec["people"]))
    headers = {"Authorization": f"Bearer {spec['token']}"}
    connector = aiohttp.TCPConnector(limit=spec["concurrency"])
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        ids = await _person_ids(session, base, spec["concurrency"])
        counter = iter(range(spec["requests"]))

        async def worker() -> None:
            for index in counter:
                method, url, body = _request(base, scenario, index, people, ids)
                async with session.request(method, url, json=body) as answer:
                    await answer.read()
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
        elapsed = time.perf_counter() - started
    return {
        "scenario": scenario,
        "requests": spec["requests"],
        "seconds": round(elapsed, 3),
        "rps": round(spec["requests"] / elapsed, 1),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


async def _person_ids(session: Any, base: str, count: int) -> list[str]:
    async with session.get(f"{base}/people", params={"max": str(max(count, 100))}) as answer:
        return [item["id"] for item in (await answer.json())["items"]]


def _request(
    base: str, scenario: str, index: int, people: int, ids: list[str]
) -> tuple[str, str, Any]:
    user = index * 7919 % people
    if scenario == "lookup_by_email":
        url = f"{base}/people?email=user{user:07d}@load.example.com&callingData=true"
        return "GET", url, None
    if scenario == "get_by_id":
        return "GET", f"{base}/people/{ids[index % len(ids)]}?callingData=true", None
    if scenario == "number_by_phone":
        return "GET", f"{base}/telephony/config/numbers?phoneNumber=%2B{12000000000 + user}", None
    if scenario == "list_pages":
        return "GET", f"{base}/people?max=100&callingData=true", None
    body = {"emails": [f"bench{index}@new.example.com"], "displayName": f"Bench {index}"}
    return "POST", f"{base}/people", body


def main() -> None:
    """Start the simulator process, run every scenario, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "simulator.json"))
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(client(json.loads(args.client)))))
        return
    with tempfile.TemporaryDirectory() as scratch:
        tenant = tenant_file(Path(scratch), args.people)
        started = time.perf_counter()
        with simulator_process(SimConfig(), tenant=tenant, startup_timeout=600) as sim:
            load_seconds = time.perf_counter() - started
            memory = rss_mb(sim.pid)
            results = []
            for scenario in SCENARIOS:
                before = cpu_seconds(sim.pid)
                row = run_client(
                    sim.base_url, sim.token, scenario, args.requests, args.concurrency, args.people
                )
                used = cpu_seconds(sim.pid) - before
                row["server_cpu_us_per_request"] = round(used / args.requests * 1e6, 1)
                results.append(row)
            memory_after = rss_mb(sim.pid)
    overall = round(sum(r["requests"] for r in results) / sum(r["seconds"] for r in results), 1)
    report = {
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "platform": platform.platform(),
        },
        "people": args.people,
        "load_seconds": round(load_seconds, 1),
        "rss_mb_loaded": round(memory, 1),
        "rss_mb_after_load_test": round(memory_after, 1),
        "concurrency": args.concurrency,
        "scenarios": results,
        "targets": {"rps": TARGET_RPS, "rss_mb": TARGET_RSS_MB},
        "overall_rps": overall,
        "meets_targets": {"throughput": overall >= TARGET_RPS, "memory": memory < TARGET_RSS_MB},
    }
    _print(report)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {output}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _print(report: dict[str, Any]) -> None:
    print(
        f"simulator with {report['people']:,} people: loaded in {report['load_seconds']} s, "
        f"RSS {report['rss_mb_loaded']} MB (target < {TARGET_RSS_MB} MB)"
    )
    header = ("scenario", "requests", "seconds", "req/s", "server µs/req", "statuses")
    print("{:<18} {:>9} {:>8} {:>9} {:>14}  {}".format(*header))
    for row in report["scenarios"]:
        cells = (
            row["scenario"],
            row["requests"],
            row["seconds"],
            row["rps"],
            row["server_cpu_us_per_request"],
            row["statuses"],
        )
        print("{:<18} {:>9} {:>8} {:>9} {:>14}  {}".format(*cells))
    print(
        f"overall {report['overall_rps']} req/s (target >= {TARGET_RPS}); RSS after the load "
        f"test {report['rss_mb_after_load_test']} MB; targets met: {report['meets_targets']}"
    )


if __name__ == "__main__":
    main()
