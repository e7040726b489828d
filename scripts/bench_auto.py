"""The benchmark's "fast without tuning" lanes: ``--rate auto`` and no ``--concurrency`` against
servers whose limit the engine is not told (2 to 150 requests per second). Reports how soon it
runs near R and how close it stays; pure figures from what the simulator saw.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import bench_data as data
from bench_clients import Variant, run_client
from bench_measure import figures, is_success

from webex_bulk.simulator import SimConfig, simulator_process

PROFILES = Path(__file__).resolve().parent / "bench_profiles"
AUTO_PROFILES = ("auto-r2", "auto-r10", "auto-r40", "auto-r150")
#: The first requests of a run are the probe: the windows below start this long after them.
SOON = 15.0
#: "Runs at" is measured over this many seconds from ``SOON``.
SOON_SPAN = 10.0
RECENT = 2_000_000
AUTO = Variant("engine-auto-sized", "engine", ("--rate", "auto"))


def rate_limit_of(name: str) -> float:
    """The server's limit R of an auto profile."""
    knobs = json.loads((PROFILES / f"{name}.json").read_text(encoding="utf-8"))
    return float(knobs["rate_limit"])


def ok_per_second(records: Sequence[Mapping[str, Any]], start: float, end: float) -> float:
    """2xx answers per second that arrived in ``[start, end)``."""
    ok = sum(1 for r in records if is_success(r["status"]) and start <= float(r["t"]) < end)
    return ok / max(end - start, 1e-9)


def auto_lane(name: str, box: float, scratch: Path) -> dict[str, Any]:
    """A fresh users import with ``--rate auto`` and sized concurrency, stopped after ``box`` s."""
    knobs = json.loads((PROFILES / f"{name}.json").read_text(encoding="utf-8"))
    limit = float(knobs["rate_limit"])
    rows = math.ceil(limit * (box + SOON)) + 200  # never runs out of rows inside the box
    users = data.users_file(scratch / f"{name}-users.csv", rows)
    tenant = data.users_tenant(scratch / f"{name}-tenant.json", rows, provisioned=False)
    config = SimConfig().merged({"recent_requests": RECENT, **knobs})
    with simulator_process(config, tenant=tenant) as sim:
        run = run_client(AUTO, users, sim.base_url, sim.token, scratch / name, box=box)
        records = sim.side("counts")["recent"]
    result = figures(
        records,
        run.rows,
        run.times,
        warmup=SOON,
        rate_limit=limit,
        k_min=None,
        usage=run.usage,
    )
    first = min((float(r["t"]) for r in records), default=run.times.launched)
    end = min(run.times.stop, max((float(r["t"]) for r in records), default=first))
    result.update(
        profile=name,
        client=AUTO.name,
        args=list(AUTO.args),
        rate_limit=limit,
        exit_code=run.exit_code,
        eff_soon=round(ok_per_second(records, first + SOON, first + SOON + SOON_SPAN) / limit, 3),
        eff_whole=round(ok_per_second(records, first, end) / limit, 3),
        first_429=next(
            (round(float(r["t"]) - first, 1) for r in records if str(r["status"]) == "429"), None
        ),
    )
    return result


def render(auto: Sequence[Mapping[str, Any]], box: float) -> list[str]:
    """The auto lanes as text."""
    lines = [
        f"FAST WITHOUT TUNING (engine --rate auto, no --concurrency; 150 ms median latency; "
        f"stopped after {box:g} s)",
        "       profile     R  1st 429 s  eff 15-25 s  eff 15 s-stop  eff whole  429/ok   k",
    ]
    for r in auto:
        lines.append(
            f"  {r['profile']:>12} {r['rate_limit']:>5g} {_num(r['first_429']):>10} "
            f"{_num(r['eff_soon']):>12} {_num(r['efficiency']):>14} {_num(r['eff_whole']):>10} "
            f"{_num(r['rate_limited_per_success']):>7} {_num(r['k']):>5}"
        )
    return lines


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:g}"


Check = Callable[[str, dict[str, Any], Callable[[float], bool], str], dict[str, Any]]


def targets(results: Mapping[str, Any], check: Check) -> list[dict[str, Any]]:
    """The targets of fast-without-tuning, checked with the report's ``check``."""
    auto = {r["profile"]: r for r in results.get("auto", [])}
    default = {
        r["profile"]: r["efficiency"]
        for r in results["runs"]
        if r["client"] == "engine-default" and r["workload"] == "fresh" and r["rate_limit"] == 10
    }
    return [
        check(
            "engine-default (rate 10, no --concurrency) >= 0.95 of R = 10 at any latency",
            default,
            lambda v: v >= 0.95,
            "{:.3f}",
        ),
        check(
            "--rate auto >= 0.9 of R from 15 to 25 s after the first request",
            {p: r["eff_soon"] for p, r in auto.items()},
            lambda v: v >= 0.9,
            "{:.3f}",
        ),
        check(
            "--rate auto >= 0.95 of R from 15 s to the stop",
            {p: r["efficiency"] for p, r in auto.items()},
            lambda v: v >= 0.95,
            "{:.3f}",
        ),
        check(
            "--rate auto 429s <= 1 % of successes (whole run)",
            {p: r["rate_limited_per_success"] for p, r in auto.items()},
            lambda v: v <= 0.01,
            "{:.4f}",
        ),
    ]
