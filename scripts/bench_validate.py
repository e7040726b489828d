"""Benchmark of ``webex-bulk validate``: rows per second and peak memory at two file sizes.

Generates mixed tenant files (every entity type, a few bad rows), runs the command as a
subprocess and measures its wall time and peak RSS. Prints a table; writes JSON.

    python scripts/bench_validate.py [--rows 200000] [--small 20000] [--json PATH]

Targets: at least 10k rows/s on one core; peak RSS at --rows at most 1.5× the one at --small.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    *("entity_type", "name", "display_name", "email", "first_name", "last_name", "location"),
    *("extension", "phone_number", "license", "department", "title", "members", "policy"),
    *("queue_size", "business_schedule", "hours", "state", "time_zone", "address1", "address2"),
    *("city", "postal_code", "country", "mac", "model", "owner", "notes"),
]
US_AREAS = ("408", "415", "650", "510", "212", "646", "312", "617", "206", "303", "512", "404")
FIRST = ("Ana", "Ben", "Chloé", "Dev", "Eva", "Finn", "Grace", "Hugo", "Iris", "Jon", "Kai", "Lea")
LAST = ("Smith", "Jones", "García", "Nguyen", "Müller", "Khan", "Brown", "Rossi", "Kim", "Silva")
MODELS = ("DMS Cisco 8851", "DMS Cisco 8845", "DMS Cisco 6821", "DMS Cisco 7841")
BAD = (
    {"email": "not-an-email"},
    {"extension": "12a"},
    {"phone_number": "+1 555"},
    {"license": "platinum"},
    {"first_name": ""},
)

# Runs the command, then prints its wall time and peak RSS (children only, so the numbers are
# the command's own): a fresh wrapper per measurement keeps RUSAGE_CHILDREN per run.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"exit": code, "seconds": seconds, "peak_rss_kb": peak}))
"""


class Tenant:
    """A generator of consistent tenant rows: numbers added before they are owned."""

    def __init__(self) -> None:
        self.sequence = 0

    def number(self, location: int) -> str:
        """A fresh valid number in the location's country."""
        self.sequence += 1
        n = self.sequence
        if location % 2:
            return f"+44 20 3{n // 10000 % 1000:03d} {n % 10000:04d}"
        return f"+1 {US_AREAS[n // 10000 % len(US_AREAS)]} 555 {n % 10000:04d}"

    def location_rows(self, index: int) -> list[dict[str, str]]:
        """A location, its schedule, and its auto attendant."""
        name = f"Site {index:04d}"
        gb = index % 2 == 1
        return [
            {
                "entity_type": "location",
                "name": name,
                "time_zone": "Europe/London" if gb else "America/Los_Angeles",
                "address1": f"{index} Main Street",
                "city": "London" if gb else "San Jose",
                "state": "England" if gb else "CA",
                "postal_code": "EC1A 1BB" if gb else "95134",
                "country": "GB" if gb else "US",
            },
            {
                "entity_type": "schedule",
                "name": "Office Hours",
                "location": name,
                "hours": "mon-fri 08:00-18:00; sat 09:00-13:00",
            },
            {
                "entity_type": "auto_attendant",
                "name": "Main Menu",
                "location": name,
                "extension": "2000",
                "business_schedule": "office hours",
            },
        ]

    def site_rows(self, index: int, users: int) -> list[dict[str, str]]:
        """Users, their numbers, workspaces, a hunt group, a queue and devices of one site."""
        site = f"Site {index:04d}"
        rows: list[dict[str, str]] = []
        emails = []
        for u in range(users):
            email = f"user{index:04d}.{u:04d}@example.com"
            emails.append(email)
            user = {
                "entity_type": "user",
                "email": email,
                "first_name": FIRST[u % len(FIRST)],
                "last_name": LAST[u % len(LAST)],
                "location": site,
                "extension": f"{3000 + u}",
                "department": "Sales" if u % 3 else "Support",
                "title": "Agent",
                "notes": "imported",
            }
            if u % 7 == 0:
                number = self.number(index)
                rows.append({"entity_type": "number", "phone_number": number, "location": site})
                user["phone_number"] = number
            if u % 97 == 5:
                user.update(BAD[u % len(BAD)])
            rows.append(user)
            if u % 20 == 3:
                mac = f"{index:04X}{u:04X}ABCD"
                model = MODELS[u % len(MODELS)]
                rows.append({"entity_type": "device", "mac": mac, "model": model, "owner": email})
        for w in range(max(1, users // 12)):
            rows.append(
                {
                    "entity_type": "workspace",
                    "display_name": f"Room {w:03d}",
                    "location": site,
                    "extension": f"{8000 + w}",
                }
            )
        members = ";".join(emails[:8])
        for kind, ext in (("hunt_group", "2001"), ("call_queue", "2002")):
            rows.append(
                {
                    "entity_type": kind,
                    "name": kind.replace("_", " ").title(),
                    "location": site,
                    "extension": ext,
                    "members": members,
                }
            )
        rows.append({"entity_type": "trunk", "name": f"Trunk {index}", "location": site})
        return rows


def generate(path: Path, rows: int) -> int:
    """Write a mixed tenant file of about ``rows`` rows; return the exact row count."""
    tenant = Tenant()
    users_per_site = 700
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        table = csv.DictWriter(handle, COLUMNS, restval="")
        table.writeheader()
        site = 0
        while written < rows:
            users = min(users_per_site, max(1, int((rows - written) / 1.32)))
            block = tenant.location_rows(site) + tenant.site_rows(site, users)
            block = block[: rows - written]
            table.writerows(block)
            written += len(block)
            site += 1
    return written


def command() -> list[str]:
    """The ``webex-bulk`` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "webex-bulk"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from webex_bulk.cli.commands import main; main()"]


def measure(path: Path, out_dir: Path) -> dict[str, float]:
    """Run ``webex-bulk validate`` on a file; its exit code, wall time and peak RSS."""
    argv = [*command(), "validate", str(path), "--out", str(out_dir)]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    if result["exit"] not in (0, 3):
        raise SystemExit(f"validate failed with exit {result['exit']} on {path}")
    return result


def main() -> None:
    """Generate, measure, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/validate.json")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("small", args.small), ("large", args.rows)):
            path = Path(tmp) / f"tenant-{size}.csv"
            count = generate(path, size)
            run = measure(path, Path(tmp) / f"out-{size}")
            results[label] = {
                "rows": count,
                "bytes": path.stat().st_size,
                "seconds": round(run["seconds"], 2),
                "rows_per_second": round(count / run["seconds"]),
                "peak_rss_mb": round(run["peak_rss_kb"] / 1024, 1),
                "exit": run["exit"],
            }
    small, large = results["small"], results["large"]
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    summary = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "runs": results,
        "rss_ratio_large_to_small": round(ratio, 2),
        "targets": {"rows_per_second": 10_000, "rss_ratio": 1.5},
        "met": {
            "rows_per_second": large["rows_per_second"] >= 10_000,
            "rss_ratio": ratio <= 1.5,
        },
    }
    print(f"{'file':<8}{'rows':>9}{'MB in':>8}{'seconds':>9}{'rows/s':>9}{'peak RSS MB':>13}")
    for label, run in results.items():
        print(
            f"{label:<8}{run['rows']:>9}{run['bytes'] / 1e6:>8.1f}{run['seconds']:>9.2f}"
            f"{run['rows_per_second']:>9}{run['peak_rss_mb']:>13.1f}"
        )
    print(f"peak RSS {large['rows']} rows / {small['rows']} rows: {ratio:.2f}× (target ≤ 1.5×)")
    print(f"throughput {large['rows_per_second']} rows/s (target ≥ 10000)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
