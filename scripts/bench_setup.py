"""The benchmark's setup: its modes (sizes, time boxes), the simulator profiles, and the input
files and tenants every lane runs. Writes files only; starts nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import bench_data as data

from webex_bulk.simulator import SimConfig

SCRIPTS = Path(__file__).resolve().parent
PROFILES = SCRIPTS / "bench_profiles"
SIDE_BY_SIDE = (
    "r10-l150",
    "r10-l300",
    "r10-l800",
    "r5-l150",
    "r5-l300",
    "r5-l800",
    "r10-l300-penalty",
    "r10-l300-503",
)
MIXED_PROFILE = "r10-l300"
RECENT = 2_000_000
#: A run that must finish (ideal profile, mixed import, the engine's re-run) gets this long.
FINISH_BOX = 3600.0


@attrs.frozen
class Mode:
    """Sizes and time boxes of one benchmark mode."""

    name: str
    rows: int  # rows of the users file (the side-by-side)
    box: float  # seconds a fresh import runs before it is stopped
    warmup: float  # seconds after the first request that the steady window skips
    rerun_box: float
    rerun_warmup: float
    mixed_rows: int
    scale_rows: int
    jobs: int
    post_ldap_rows: int  # synced people of the post-LDAP file
    auto_box: float = 60.0  # seconds each fast-without-tuning lane runs
    export_rows: int = 4_000  # rows of the mixed file whose tenant the export lane reads


#: The warm-up (20 s quick, 30 s full) leaves out the convergence of a rate set too high or
#: probed (two or three pauses in the first 15 s): the window measures the settled rate.
MODES = {
    "quick": Mode("quick", 1_000, 45.0, 20.0, 15.0, 3.0, 1_000, 20_000, 9, 20_000, 60.0),
    "full": Mode("full", 20_000, 150.0, 30.0, 60.0, 5.0, 20_000, 200_000, 9, 20_000, 120.0, 20_000),
}


@attrs.frozen
class Profile:
    """A simulator profile file and what the report needs of it."""

    name: str
    knobs: dict[str, Any]

    @property
    def rate_limit(self) -> float:
        """The server's rate limit R (0: none)."""
        return float(self.knobs.get("rate_limit", 0))

    @property
    def p99(self) -> float:
        """The 99th-percentile latency in seconds."""
        return float(self.knobs.get("latency", {}).get("default", {}).get("p99", 0.0))

    def config(self, **changes: Any) -> SimConfig:
        """The simulator config of this profile."""
        return SimConfig().merged({"recent_requests": RECENT, **self.knobs, **changes})


def load_profile(name: str) -> Profile:
    """Read ``scripts/bench_profiles/<name>.json``."""
    return Profile(name, json.loads((PROFILES / f"{name}.json").read_text(encoding="utf-8")))


@attrs.frozen
class Files:
    """The input files and tenants of one benchmark run."""

    users: Path
    users_empty: Path
    users_provisioned: Path
    mixed: Path
    mixed_tenant: Path
    mixed_counts: dict[str, int]
    scale: Path
    scale_tenant: Path
    post_ldap: Path
    synced_tenant: Path


def make_files(scratch: Path, mode: Mode) -> Files:
    """Write every input file and tenant of a mode."""
    return Files(
        users=data.users_file(scratch / "users.csv", mode.rows),
        users_empty=data.users_tenant(scratch / "users-empty.json", mode.rows, provisioned=False),
        users_provisioned=data.users_tenant(
            scratch / "users-provisioned.json", mode.rows, provisioned=True
        ),
        mixed=scratch / "mixed.csv",
        mixed_tenant=data.empty_tenant(scratch / "mixed-tenant.json", mode.mixed_rows),
        mixed_counts=data.mixed_file(scratch / "mixed.csv", mode.mixed_rows),
        scale=data.users_file(scratch / "scale.csv", mode.scale_rows),
        scale_tenant=data.users_tenant(
            scratch / "scale-tenant.json", mode.scale_rows, provisioned=False
        ),
        post_ldap=data.post_ldap_file(scratch / "post-ldap.csv", mode.post_ldap_rows),
        synced_tenant=data.synced_tenant(scratch / "synced-tenant.json", mode.post_ldap_rows),
    )
