"""The systemd recipe in deploy/systemd/ is a valid service and timer that runs as documented."""

from __future__ import annotations

import configparser
import datetime
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import click

import webex_bulk
from webex_bulk.cli.commands import main
from webex_bulk.config import SECRET_ENV_VARS, load_settings
from webex_bulk.engine import window_seconds

ROOT = Path(webex_bulk.__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
SERVICE = UNITS / "webex-bulk.service"
TIMER = UNITS / "webex-bulk.timer"
#: The directives a unit of ours may use, per section (systemd.unit(5), .service(5), .exec(5),
#: .kill(5), .timer(5)); systemd ignores an unknown one with a mere warning, so a typo would
#: silently drop a setting. Add a directive here when a unit needs it.
DIRECTIVES = {
    "Unit": {"Description", "Documentation", "Wants", "Requires", "After", "Before", "OnFailure"},
    "Service": {
        "Type", "DynamicUser", "User", "Group", "StateDirectory", "WorkingDirectory",
        "LoadCredential", "Environment", "ExecStart", "KillMode", "KillSignal", "TimeoutStopSec",
        "TimeoutStartSec", "SuccessExitStatus", "NoNewPrivileges", "ProtectSystem", "ProtectHome",
        "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
        "ProtectControlGroups", "RestrictAddressFamilies", "LockPersonality",
    },
    "Timer": {"OnCalendar", "Persistent", "AccuracySec", "RandomizedDelaySec", "Unit"},
    "Install": {"WantedBy"},
}  # fmt: skip


def unit(path: Path) -> configparser.ConfigParser:
    """A unit file's sections (of a repeated key, the last value; see service_environment)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def service_environment() -> dict[str, str]:
    """The service's Environment= assignments (the key repeats, one variable each)."""
    lines = SERVICE.read_text(encoding="utf-8").splitlines()
    values = [line.split("=", 1)[1] for line in lines if line.startswith("Environment=")]
    return dict(value.split("=", 1) for value in values)


def installed_command() -> str:
    """Where the recipe expects the command (``deploy/install.sh PREFIX`` puts it there)."""
    return shlex.split(unit(SERVICE)["Service"]["ExecStart"])[0]


def test_units_use_only_known_directives(tmp_path: Path) -> None:
    """Every section and directive is one systemd knows; systemd-analyze agrees where present."""
    for path in (SERVICE, TIMER):
        for section in unit(path).sections():
            assert section in DIRECTIVES, f"{path.name}: [{section}]"
            unknown = set(unit(path)[section]) - DIRECTIVES[section]
            assert unknown == set(), f"{path.name} [{section}]"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # not every machine has systemd; the check above still ran
        return
    entry_point = Path(sys.executable).with_name("webex-bulk")
    assert entry_point.exists()
    text = SERVICE.read_text(encoding="utf-8").replace(installed_command(), str(entry_point))
    (tmp_path / SERVICE.name).write_text(text, encoding="utf-8")
    shutil.copy(TIMER, tmp_path / TIMER.name)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_timer_starts_the_service_in_the_services_time_zone() -> None:
    """The timer's calendar names the same zone as the service's TZ, which --deadline uses."""
    calendar = unit(TIMER)["Timer"]["OnCalendar"]
    assert calendar.split()[-1] == service_environment()["TZ"]
    assert unit(TIMER)["Install"]["WantedBy"] == "timers.target"


def test_the_service_command_line_parses(tmp_path: Path) -> None:
    """ExecStart is a webex-bulk run the real CLI accepts, with settings the loader accepts."""
    service = unit(SERVICE)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == installed_command()
    assert PurePosixPath(argv[0]).parts[-2:] == ("bin", "webex-bulk"), "a venv's entry point"
    assert service["Type"] == "oneshot"
    env = service_environment()
    assert env["WEBEX_BULK_TOKEN_FILE"].startswith("%d/"), "the token is a credential"
    assert service["LoadCredential"].split(":")[0] == env["WEBEX_BULK_TOKEN_FILE"][3:]
    state = Path("/var/lib") / service["StateDirectory"]
    assert Path(env["WEBEX_BULK_RUNS_ROOT"]).is_relative_to(state), "runs/ in the state directory"
    args = [str(tmp_path / a.lstrip("/")) if a.startswith("/") else a for a in argv[1:]]
    Path(args[1]).parent.mkdir(parents=True)
    Path(args[1]).write_text("entity_type\n", encoding="utf-8")
    parent = click.Context(main, info_name="webex-bulk")
    context = main.commands[args[0]].make_context(args[0], args[1:], parent=parent)
    assert context.command.name == "run"
    noon = datetime.datetime(2026, 1, 1, 12, 0)
    assert window_seconds(context.params["deadline"], None, noon) is not None
    settings = load_settings(
        {"log_format": context.params["log_format"]},
        {k: v for k, v in env.items() if k not in SECRET_ENV_VARS},
    )
    assert settings.log_format == "json"
