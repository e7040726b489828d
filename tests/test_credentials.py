"""Credentials as an admin supplies them: whitespace around a token, control characters,
damaged token files, refresh credentials that need a token file, and a rotated refresh token
kept (or not) across runs of the CLI against the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webex_bulk.cli.commands import main
from webex_bulk.credentials import load_credentials
from webex_bulk.error_handling import ConfigError
from webex_bulk.simulator import SimConfig, SimulatorProcess, simulator_process

CSV = (
    "entity_type,name,time_zone,address1,city,state,postal_code,country\n"
    "location,Cred Lab,America/New_York,1 Main St,Boston,MA,02110,US\n"
)
GRANT = {
    "client_id": "sim-client-id",
    "client_secret": "sim-client-secret",
    "refresh_token": "sim-refresh-token",
}


# -- parsing -------------------------------------------------------------------------------------


def test_surrounding_whitespace_of_a_token_is_dropped(tmp_path: Path) -> None:
    """A token ending in CR LF (a CRLF .env file) or spaces is used without them, from the
    environment and from the token file alike."""
    assert load_credentials({"WEBEX_TOKEN": " tok-123\r\n"}).access_token == "tok-123"
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": "file-tok\r\n"}), encoding="utf-8")
    assert load_credentials({"WEBEX_BULK_TOKEN_FILE": str(path)}).access_token == "file-tok"


def test_a_control_character_inside_a_token_is_refused_without_echoing_it() -> None:
    """A control character inside a token is a ConfigError naming the variable; the message
    does not repeat the secret."""
    with pytest.raises(ConfigError, match=r"WEBEX_TOKEN.*control character") as caught:
        load_credentials({"WEBEX_TOKEN": "tok\x01secret-part"})
    assert "secret-part" not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"access_token": "caf\xe9"}', "not UTF-8"),
        (b"[" * 30_000 + b"]" * 30_000, "not a JSON object"),
        (b'{"access_token": "' + b"x" * 70_000 + b'"}', "larger than a token file"),
        (b"", "not a JSON object"),
    ],
    ids=["not utf-8", "deeply nested", "huge", "empty"],
)
def test_a_damaged_token_file_is_one_clear_error(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    """A token file that is not UTF-8, nested past any sense, huge or empty is a ConfigError
    naming the file, never a traceback."""
    path = tmp_path / "token.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_credentials({"WEBEX_BULK_TOKEN_FILE": str(path)})
    assert str(path) in str(caught.value)


def test_refresh_credentials_need_a_token_file(tmp_path: Path) -> None:
    """Refresh credentials from environment variables alone are refused up front (a rotated
    refresh token would be lost); with a token file they are taken."""
    env = {
        "WEBEX_BULK_CLIENT_ID": "cid",
        "WEBEX_BULK_CLIENT_SECRET": "csecret",
        "WEBEX_BULK_REFRESH_TOKEN": "rtoken",
    }
    with pytest.raises(ConfigError, match="WEBEX_BULK_TOKEN_FILE") as caught:
        load_credentials(env)
    assert "rtoken" not in str(caught.value)
    path = tmp_path / "token.json"
    path.write_text("{}", encoding="utf-8")
    assert load_credentials({**env, "WEBEX_BULK_TOKEN_FILE": str(path)}).can_refresh


# -- through the CLI -----------------------------------------------------------------------------


@pytest.fixture
def rotating() -> Iterator[SimulatorProcess]:
    """A fresh simulator (its refresh token not yet rotated) that rotates it on every refresh."""
    with simulator_process(SimConfig(rotate_refresh_token=True)) as process:
        yield process


def run_cli(sim: SimulatorProcess, tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    """``webex-bulk run`` on a one-location file against ``sim`` with the given credentials."""
    csv_path = tmp_path / "one.csv"
    csv_path.write_text(CSV, encoding="utf-8")
    base = {
        "WEBEX_TOKEN": "",
        "WEBEX_BULK_TOKEN": "",
        "WEBEX_BULK_TOKEN_FILE": "",
        "WEBEX_BULK_CLIENT_ID": "",
        "WEBEX_BULK_CLIENT_SECRET": "",
        "WEBEX_BULK_REFRESH_TOKEN": "",
        "WEBEX_BULK_BASE_URL": sim.base_url,
        "WEBEX_BULK_RUNS_ROOT": str(tmp_path / "runs"),
        "WEBEX_BULK_RATE": "500",
    }
    return CliRunner().invoke(main, ["run", str(csv_path), *args], env={**base, **env})


def test_a_rotated_refresh_token_is_kept_for_the_next_run(
    rotating: SimulatorProcess, tmp_path: Path
) -> None:
    """Two runs in a row against a server that rotates the refresh token both succeed: the
    first writes the new refresh token back to the token file (0600), the second uses it."""
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps(GRANT), encoding="utf-8")
    token_file.chmod(0o600)
    env = {"WEBEX_BULK_TOKEN_FILE": str(token_file)}
    first = run_cli(rotating, tmp_path, env)
    rotated = json.loads(token_file.read_text(encoding="utf-8"))["refresh_token"]
    second = run_cli(rotating, tmp_path, env, "--fresh")
    assert first.exit_code == 0, first.output
    assert rotated != GRANT["refresh_token"]
    assert second.exit_code == 0, second.output
    assert (token_file.stat().st_mode & 0o777) == 0o600


def test_a_rotated_refresh_token_that_cannot_be_saved_fails_the_run(
    rotating: SimulatorProcess, tmp_path: Path
) -> None:
    """When the rotated refresh token cannot be written back, the run exits 1 with one clear
    line naming the token file, no traceback and no secret."""
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps(GRANT), encoding="utf-8")
    token_file.chmod(0o600)
    # The atomic write goes through a temporary file beside the token file; a directory in its
    # place makes the write fail whatever the user's rights (the tests may run as root).
    (tmp_path / "token.json.tmp").mkdir()
    result = run_cli(rotating, tmp_path, {"WEBEX_BULK_TOKEN_FILE": str(token_file)})
    assert result.exit_code == 1, result.output
    assert "could not be saved" in result.output
    assert str(token_file) in result.output
    assert "Traceback" not in result.output
    assert "sim-client-secret" not in result.output
    assert json.loads(token_file.read_text(encoding="utf-8")) == GRANT


def test_a_token_with_crlf_works_and_a_control_character_exits_1(
    rotating: SimulatorProcess, tmp_path: Path
) -> None:
    """A token read from a CRLF .env file runs; one with a control character inside exits 1
    with a one-line message instead of a traceback."""
    good = run_cli(rotating, tmp_path, {"WEBEX_TOKEN": rotating.token + "\r\n"})
    bad = run_cli(rotating, tmp_path, {"WEBEX_TOKEN": rotating.token[:3] + "\x07" + "x"})
    assert good.exit_code == 0, good.output
    assert bad.exit_code == 1
    assert "control character" in bad.output
    assert "Traceback" not in bad.output


def test_refresh_credentials_without_a_token_file_exit_1_up_front(
    rotating: SimulatorProcess, tmp_path: Path
) -> None:
    """Refresh credentials in environment variables alone stop the CLI before any request,
    exit 1, saying a token file is needed."""
    before = rotating.side("counts")["total"]
    env = {
        "WEBEX_BULK_CLIENT_ID": GRANT["client_id"],
        "WEBEX_BULK_CLIENT_SECRET": GRANT["client_secret"],
        "WEBEX_BULK_REFRESH_TOKEN": GRANT["refresh_token"],
    }
    result = run_cli(rotating, tmp_path, env)
    assert result.exit_code == 1
    assert "WEBEX_BULK_TOKEN_FILE" in result.output
    assert rotating.side("counts")["total"] == before
