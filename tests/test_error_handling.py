"""Reason codes, statuses, HTTP classification, the exception tree and exit codes."""

from __future__ import annotations

import pytest

from webex_bulk import error_handling as eh
from webex_bulk.error_handling import (
    ExitCode,
    HttpClass,
    Reason,
    Status,
    classify_status,
    exit_code_for,
)
from webex_bulk.input.normalise import CellError

#: DESIGN §7: an external contract (add, never rename).
REJECTED = [
    "missing_field",
    "invalid_value",
    "invalid_email",
    "invalid_phone_number",
    "invalid_extension",
    "invalid_mac",
    "invalid_time_zone",
    "unknown_entity_type",
    "malformed_row",
    "field_too_long",
    "duplicate_row",
    "conflicting_duplicate",
    "number_conflict",
    "extension_conflict",
    "unknown_reference",
    "ambiguous_match",
    "api_rejected",
    "forbidden",
    "license_unavailable",
]
PENDING = [
    "out_of_scope",
    "dependency_failed",
    "retries_exhausted",
    "circuit_open",
    "not_in_directory",
    "plan_stale",
]


def test_every_contract_reason_code_exists_with_its_status() -> None:
    """Each reason code of the contract exists, spelled the same, with its terminal state."""
    for code in REJECTED:
        assert Reason(code).status is Status.REJECTED
    for code in PENDING:
        assert Reason(code).status is Status.PENDING


def test_reason_codes_are_snake_case() -> None:
    """Reason codes are stable lower snake_case strings."""
    for reason in Reason:
        assert reason.value == reason.value.lower()
        assert " " not in reason.value


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, HttpClass.SUCCESS),
        (206, HttpClass.SUCCESS),
        (429, HttpClass.RATE_LIMITED),
        (423, HttpClass.RATE_LIMITED),
        (401, HttpClass.AUTH),
        (403, HttpClass.FORBIDDEN),
        (500, HttpClass.TRANSIENT),
        (503, HttpClass.TRANSIENT),
        (400, HttpClass.CLIENT),
        (404, HttpClass.CLIENT),
        (409, HttpClass.CLIENT),
    ],
)
def test_classify_status(status: int, expected: HttpClass) -> None:
    """HTTP statuses map to what the client does with them."""
    assert classify_status(status) is expected


def test_the_exception_tree() -> None:
    """Every deliberate exception derives from WebexBulkError; fatal ones from FatalError."""
    for fatal in (
        eh.ConfigError,
        eh.InputFileError,
        eh.AuthError,
        eh.PreflightError,
        eh.LockError,
        eh.StateError,
        eh.StorageError,
    ):
        assert issubclass(fatal, eh.FatalError)
    for request in (eh.ApiError, eh.ForbiddenError, eh.UnknownOutcome, eh.RetriesExhausted):
        assert issubclass(request, eh.RequestError)
    assert issubclass(eh.ForbiddenError, eh.ApiError)
    assert issubclass(eh.RunAborted, eh.WebexBulkError)
    assert not issubclass(eh.RunAborted, eh.FatalError)
    assert issubclass(CellError, eh.WebexBulkError)
    assert issubclass(CellError, ValueError)


def test_input_file_error_reads_file_line_column_problem_hint() -> None:
    """InputFileError prints FILE:LINE[: column C]: problem — hint."""
    error = eh.InputFileError("in.csv", 7, "a NUL byte", "save as CSV UTF-8", "email")
    assert str(error) == "in.csv:7: column email: a NUL byte — save as CSV UTF-8"
    assert str(eh.InputFileError("in.csv", 1, "empty", "add rows")) == "in.csv:1: empty — add rows"


def test_messages_carry_what_to_do() -> None:
    """Fatal errors say what is wrong and what to do; request errors carry the tracking id."""
    assert "known" in str(eh.ConfigError("x", "flag --x", "unknown; known settings: a"))
    assert str(eh.PreflightError("auth", "token refused", "log in")).startswith("preflight auth")
    assert "webex-bulk unlock runs/x --lock-id" in str(eh.LockError("runs/x/run.lock", "pid 1"))
    assert "resume" in str(eh.StorageError("runs/x/journal", "fsync", "ENOSPC"))
    api = eh.ApiError("POST", "/people", "T1", 400, "bad", 4910)
    assert str(api) == "POST /people → 400: bad (error code 4910) [tracking id T1]"
    assert "T2" in str(eh.UnknownOutcome("POST", "/people", "T2", "timeout"))
    assert "3 attempts" in str(eh.RetriesExhausted("GET", "/people", "T3", "503", 3))
    assert "run the same command again" in str(eh.RunAborted("breaker open"))


def test_exit_codes_of_domain_errors() -> None:
    """A run stopped early exits 4; every fatal error exits 1; the codes are a fixed contract."""
    assert exit_code_for(eh.RunAborted("deadline")) is ExitCode.STOPPED
    assert exit_code_for(eh.ConfigError("k", "s", "p")) is ExitCode.FATAL
    assert exit_code_for(eh.InputFileError("f", 1, "p", "h")) is ExitCode.FATAL
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4, 5, 64, 129, 130, 143]
