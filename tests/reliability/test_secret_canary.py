"""Secret canaries: the access token, the refresh token and the client secret are unique marker
strings; runs at debug level with forced errors (5xx, 429s, dropped answers, expiring and
rotating tokens, refused refreshes, a server that echoes secrets back) must leave zero bytes of
any of them in stdout, stderr, logs, outputs, journal and checkpoint. Device activation codes
are in activation_codes.csv and nowhere else. CR/LF inside CSV values cannot forge a log line.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web

from reliability.conftest import scale
from reliability.mixed_file import write_mixed_file
from reliability.test_ambiguous_post import Handler, simulator_behind
from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import AuthError
from webex_bulk.simulator import SimConfig, simulator_process

pytestmark = pytest.mark.timeout(300)

COMMAND = Path(sys.executable).with_name("webex-bulk")
#: Tokens the simulator mints on a refresh: they are secrets too, whatever their value.
MINTED = (b"sim-access-", b"sim-refresh-")
FORGED = "FORGED-LOG-LINE"


def canaries() -> dict[str, str]:
    """Fresh, unique secret values (letters and digits: every encoding leaves them whole)."""
    tag = uuid.uuid4().hex
    return {
        "access_token": f"CanaryAccess{tag}",
        "refresh_token": f"CanaryRefresh{tag}",
        "client_secret": f"CanarySecret{tag}",
    }


def encodings(secret: str) -> list[bytes]:
    """The ways a secret could leak: as is, URL-quoted, base64 (of it and of a bearer
    header), JSON-quoted."""
    raw = secret.encode()
    return [
        raw,
        quote(secret).encode(),
        base64.b64encode(raw).rstrip(b"="),
        base64.b64encode(b"Bearer " + raw).rstrip(b"="),
        json.dumps(secret).encode(),
    ]


def leaks(blobs: Mapping[str, bytes], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(where, what) for every secret or minted token found in any blob."""
    found = []
    for where, blob in blobs.items():
        for secret in secrets:
            if any(form in blob for form in encodings(secret)):
                found.append((where, secret))
        for prefix in MINTED:
            if prefix in blob:
                found.append((where, prefix.decode()))
    return found


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots, by path."""
    return {
        str(path): path.read_bytes()
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def add_hostile_rows(csv_path: Path) -> None:
    """Append rows whose cells hold CR/LF followed by text shaped like a log line."""
    forged_json = json.dumps({"level": "error", "logger": "webex_bulk", "event": FORGED})
    forged_human = f"12:00:00 error   {FORGED} path=/people"
    with csv_path.open("a", encoding="utf-8", newline="") as handle:
        columns = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
        for index, payload in enumerate((forged_json, forged_human)):
            cells = dict.fromkeys(columns, "")
            cells.update(
                entity_type="user",
                email=f"forge{index}@example.com",
                first_name=f"Line\r\n{payload}",
                last_name=f"Break\n{payload}\r",
                location="Site 000",
                extension=str(990_000 + index),
                department=f"\r\n{payload}\n",
            )
            cells_text = ",".join(
                '"' + cells[column].replace('"', '""') + '"' for column in columns
            )
            handle.write(cells_text + "\n")
        bad = dict.fromkeys(columns, "")
        bad.update(entity_type="user", email=f"bad\r\n{forged_json}@x", location="Site 000")
        handle.write(",".join('"' + bad[c].replace('"', '""') + '"' for c in columns) + "\n")


def passcode_canary() -> str:
    """A fresh voicemail passcode (digits only, as the API wants): a secret of the input."""
    return str(uuid.uuid4().int)[:24]


def add_voicemail_rows(csv_path: Path, passcode: str) -> None:
    """Add a ``passcode`` column and two voicemail groups holding the canary: one valid, one
    rejected by validation (its cells go to rejected.csv)."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [*rows[0], "passcode"]
    body = [[*row, ""] for row in rows[1:]]
    for name, extension in (("Canary VM", "997000"), ("Broken VM", "99x")):
        cells = dict.fromkeys(header, "")
        cells.update(
            entity_type="voicemail_group",
            name=name,
            location="Site 000",
            extension=extension,
            passcode=passcode,
        )
        body.append([cells[column] for column in header])
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])


#: Phones without a MAC (models the mixed file gives nobody): each gets an activation code.
MACLESS_PHONES = (
    {"owner": "user00001@load.example.com", "model": "DMS Cisco 9861"},
    {"owner": "Room 0000", "location": "Site 000", "model": "DMS Cisco 9841"},
)


def add_macless_phones(csv_path: Path) -> None:
    """Append the ``MACLESS_PHONES`` device rows (the file's header has every column)."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with csv_path.open("a", encoding="utf-8", newline="") as handle:
        for phone in MACLESS_PHONES:
            cells = {**dict.fromkeys(header, ""), "entity_type": "device", **phone}
            csv.writer(handle, lineterminator="\n").writerow([cells[c] for c in header])


def assert_log_lines_are_whole(text: str, where: str) -> None:
    """Every line of a JSON log is one object, and none was written by a CSV value."""
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)  # a forged fragment would not parse
        assert isinstance(record, dict), (where, line)
        assert record.get("event") != FORGED, (where, line)
        assert {"ts", "level", "logger", "event"} <= record.keys(), (where, line)


def write_token_file(path: Path, secrets: Mapping[str, str]) -> Path:
    """A token file (mode 0600) with the refresh credentials; the client writes a rotated
    refresh token back to it, so the next process starts from the current one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "refresh_token": secrets["refresh_token"],
        "client_id": "canary-client",
        "client_secret": secrets["client_secret"],
    }
    path.write_text(json.dumps(body), encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def child_env(sim_base_url: str, token: str, token_file: Path, **more: str) -> dict[str, str]:
    """The environment of a CLI child: the access token and the token file, quick settings, no
    inherited ``WEBEX_BULK_*`` switches (the CLI refuses unknown settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_BULK_", "WEBEX_TOKEN"))}
    env.update(
        WEBEX_TOKEN=token,
        WEBEX_BULK_TOKEN_FILE=str(token_file),
        WEBEX_BULK_BASE_URL=sim_base_url,
        WEBEX_BULK_RATE="500",
        WEBEX_BULK_BACKOFF_BASE="0",
        WEBEX_BULK_CONSISTENCY_WAIT="0",
        WEBEX_BULK_RETRY_AFTER_DEFAULT="0.05",
        WEBEX_BULK_RETRY_BUDGET="1.0",
        WEBEX_BULK_BREAKER_COOLDOWN="0.05",
        WEBEX_BULK_LOG_LEVEL="debug",
        WEBEX_BULK_LOG_FORMAT="json",
        **more,
    )
    return env


def cli(args: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``webex-bulk ARGS`` as a child process; its raw stdout and stderr."""
    return subprocess.run(
        [str(COMMAND), *args], env=dict(env), cwd=cwd, capture_output=True, timeout=240
    )


def test_canaries_never_leave_the_process_through_the_cli(tmp_path: Path, figures: Any) -> None:
    """plan, run (with 5xx, 423/429, dropped answers, 400-but-created, a token expiring every
    2 s and a rotating refresh token), status, a resume, and runs whose refresh is refused or
    whose token is wrong, all at debug level: no secret — nor any token minted on a refresh,
    nor the voicemail passcode of the input — in any byte of stdout, stderr or any file of the
    run directories; every log line is one JSON object, whatever CR/LF the CSV cells hold."""
    secrets = canaries()
    passcode = passcode_canary()
    rows = scale(60, 600)
    csv_path = write_mixed_file(tmp_path / "tenant.csv", rows, seed=31)
    add_voicemail_rows(csv_path, passcode)
    add_macless_phones(csv_path)
    add_hostile_rows(csv_path)
    config = SimConfig(
        seed=31,
        token=secrets["access_token"],
        refresh_token=secrets["refresh_token"],
        client_id="canary-client",
        client_secret=secrets["client_secret"],
        token_ttl=2.0,
        rotate_refresh_token=True,
        error_probability={"GET": 0.03, "PUT": 0.03},
        error_after_commit_probability=0.03,
        drop_after_probability=0.02,
        created_400_probability=0.05,
        locked_probability=0.02,
        retry_after_style="malformed",
        latency={"default": {"median": 0.002, "p99": 0.01}},
    )
    runs = tmp_path / "runs"
    token_file = write_token_file(tmp_path / "secret" / "token.json", secrets)
    outputs: dict[str, bytes] = {}
    with simulator_process(config) as sim:
        env = child_env(sim.base_url, secrets["access_token"], token_file)
        steps = [
            (
                "plan",
                ["plan", "--detailed-exitcode", str(csv_path), "--run-dir", str(runs / "plan")],
            ),
            ("run", ["run", str(csv_path), "--run-dir", str(runs / "main")]),
            ("status", ["status", str(runs / "main")]),
            ("rerun", ["run", str(csv_path), "--run-dir", str(runs / "main"), "--fresh"]),
            ("preflight", ["preflight", str(csv_path)]),
        ]
        codes = {}
        for name, args in steps:
            done = cli(args, env, tmp_path)
            codes[name] = done.returncode
            outputs[f"{name}:stdout"] = done.stdout
            outputs[f"{name}:stderr"] = done.stderr
            assert b"Traceback" not in done.stderr, done.stderr[-2000:]
            assert_log_lines_are_whole(
                "\n".join(
                    line for line in done.stderr.decode().splitlines() if line.startswith("{")
                ),
                f"{name}:stderr",
            )
        wrong_secret = {**secrets, "client_secret": secrets["client_secret"] + "X"}
        wrong_file = write_token_file(tmp_path / "secret" / "wrong.json", wrong_secret)
        refused = cli(
            ["run", str(csv_path), "--run-dir", str(runs / "refused")],
            child_env(sim.base_url, "expired-" + uuid.uuid4().hex, wrong_file),
            tmp_path,
        )
        outputs["refused:stdout"] = refused.stdout
        outputs["refused:stderr"] = refused.stderr
        counts = sim.side("counts")
        minted = [
            str(item["code"]) for item in sim.side("state?types=activationCodes")["activationCodes"]
        ]
    assert codes == {"plan": 2, "run": 3, "status": 3, "rerun": 3, "preflight": 0}, outputs
    assert refused.returncode == 1
    assert b"refresh" in refused.stderr
    assert counts["by_route"].get("POST /v1/access_token", 0) >= 2  # tokens did expire
    code_files = {k: v for k, v in files_under(runs).items() if k.endswith("activation_codes.csv")}
    outputs.update({k: v for k, v in files_under(runs).items() if k not in code_files})
    for path in sorted(runs.rglob("events.log")):
        assert_log_lines_are_whole(path.read_text(encoding="utf-8"), str(path))
    assert leaks(outputs, [*secrets.values(), *wrong_secret.values(), passcode, *minted]) == []
    # The codes did reach their file: the scan for them has teeth.
    assert any(code.encode() in blob for code in minted for blob in code_files.values())
    assert b"****" in outputs[str(runs / "main" / "success.csv")]
    figures(
        rows=rows,
        bytes_scanned=sum(len(blob) for blob in outputs.values()),
        blobs_scanned=len(outputs),
        token_refreshes=counts["by_route"].get("POST /v1/access_token", 0),
        exit_codes=codes,
    )


#: Query keys of the lookups a row makes (an inventory listing has none of them).
ROW_LOOKUP_KEYS = frozenset({"email", "name", "displayName", "mac", "phoneNumber"})


class EchoingServer:
    """A hostile API in front of the simulator: some answers echo the request's Authorization
    header or form body (a 400 message, a 500 HTML page, a 429 body, a refused refresh)."""

    def __init__(self) -> None:
        self.echoed = 0
        self._count = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer every 7th API request with an echo of its secrets."""
        if not request.path.startswith("/v1/"):
            return await handler(request)
        self._count += 1
        if request.path == "/v1/access_token":
            form = await request.post()
            if self._count % 3 == 0:
                self.echoed += 1
                dump = "&".join(f"{k}={v}" for k, v in form.items())
                return web.Response(status=503, text=f"<html>upstream said {dump}</html>")
            return await handler(request)
        # Only the rows' own requests (writes, lookups by key) echo: a 4xx to the preflight or
        # to an inventory listing stops the run for other reasons (see test_network_chaos.py).
        row_level = request.method != "GET" or ROW_LOOKUP_KEYS & request.query.keys()
        if self._count % 7 or not row_level:
            return await handler(request)
        self.echoed += 1
        header = request.headers.get("Authorization", "")
        # Only a few 429s: each one rightly lowers the client's rate for a while.
        kind = (self._count // 7) % 2 if self.echoed > 3 else 2
        if kind == 0:
            body = {"message": f"Bad request: {header} is not allowed", "trackingId": "ROUTER_e"}
            return web.json_response(body, status=400)
        if kind == 1:
            return web.Response(status=500, text=f"<html><pre>{header}</pre></html>")
        body = {"message": f"slow down {header}", "trackingId": "ROUTER_e"}
        return web.json_response(body, status=429, headers={"Retry-After": "0"})


async def test_a_server_echoing_secrets_back_leaks_nothing(
    run_engine: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str], figures: Any
) -> None:
    """Answers that echo the bearer token and the refresh form (including the client secret)
    into error messages, HTML pages and 429 bodies, and a refresh refused with the secrets in
    its message: the run's outputs, logs, stdout/stderr and the errors it raises name none of
    them."""
    secrets = canaries()
    rows = scale(60, 600)
    csv_path = write_mixed_file(tmp_path / "echo.csv", rows, seed=32)
    add_hostile_rows(csv_path)
    config = SimConfig(
        seed=32,
        token=secrets["access_token"],
        refresh_token=secrets["refresh_token"],
        client_id="canary-client",
        client_secret=secrets["client_secret"],
        token_ttl=1.0,
    )
    credentials = Credentials(
        access_token=secrets["access_token"],
        refresh_token=secrets["refresh_token"],
        client_id="canary-client",
        client_secret=secrets["client_secret"],
    )
    echo = EchoingServer()
    errors: list[str] = []
    async with simulator_behind(config, echo.middleware) as sim:
        run = await run_engine(
            sim, csv_path, credentials=credentials, log_level="debug", retry_budget=1.0
        )
        refused = Credentials(
            access_token="wrong-" + uuid.uuid4().hex,
            refresh_token=secrets["refresh_token"],
            client_id="canary-client",
            client_secret=secrets["client_secret"] + "X",
        )
        with pytest.raises(AuthError) as caught:
            await run_engine(sim, csv_path, credentials=refused, fresh=True, log_level="debug")
        errors += [str(caught.value), repr(caught.value), repr(refused), repr(credentials)]
    captured = capfd.readouterr()
    blobs = {
        "stdout": captured.out.encode(),
        "stderr": captured.err.encode(),
        "engine output": run.output.encode(),
        "errors": "\n".join(errors).encode(),
        **files_under(tmp_path / "runs"),
    }
    assert echo.echoed > 0
    # The echoes did reach the outputs, with the secret replaced: the scan below has teeth.
    assert any(b"Bearer ***" in blob for blob in blobs.values())
    for path in sorted((tmp_path / "runs").rglob("events.log")):
        assert_log_lines_are_whole(path.read_text(encoding="utf-8"), str(path))
    assert leaks(blobs, [*secrets.values(), secrets["client_secret"] + "X"]) == []
    figures(rows=rows, echoed_answers=echo.echoed, exit_code=run.exit_code)


def test_the_leak_scan_finds_a_planted_secret() -> None:
    """The scan is not blind: a secret planted raw, URL-quoted, in base64, or a minted token,
    is reported."""
    secret = canaries()["client_secret"]
    planted = {
        "raw": b"x" + secret.encode() + b"y",
        "b64": b"Authorization: Basic " + base64.b64encode(b"Bearer " + secret.encode()),
        "minted": b'{"token": "sim-access-0123"}',
        "clean": b"nothing here",
    }
    assert leaks(planted, [secret]) == [
        ("raw", secret),
        ("b64", secret),
        ("minted", "sim-access-"),
    ]
