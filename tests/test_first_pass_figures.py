"""What the first pass counts for later steps, so that a run does not read the whole file again
before its first write: the license demand, the device models and the last pre-API line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner

from webex_bulk.cli.commands import main
from webex_bulk.config import Settings
from webex_bulk.input import scan
from webex_bulk.simulator import simulator_process

PROFESSIONAL = "Webex Calling - Professional"
HEADER = "entity_type,email,first_name,last_name,location,extension,license,mac,model,owner"


def write(path: Path, rows: Sequence[str]) -> Path:
    """A CSV of ``rows`` under the header of this module."""
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def users(count: int, *, license: str = "") -> list[str]:
    """``count`` valid user rows at the location HQ."""
    return [f"user,u{n}@example.com,U,{n},HQ,{100 + n},{license},,," for n in range(count)]


def test_the_first_pass_counts_licenses_models_and_the_last_pre_api_line(tmp_path: Path) -> None:
    """Users per license kind and device models are counted; the last pre-API line is that of
    the last rejected row (here a duplicate, which only the cross-row rules reject)."""
    rows = [
        *users(2),
        "user,b@example.com,B,B,HQ,200,basic,,,",
        "device,,,,,,,AA:BB:CC:DD:EE:01,DMS Cisco 8851,u0@example.com",
        "user,,,,,,,,,",  # rejected: no e-mail
        "user,x@example.com,X,X,HQ,300,,,,",
        users(1)[0],  # a duplicate of the first user row
    ]
    found = scan(write(tmp_path / "f.csv", rows), Settings())
    assert dict(found.license_demand) == {"professional": 4, "basic": 1}
    assert found.device_models == {"DMS Cisco 8851"}
    assert found.last_pre_api_line == 8


def test_a_clean_file_has_no_pre_api_line(tmp_path: Path) -> None:
    """A file without a bad row records no pre-API line, so the run skips that read."""
    found = scan(write(tmp_path / "f.csv", users(3)), Settings())
    assert found.last_pre_api_line == 0


def test_preflight_counts_exactly_when_the_first_pass_count_is_short(tmp_path: Path) -> None:
    """Three free units for three users plus a duplicate: the first pass's upper bound (4) is
    short, so preflight counts exactly, says 3, and the run rejects the duplicate."""
    tenant = tmp_path / "tenant.json"
    tenant.write_text(
        json.dumps(
            {
                "licenses": [{"name": PROFESSIONAL, "code": "BCSTD", "total": 3}],
                "locations": [{"name": "HQ", "calling": True}],
            }
        ),
        encoding="utf-8",
    )
    csv_path = write(tmp_path / "f.csv", [*users(3), users(1)[0]])
    with simulator_process(tenant=tenant) as sim:
        env = {
            "WEBEX_TOKEN": sim.token,
            "WEBEX_BULK_BASE_URL": sim.base_url,
            "WEBEX_BULK_RUNS_ROOT": str(tmp_path / "runs"),
            "WEBEX_BULK_RATE": "500",
        }
        preflight = CliRunner().invoke(main, ["preflight", str(csv_path)], env=env)
        run = CliRunner().invoke(main, ["run", str(csv_path)], env=env)
    assert preflight.exit_code == 0, preflight.output
    assert "[ok]   professional licenses" in preflight.output
    assert "3 free for up to 3 user rows" in preflight.output
    assert run.exit_code == 3, run.output
    [rejected] = list((tmp_path / "runs").glob("*/rejected.csv"))
    assert "duplicate" in rejected.read_text(encoding="utf-8-sig")
