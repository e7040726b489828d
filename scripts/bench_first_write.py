"""Benchmark of the time from start to the first write on a big file: what an admin waits before
the tenant starts to change (the scan of the whole file, preflight, the first phase's listing).

Starts a simulator process (calling locations, no people), runs ``webex-bulk run`` on a
users-only file and on a mixed file of every entity type, polls the simulator's write counter
and stops the run (SIGTERM) at the first write. Prints a table; writes JSON.

    python scripts/bench_first_write.py [--rows 200000] [--json PATH]

Target: the first write within 15 s of the start on a 200,000-row file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_data as data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from webex_bulk.simulator import SimConfig, simulator_process  # noqa: E402

TARGET_SECONDS = 15.0
#: How long a run may take to reach its first write before it is given up on.
BOX_SECONDS = 300.0
POLL_SECONDS = 0.05


def first_write(csv_path: Path, tenant: Path, work: Path) -> dict[str, Any]:
    """Run the engine on ``csv_path`` until the simulator sees its first write; the seconds
    from the start of the process to that write, and the reads before it."""
    with simulator_process(SimConfig(), tenant=tenant, startup_timeout=600) as sim:
        before = sim.side("counts")["total"]
        command = [str(Path(sys.executable).parent / "webex-bulk"), "run", str(csv_path)]
        command += ["--base-url", sim.base_url, "--run-dir", str(work / "run"), "--rate", "1000"]
        env = {**os.environ, "WEBEX_TOKEN": sim.token}
        started = time.monotonic()
        with (work / "stderr.log").open("wb") as err:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
            seconds, counts = _wait_for_write(sim, process, started)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    return {
        "rows": sum(1 for _ in csv_path.open(encoding="utf-8")) - 1,
        "seconds_to_first_write": None if seconds is None else round(seconds, 2),
        "reads_before": counts["total"] - counts["writes"] - before,
        "cpu_seconds_to_first_write": counts.get("cpu_seconds"),
        "exit_code_before_write": process.returncode if seconds is None else None,
    }


def _wait_for_write(
    sim: Any, process: subprocess.Popen[bytes], started: float
) -> tuple[float | None, dict[str, Any]]:
    """Poll the simulator until its first write, the run's exit or the time box."""
    while True:
        counts = sim.side("counts")
        now = time.monotonic()
        if counts["writes"]:
            return now - started, {**counts, "cpu_seconds": _cpu_seconds(process.pid)}
        if process.poll() is not None or now - started > BOX_SECONDS:
            return None, counts
        time.sleep(POLL_SECONDS)


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time a running process has used so far (Linux ``/proc``; ``None`` elsewhere):
    on a shared machine it says what the wait would be on an idle one."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def main() -> None:
    """Measure both files, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "first_write.json"))
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-first-write-") as scratch:
        root = Path(scratch)
        users = data.users_file(root / "users.csv", args.rows)
        tenant = data.users_tenant(root / "tenant.json", args.rows, provisioned=False)
        mixed = root / "mixed.csv"
        data.mixed_file(mixed, args.rows)
        empty = data.empty_tenant(root / "empty.json", args.rows)
        for name, csv_path, start in (("users", users, tenant), ("mixed", mixed, empty)):
            work = root / name
            work.mkdir()
            results[name] = first_write(csv_path, start, work)
    report = {"target_seconds": TARGET_SECONDS, "results": results, "machine": _machine()}
    print(f"TIME TO FIRST WRITE (target < {TARGET_SECONDS:g} s)")
    print(f"{'file':>8} {'rows':>9} {'seconds':>8} {'CPU s':>6} {'reads before':>13}  met")
    for name, row in results.items():
        seconds = row["seconds_to_first_write"]
        met = seconds is not None and seconds < TARGET_SECONDS
        shown = "-" if seconds is None else f"{seconds:.2f}"
        cpu = row["cpu_seconds_to_first_write"]
        cpu_shown = "-" if cpu is None else f"{cpu:.1f}"
        reads = row["reads_before"]
        print(f"{name:>8} {row['rows']:>9,} {shown:>8} {cpu_shown:>6} {reads:>13}  {met}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _machine() -> dict[str, Any]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "cpus": cpus, "load_1min": load}


if __name__ == "__main__":
    main()
