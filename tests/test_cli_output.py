"""Machine-readable output as a cron job or a pipeline reads it: ``--output json`` documents that
match ``docs/output.schema.json``, ``--quiet``, JSON log lines, ``status`` exit codes, metrics.

The simulator runs as its own process; the CLI talks to it over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from prometheus_client.parser import text_string_to_metric_families

from webex_bulk.cli.commands import main
from webex_bulk.simulator import SimulatorProcess, simulator_process

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "tenant.csv"
SCHEMA = json.loads((ROOT / "docs" / "output.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """One simulator process for the commands of this module."""
    with simulator_process() as process:
        yield process


def invoke(sim: SimulatorProcess, tmp_path: Path, *args: str, **env: str) -> Result:
    """Run ``webex-bulk ARGS`` against the simulator, none of the caller's WEBEX_BULK_* set."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("WEBEX_BULK_")}
    clean.update(
        {
            "WEBEX_TOKEN": sim.token,
            "WEBEX_BULK_BASE_URL": sim.base_url,
            "WEBEX_BULK_RUNS_ROOT": str(tmp_path / "runs"),
            "WEBEX_BULK_BACKOFF_BASE": "0",
            "WEBEX_BULK_RATE": "500",
            **env,
        }
    )
    return CliRunner().invoke(main, list(args), env=clean, catch_exceptions=False)


def document(result: Result) -> dict[str, Any]:
    """The one JSON document on stdout, checked against the schema kept in docs/."""
    doc: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["exit_code"] == result.exit_code
    return doc


def test_each_command_prints_one_document_that_matches_the_schema(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """validate, plan, run and status print one schema-valid document with their counts."""
    sim.side("reset", {})
    validate = document(invoke(sim, tmp_path, "validate", "--output", "json", str(EXAMPLE)))
    plan = document(invoke(sim, tmp_path, "plan", "--output", "json", str(EXAMPLE)))
    run = document(invoke(sim, tmp_path, "run", "--output", "json", str(EXAMPLE)))
    status = document(invoke(sim, tmp_path, "status", "--output", "json"))
    assert validate["counts"]["by_status"]["rejected"] == 10
    assert validate["http"] is None
    assert (plan["exit_code"], plan["state"]) == (0, "changes_pending")
    assert plan["counts"]["by_status"]["create"] == 89
    assert plan["http"]["writes"] == 0
    assert (run["exit_code"], run["state"]) == (3, "complete_with_rejections")
    assert run["counts"]["by_status"] == {"success": 89, "rejected": 10, "pending": 2}
    assert run["counts"]["by_reason"]["out_of_scope"] == 2
    assert run["counts"]["by_entity_type"]["location"] == {"success": 3, "rejected": 1}
    assert run["http"]["requests"] > 0
    assert Path(run["run_dir"], "summary.json").exists()
    assert (status["exit_code"], status["state"]) == (3, "complete_with_rejections")
    assert status["counts"] == run["counts"]


def test_quiet_prints_nothing_but_errors(sim: SimulatorProcess, tmp_path: Path) -> None:
    """--quiet leaves stdout and stderr empty on a run that ends normally; errors still show."""
    sim.side("reset", {})
    quiet = invoke(sim, tmp_path, "run", "--quiet", str(EXAMPLE))
    failed = invoke(sim, tmp_path, "run", "--quiet", str(EXAMPLE), WEBEX_TOKEN="wrong-token")
    assert quiet.exit_code == 3
    assert (quiet.stdout, quiet.stderr) == ("", "")
    assert failed.exit_code == 1
    assert failed.stdout == ""
    assert "webex-bulk:" in failed.stderr


def test_json_logs_are_json_to_the_last_line_fatal_errors_included(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """With --log-format json each stderr line is JSON: run.start/run.end, then a run.fatal."""
    sim.side("reset", {})
    ok = invoke(sim, tmp_path, "plan", "--log-format", "json", str(EXAMPLE))
    bad = invoke(
        sim, tmp_path, "run", "--log-format", "json", str(EXAMPLE), WEBEX_TOKEN="wrong-token"
    )
    early = invoke(sim, tmp_path, "run", "--log-format", "json", str(EXAMPLE), WEBEX_BULK_RATE="x")
    events = [json.loads(line) for line in ok.stderr.splitlines()]
    assert events[0]["event"] == "run.start"
    assert events[-1]["event"] == "run.end"
    assert events[-1]["command"] == "plan"
    fatal = [json.loads(line) for line in bad.stderr.splitlines()]
    assert bad.exit_code == 1
    assert fatal[-1]["event"] == "run.fatal"
    assert [e["event"] for e in fatal].count("run.fatal") == 1
    assert "wrong-token" not in bad.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    logged = [json.loads(line) for line in (run_dir / "events.log").read_text().splitlines()]
    assert logged[-1]["event"] == "run.fatal"
    assert logged[-1]["exit_code"] == 1
    (before_logging,) = [json.loads(line) for line in early.stderr.splitlines()]
    assert before_logging["event"] == "run.fatal"
    assert "rate" in before_logging["error"]


def test_a_fatal_error_still_prints_a_document(sim: SimulatorProcess, tmp_path: Path) -> None:
    """A run that cannot start prints a schema-valid document with the error and exit 1."""
    failed = invoke(sim, tmp_path, "run", "--output", "json", str(EXAMPLE), WEBEX_TOKEN="nope")
    doc = document(failed)
    assert doc["exit_code"] == 1
    assert doc["error"]


def test_status_exits_by_the_state_of_the_run(sim: SimulatorProcess, tmp_path: Path) -> None:
    """status: 5 with no run, 4 for a run stopped early, 0 for a clean complete run."""
    sim.side("reset", {})
    nothing = invoke(sim, tmp_path, "status")
    clean = tmp_path / "clean.csv"
    clean.write_text(
        "entity_type,name,time_zone,address1,city,state,postal_code,country,announcement_language\n"
        "location,Austin Office,America/Chicago,500 Congress Ave,Austin,TX,78701,US,en_us\n",
        encoding="utf-8",
    )
    stopped = invoke(sim, tmp_path, "run", str(EXAMPLE), "--max-duration", "0s")
    after_stop = invoke(sim, tmp_path, "status", "--output", "json")
    complete = invoke(sim, tmp_path, "run", str(clean), "--run-dir", str(tmp_path / "clean"))
    after_complete = invoke(sim, tmp_path, "status", str(tmp_path / "clean"))
    assert nothing.exit_code == 5
    assert stopped.exit_code == 4, stopped.output
    assert (document(after_stop)["state"], after_stop.exit_code) == ("incomplete", 4)
    assert complete.exit_code == 0, complete.output
    assert after_complete.exit_code == 0


def test_metrics_file_parses_and_carries_the_run(sim: SimulatorProcess, tmp_path: Path) -> None:
    """--metrics-file leaves a Prometheus textfile with rows, requests and the exit code."""
    sim.side("reset", {})
    path = tmp_path / "metrics" / "webex_bulk.prom"
    result = invoke(sim, tmp_path, "run", str(EXAMPLE), "--metrics-file", str(path))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(path.read_text(encoding="utf-8"))
        for sample in family.samples
    }
    assert result.exit_code == 3
    assert samples[("webex_bulk_exit_code", ())] == 3
    assert samples[("webex_bulk_running", ())] == 0
    assert samples[("webex_bulk_last_success_timestamp_seconds", ())] > 0
    key = (("entity_type", "location"), ("reason", ""), ("status", "success"))
    assert samples[("webex_bulk_rows", key)] == 3
    assert samples[("webex_bulk_requests", ())] == sum(
        value for (name, _), value in samples.items() if name == "webex_bulk_http_requests"
    )
    assert list(path.parent.iterdir()) == [path]  # the temporary file was renamed, not left
