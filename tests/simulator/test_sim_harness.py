"""The harness: a simulator process that outlives its clients, and the command line."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from webex_bulk.simulator import SimConfig, simulator_process
from webex_bulk.simulator.cli import simulator_command

PACKAGE = Path(__file__).resolve().parents[2] / "webex_bulk" / "simulator"
ALLOWED_ROOTS = {"aiohttp", "attrs", "click", "webex_bulk"}


def request(url: str, token: str, body: dict[str, object] | None = None) -> object:
    """A JSON request with the token (POST when a body is given)."""
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(
        url,
        data=data,
        method="GET" if body is None else "POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(sent, timeout=30) as answer:
        return json.loads(answer.read())


def test_process_state_survives_a_killed_client(tmp_path: Path) -> None:
    """A client killed with -9 after its create leaves the person in the simulator process."""
    with simulator_process(SimConfig(seed=5)) as sim:
        client = textwrap.dedent(
            f"""
            import json, sys, time, urllib.request
            body = json.dumps({{"emails": ["ann@example.com"], "displayName": "Ann"}}).encode()
            headers = {{"Authorization": "Bearer {sim.token}", "Content-Type": "application/json"}}
            req = urllib.request.Request(
                "{sim.base_url}/people", data=body, method="POST", headers=headers
            )
            urllib.request.urlopen(req).read()
            print("created", flush=True)
            time.sleep(600)
            """
        )
        child = subprocess.Popen([sys.executable, "-c", client], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "created"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        found = request(f"{sim.base_url}/people?email=ann@example.com", sim.token)
        assert len(found["items"]) == 1  # type: ignore[index]
        assert sim.side("creates")["people"] == {"ann@example.com": 1}
        assert sim.side("counts")["writes"] == 1


def test_process_takes_seed_and_tenant_flags(tmp_path: Path) -> None:
    """--seed and --tenant reach the process; same seed, same org id."""
    tenant = tmp_path / "tenant.json"
    tenant.write_text(json.dumps({"org": {"name": "Acme"}, "locations": [{"name": "HQ"}]}))
    with simulator_process(seed=9, tenant=tenant) as first:
        org = request(f"{first.base_url}/people/me", first.token)["orgId"]  # type: ignore[index]
        names = request(f"{first.base_url}/locations", first.token)["items"]  # type: ignore[index]
        assert [item["name"] for item in names] == ["HQ"]
        assert first.base_url == first.root_url + "/v1"
    with simulator_process(seed=9) as second:
        assert request(f"{second.base_url}/people/me", second.token)["orgId"] == org  # type: ignore[index]


def test_process_stops_cleanly_on_sigterm() -> None:
    """The simulator exits with status 0 on SIGTERM."""
    with simulator_process() as sim:
        sim.process.send_signal(signal.SIGTERM)
        assert sim.process.wait(timeout=10) == 0


def test_command_has_help_for_every_option() -> None:
    """Every option of the simulator command has help text."""
    result = CliRunner().invoke(simulator_command, ["--help"])
    assert result.exit_code == 0
    for parameter in simulator_command.params:
        assert parameter.help, parameter.name  # type: ignore[attr-defined]


def test_command_reports_bad_knobs() -> None:
    """A bad knob value stops the command with a message and exit status 1."""
    result = CliRunner().invoke(simulator_command, ["--locked-probability", "3"])
    assert result.exit_code == 1
    assert "locked_probability" in result.output


def test_package_imports_nothing_else_of_webex_bulk() -> None:
    """The simulator imports only the standard library, aiohttp, attrs, click and itself."""
    stdlib = set(sys.stdlib_module_names)
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in stdlib or root in ALLOWED_ROOTS, f"{path.name}: {name}"
                if root == "webex_bulk":
                    assert name.startswith("webex_bulk.simulator"), f"{path.name}: {name}"
