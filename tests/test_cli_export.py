"""``webex-bulk export`` as an admin types it: the file, the report, and one-line errors.

The simulator runs as its own process; the CLI talks to it over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webex_bulk.cli.commands import main
from webex_bulk.simulator import SimulatorProcess, simulator_process

EXAMPLE = Path(__file__).parents[1] / "examples" / "tenant.csv"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    """One simulator process holding the example tenant, provisioned once by ``run``."""
    with simulator_process() as process:
        runs = tmp_path_factory.mktemp("runs")
        assert invoke(process, runs, "run", str(EXAMPLE)).exit_code == 3  # its bad rows
        yield process


def invoke(sim: SimulatorProcess, tmp_path: Path, *args: str) -> Result:
    """Run ``webex-bulk ARGS`` against the simulator with a token in the environment."""
    env = {
        "WEBEX_TOKEN": sim.token,
        "WEBEX_BULK_BASE_URL": sim.base_url,
        "WEBEX_BULK_RUNS_ROOT": str(tmp_path / "runs"),
        "WEBEX_BULK_BACKOFF_BASE": "0",
        "WEBEX_BULK_RATE": "500",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_export_writes_a_file_that_plan_finds_unchanged(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """``export --out`` exits 0 and reports rows per type, the six newer ones too; ``plan`` on the
    file: unchanged 89; ``run`` on it: no write."""
    out = tmp_path / "tenant-export.csv"
    exported = invoke(sim, tmp_path, "export", "--out", str(out))
    planned = invoke(sim, tmp_path, "plan", str(out))
    assert exported.exit_code == 0, exported.output
    assert "location 3, number 22, schedule 2, user 39, virtual_line 2, workspace 5" in (
        exported.output
    )
    newer = "call_park_extension 2, call_pickup 1, paging_group 1, voicemail_group 2, call_park 1"
    assert newer in exported.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf# webex-bulk ")
    assert planned.exit_code == 0, planned.output
    assert "unchanged 89" in planned.output
    assert "device models: 3 model(s) supported" in planned.output  # virtual lines have none
    again = invoke(sim, tmp_path, "run", str(out))
    assert again.exit_code == 0, again.output
    assert "(writes 0)" in again.output


def test_export_to_standard_output_with_only_and_location(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """Without ``--out`` the rows go to standard output; ``--only``/``--location`` narrow them."""
    result = invoke(sim, tmp_path, "export", "--only", "workspace", "--location", "London Office")
    rows = [line for line in result.stdout.splitlines() if line.startswith("workspace,")]
    assert result.exit_code == 0, result.output
    # The listing follows creation order, which the provisioning run's workers race for.
    assert sorted(row.split(",")[1] for row in rows) == ["Meeting Room Thames", "Reception Desk"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--only", "users"), 64, "unknown entity type 'users'"),
        (("--location", "Paris"), 1, "'Paris' is not a calling location of the org"),
    ],
)
def test_bad_choices_are_one_line_errors(
    sim: SimulatorProcess, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    """A bad ``--only`` is a usage error (64); an unknown ``--location`` a fatal one (1)."""
    result = invoke(sim, tmp_path, "export", "--out", str(tmp_path / "x.csv"), *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


def test_export_with_settings_writes_them_and_plans_unchanged(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """``--with-settings`` adds each user's and workspace's calling settings to its row, and
    ``plan`` on that file finds nothing to change; without it the columns are not written."""
    out = tmp_path / "with-settings.csv"
    args = ("export", "--only", "user,workspace", "--out", str(out))
    exported = invoke(sim, tmp_path, *args, "--with-settings")
    assert exported.exit_code == 0, exported.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.DictReader(line for line in lines if not line.lstrip('"').startswith("#")))
    by_key = {row["email"] or row["display_name"]: row for row in rows}
    olivia = by_key["olivia.martinez@example.com"]
    assert (olivia["voicemail_rings"], olivia["voicemail_email_copy"]) == (
        "4",
        "olivia.martinez@example.com",
    )
    assert (olivia["forward_busy"], olivia["forward_always"], olivia["caller_id"]) == (
        "1002",
        "off",
        "direct_line",
    )
    lobby = by_key["Lobby"]
    assert (lobby["forward_no_answer"], lobby["call_waiting"], lobby["voicemail"]) == (
        "1001",
        "off",
        "",
    )
    planned = invoke(sim, tmp_path, "plan", str(out))
    assert planned.exit_code == 0, planned.output
    assert "unchanged 44" in planned.output
    plain = invoke(sim, tmp_path, "export", "--only", "user")
    header = next(line for line in plain.stdout.splitlines() if line.startswith("entity_type"))
    assert "voicemail" not in header


def test_newer_types_follow_only_and_location(sim: SimulatorProcess, tmp_path: Path) -> None:
    """``--only virtual_line,call_park,call_pickup --location "San Jose HQ"``: that location's
    rows only, members named by e-mail, workspace or virtual line though their types are not
    written."""
    only = "virtual_line,call_park,call_pickup"
    result = invoke(sim, tmp_path, "export", "--only", only, "--location", "San Jose HQ")
    rows = [line for line in result.stdout.splitlines() if line.split(",")[0] in only]
    assert result.exit_code == 0, result.output
    assert [row.split(",")[0] for row in rows] == ["virtual_line", "call_pickup", "call_park"]
    assert "Front Desk Line" in rows[0]
    assert "liam.chen@example.com;emma.johnson@example.com;Lobby" in rows[1]
    assert "olivia.martinez@example.com;Front Desk Line" in rows[2]
    assert rows[2].endswith(",parking_user_first_then_hunt_group,Sales,Park 1;Park 2")
