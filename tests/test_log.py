"""Log setup: events.log and stderr formats, levels, redaction of secrets, no forged lines."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

from webex_bulk.log import add_secret, setup_logging

CANARY = "cAnArY-5ecr3t-Zq9x"
log = logging.getLogger("webex_bulk.test_log")


class FakeTTY(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def events(run_dir: Path) -> list[dict[str, Any]]:
    """The events.log lines, each parsed as JSON."""
    return [json.loads(line) for line in (run_dir / "events.log").read_text().splitlines()]


def test_canary_secret_never_leaves_the_process(tmp_path: Path) -> None:
    """A secret in messages, fields, nested fields, exception text and library logs is removed."""
    stderr = io.StringIO()
    with setup_logging(tmp_path / "events.log", "human", "debug", [CANARY], stream=stderr):
        log.info(
            "request.sent",
            extra={
                "event_fields": {
                    "headers": {"Authorization": f"Bearer {CANARY}"},
                    "url": f"https://webexapis.com/v1/people?access_token={CANARY}",
                    "plain": f"the value {CANARY} in a sentence",
                    "nested": [CANARY, {"deep": f"x{CANARY}y"}],
                }
            },
        )
        log.warning(f"auth.failed {CANARY}")
        try:
            raise RuntimeError(f"refresh with {CANARY} was refused")
        except RuntimeError:
            log.exception("auth.refresh_failed", extra={"event_fields": {"detail": CANARY}})
        logging.getLogger("aiohttp.client").error("sent %s", CANARY)
    written = (tmp_path / "events.log").read_text()
    assert CANARY not in written
    assert CANARY not in stderr.getvalue()
    assert written.count("[REDACTED]") >= 7
    records = events(tmp_path)
    assert [r["event"] for r in records][:3] == [
        "request.sent",
        "auth.failed [REDACTED]",
        "auth.refresh_failed",
    ]
    assert "was refused" in records[2]["exc"]
    assert records[2]["error"] == "RuntimeError: refresh with [REDACTED] was refused"
    assert records[3]["logger"] == "aiohttp.client"


def test_credential_patterns_are_removed_without_knowing_the_value(tmp_path: Path) -> None:
    """Authorization headers, bearer tokens, access/refresh tokens and client secrets are masked."""
    stderr = io.StringIO()
    leaks = {
        "header": "Authorization: Bearer eyJhbGciOi.payload-part_1",
        "basic": "{'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}",
        "query": "https://x/y?access_token=tok123abc&max=10",
        "json": '{"refresh_token": "rtok456def", "expires_in": 3600}',
        "form": "grant_type=refresh_token&client_secret=csec789ghi&client_id=C1",
    }
    with setup_logging(tmp_path / "events.log", "json", "info", [], stream=stderr):
        log.info("auth.debug", extra={"event_fields": leaks})
        log.info("auth.debug %s", leaks["header"])
        try:
            raise ConnectionError(f"POST {leaks['query']} failed")
        except ConnectionError:
            log.exception("request.failed")
    for output in ((tmp_path / "events.log").read_text(), stderr.getvalue()):
        for secret in ("eyJhbGciOi", "dXNlcjpwYXNz", "tok123abc", "rtok456def", "csec789ghi"):
            assert secret not in output
        assert "max=10" in output  # what surrounds a secret stays readable
        assert "client_id=C1" in output


def test_fields_named_like_secrets_are_masked_whole(tmp_path: Path) -> None:
    """A field called token, access_token or client_secret never shows its value."""
    with setup_logging(tmp_path / "events.log", "json", "info", [], stream=io.StringIO()):
        fields = {"token": "abc", "client_secret": "def", "refreshToken": "ghi", "count": 3}
        log.info("auth.state", extra={"event_fields": fields})
    (record,) = events(tmp_path)
    assert record["token"] == record["client_secret"] == record["refreshToken"] == "[REDACTED]"
    assert record["count"] == 3


def test_secret_added_later_is_redacted(tmp_path: Path) -> None:
    """A token learned mid-run (a refresh) is redacted from the moment add_secret is called."""
    stderr = io.StringIO()
    with setup_logging(tmp_path / "events.log", "human", "info", [], stream=stderr):
        add_secret(CANARY)
        log.info("auth.refreshed", extra={"event_fields": {"new": CANARY}})
    assert CANARY not in (tmp_path / "events.log").read_text()
    assert CANARY not in stderr.getvalue()
    add_secret("outside any setup")  # no handler installed: nothing to do, no error


def test_line_breaks_in_values_cannot_forge_a_log_line(tmp_path: Path) -> None:
    """CR/LF inside a CSV value stay inside their line, in events.log and on stderr."""
    forged = 'ok\n{"ts": "x", "level": "info", "event": "forged"}\r\n09:00:00 info    forged'
    stderr = io.StringIO()
    with setup_logging(tmp_path / "events.log", "human", "info", [], stream=stderr):
        log.info("row.done", extra={"event_fields": {"name": forged, "list": [forged]}})
        log.info("row.note %s", forged)
        log.info("row.key", extra={"event_fields": {forged: 1}})
    records = events(tmp_path)
    assert [r["event"].split(" ")[0] for r in records] == ["row.done", "row.note", "row.key"]
    assert all("\n" not in str(r) and "\r" not in str(r) for r in records)
    assert records[0]["name"].startswith("ok\\n{")
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 3
    assert not any("forged" in line.split(" ")[2] for line in lines)


def test_stderr_level_and_events_level_differ(tmp_path: Path) -> None:
    """stderr shows the chosen level and up; events.log keeps info events regardless."""
    stderr = io.StringIO()
    with setup_logging(tmp_path / "events.log", "human", "warning", [], stream=stderr):
        log.debug("row.debug")
        log.info("row.done", extra={"event_fields": {"line": 2}})
        log.warning("request.retry", extra={"event_fields": {"attempt": 2, "path": "/people x"}})
    assert [r["event"] for r in events(tmp_path)] == ["row.done", "request.retry"]
    (line,) = stderr.getvalue().splitlines()
    assert line.split(" ", 1)[1] == 'warning request.retry attempt=2 path="/people x"'


def test_json_format_on_stderr_and_exception_summary(tmp_path: Path) -> None:
    """With log_format json, stderr lines are JSON objects carrying the error summary."""
    stderr = io.StringIO()
    with setup_logging(None, "json", "info", [], stream=stderr):
        try:
            raise ValueError("bad cell")
        except ValueError:
            log.error("row.failed", exc_info=True, extra={"event_fields": {"event": "clash"}})
    (record,) = [json.loads(line) for line in stderr.getvalue().splitlines()]
    assert record["event"] == "row.failed"
    assert record["field_event"] == "clash"  # a field cannot overwrite the event name
    assert record["error"] == "ValueError: bad cell"
    assert "Traceback" in record["exc"]
    assert not (tmp_path / "events.log").exists()


def test_setup_is_undone_on_exit(tmp_path: Path) -> None:
    """Leaving the context removes its handlers and restores the logger levels."""
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("webex_bulk").level)
    with setup_logging(tmp_path / "events.log", "human", "debug", [CANARY], stream=io.StringIO()):
        assert len(root.handlers) == len(before[0]) + 2
    after = (list(root.handlers), root.level, logging.getLogger("webex_bulk").level)
    assert after == before


def test_terminal_hides_progress_events(tmp_path: Path) -> None:
    """On a TTY, stderr skips progress events (the live display shows them); events.log has them."""
    stderr = FakeTTY()
    with setup_logging(tmp_path / "events.log", "human", "info", [], stream=stderr):
        logging.getLogger("webex_bulk.progress").info(
            "progress", extra={"event_fields": {"done": 1}}
        )
        log.info("phase.start", extra={"event_fields": {"phase": "user"}})
    (line,) = stderr.getvalue().removesuffix("\n").split("\n")
    assert line.endswith("phase.start phase=user")
    assert [r["event"] for r in events(tmp_path)] == ["progress", "phase.start"]
