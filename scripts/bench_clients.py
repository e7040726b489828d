"""The benchmark's clients, each run as its own process: the engine (``webex-bulk run``, or
another command such as ``export``), the naive sequential script and the wxc_sdk client. Starts
one, stops it at its time box, reaps it with ``os.wait4`` for its own CPU time and peak RSS, and
reads the rows it recorded.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from bench_measure import RunTimes, Usage

SCRIPTS = Path(__file__).resolve().parent
#: Seconds a client may take to finish its in-flight rows after it was told to stop.
STOP_GRACE = 30.0
POLL = 0.05


@attrs.frozen
class Variant:
    """One client configuration: ``kind`` is engine, naive or wxc; ``args`` its options."""

    name: str
    kind: str
    args: tuple[str, ...] = ()


@attrs.frozen
class ClientRun:
    """What one client process did: its rows, times, resource use, exit code, engine summary."""

    rows: list[list[Any]]
    times: RunTimes
    usage: Usage
    exit_code: int
    summary: dict[str, Any]


def tuned_concurrency(rate_limit: float, p99: float) -> int:
    """Enough workers to keep ``rate_limit`` requests in flight at the 99th-percentile latency."""
    return min(64, max(8, math.ceil(rate_limit * p99)))


def variants(rate_limit: float, p99: float) -> list[Variant]:
    """Every client of the side-by-side for a server limit R and a latency p99."""
    workers = str(tuned_concurrency(rate_limit, p99))
    rate = f"{rate_limit:g}"
    return [
        Variant("engine-default", "engine"),
        Variant("engine-tuned", "engine", ("--rate", rate, "--concurrency", workers)),
        Variant("engine-auto", "engine", ("--rate", "auto", "--concurrency", workers)),
        Variant("engine-2R", "engine", ("--rate", f"{2 * rate_limit:g}", "--concurrency", workers)),
        Variant("naive", "naive"),
        Variant("wxc-sdk-10", "wxc", ("--concurrency", "10")),
        Variant("wxc-sdk-40", "wxc", ("--concurrency", "40")),
    ]


def command(
    variant: Variant, csv_path: Path, base_url: str, work: Path, stop_at: float, timing: bool
) -> list[str]:
    """The command line of a client run; results go to ``work/rows.json``."""
    out = str(work / "rows.json")
    if variant.kind == "engine":
        flags = [] if timing else ["--no-timing"]
        return [
            sys.executable,
            str(SCRIPTS / "bench_engine.py"),
            out,
            *flags,
            "run",
            str(csv_path),
            "--base-url",
            base_url,
            "--run-dir",
            str(work / "run"),
            *variant.args,
        ]
    script = "naive_client.py" if variant.kind == "naive" else "wxc_sdk_client.py"
    stop = [] if math.isinf(stop_at) else ["--stop-at", repr(stop_at)]
    return [
        sys.executable,
        str(SCRIPTS / script),
        "--base-url",
        base_url,
        "--csv",
        str(csv_path),
        "--out",
        out,
        *stop,
        *variant.args,
    ]


def run_client(
    variant: Variant,
    csv_path: Path,
    base_url: str,
    token: str,
    work: Path,
    *,
    box: float,
    timing: bool = True,
) -> ClientRun:
    """Run one client until it ends or ``box`` seconds have passed (then SIGTERM: the clients
    stop taking rows and finish the ones in flight)."""
    work.mkdir(parents=True, exist_ok=True)
    launched = time.monotonic()
    stop = launched + box
    args = command(variant, csv_path, base_url, work, stop, timing)
    return run_process(args, token, work, launched=launched, stop=stop)


def engine_command(work: Path, cli_args: Sequence[str]) -> list[str]:
    """Any ``webex-bulk`` command (``export`` …) as the benchmark runs the engine, without the
    row timer: it reports its own peak RSS to ``work/rows.json``."""
    out = str(work / "rows.json")
    return [sys.executable, str(SCRIPTS / "bench_engine.py"), out, "--no-timing", *cli_args]


def run_process(
    args: Sequence[str], token: str, work: Path, *, launched: float, stop: float
) -> ClientRun:
    """Run a client command line (results in ``work``) until it ends, SIGTERM at ``stop``; its
    rows, times, own CPU and peak RSS, exit code and engine summary."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WEBEX_TOKEN": token}
    with (work / "stdout.log").open("wb") as out, (work / "stderr.log").open("wb") as err:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        status, usage, ended = _reap(process, stop)
    rows_file = work / "rows.json"
    recorded = json.loads(rows_file.read_text(encoding="utf-8")) if rows_file.exists() else {}
    summary_file = work / "run" / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else {}
    if recorded.get("peak_rss_mb"):
        # The child's own VmHWM: ru_maxrss also counts the parent it was forked from.
        usage = Usage(usage.cpu_seconds, float(recorded["peak_rss_mb"]))
    return ClientRun(
        rows=list(recorded.get("rows", [])),
        times=RunTimes(launched, stop, ended),
        usage=usage,
        exit_code=status,
        summary=summary,
    )


def _reap(process: subprocess.Popen[bytes], stop: float) -> tuple[int, Usage, float]:
    """Wait for the process (SIGTERM at ``stop``, SIGKILL after the grace); its exit code, its
    own rusage (``wait4``: this child only, not the others) and when it ended."""
    signalled = False
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        now = time.monotonic()
        if pid:
            code = os.waitstatus_to_exitcode(status)
            process.returncode = code
            usage = Usage(rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss / 1024)
            return code, usage, now
        if not signalled and now >= stop:
            process.send_signal(signal.SIGTERM)
            signalled = True
        if now >= stop + STOP_GRACE:
            process.kill()
        time.sleep(POLL)


def tail(path: Path, lines: int = 5) -> Sequence[str]:
    """The last lines of a log file, for error reports."""
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
