"""Statuses, reason codes, exit codes, the exception tree and the pure HTTP status classification.

Bottom layer: no I/O, no clock, no aiohttp.
Reason codes are an external contract: add, never rename.

Exception tree (every exception the tool raises on purpose derives from ``WebexBulkError``)::

    WebexBulkError
    ├── FatalError                 stops the run (exit 1); never about a single row
    │   ├── ConfigError            a setting is unknown, malformed or out of range (key, source)
    │   ├── InputFileError         the CSV cannot be read as a whole (path, line, column, hint)
    │   ├── AuthError              the token is rejected and cannot be refreshed
    │   ├── NetworkError           the API's host cannot be reached at all (host, what to check)
    │   ├── PreflightError         a startup check failed (which check, what to do)
    │   ├── LockError              another run holds the run directory (holder)
    │   ├── StateError             the run directory cannot be resumed (fingerprint, corruption)
    │   └── StorageError           a write, fsync or rename failed (EIO, ENOSPC): never retried
    ├── RequestError               no usable answer to one request; the action decides
    │   ├── ApiError               a 4xx the action handles (status, message, code, tracking id)
    │   │   └── ForbiddenError     403: the token lacks a scope or role for this call
    │   ├── UnknownOutcome         a write may or may not have been applied: reconcile by lookup
    │   └── RetriesExhausted       a transient failure outlived the attempt cap or the retry budget
    │                              (``unreachable``: the host no attempt could connect to)
    └── RunAborted                 the run stops cleanly before the end (breaker, deadline) → exit 4
"""

from __future__ import annotations

import enum
import os
from typing import Any


class Status(enum.StrEnum):
    """The three terminal states of a row."""

    SUCCESS = "success"
    REJECTED = "rejected"
    PENDING = "pending"


class Action(enum.StrEnum):
    """What a successful row did to the tenant."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Reason(enum.StrEnum):
    """Why a row is rejected or pending. An external contract: add, never rename."""

    # rejected: the data or the tenant says no; fix the row and resubmit
    MISSING_FIELD = "missing_field"
    INVALID_VALUE = "invalid_value"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE_NUMBER = "invalid_phone_number"
    INVALID_EXTENSION = "invalid_extension"
    INVALID_MAC = "invalid_mac"
    INVALID_TIME_ZONE = "invalid_time_zone"
    UNKNOWN_ENTITY_TYPE = "unknown_entity_type"
    MALFORMED_ROW = "malformed_row"
    FIELD_TOO_LONG = "field_too_long"
    DUPLICATE_ROW = "duplicate_row"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    NUMBER_CONFLICT = "number_conflict"
    EXTENSION_CONFLICT = "extension_conflict"
    UNKNOWN_REFERENCE = "unknown_reference"
    AMBIGUOUS_MATCH = "ambiguous_match"
    API_REJECTED = "api_rejected"
    FORBIDDEN = "forbidden"
    LICENSE_UNAVAILABLE = "license_unavailable"
    MOVE_REFUSED = "move_refused"
    # pending: nothing wrong with the data; a person or a later run finishes it
    OUT_OF_SCOPE = "out_of_scope"
    DEPENDENCY_FAILED = "dependency_failed"
    RETRIES_EXHAUSTED = "retries_exhausted"
    CIRCUIT_OPEN = "circuit_open"
    NOT_IN_DIRECTORY = "not_in_directory"
    PLAN_STALE = "plan_stale"  # run --plan: the object changed since the plan was approved

    @property
    def status(self) -> Status:
        """The terminal state a row with this reason ends in."""
        return Status.PENDING if self in _PENDING_REASONS else Status.REJECTED


_PENDING_REASONS = frozenset(
    {
        Reason.OUT_OF_SCOPE,
        Reason.DEPENDENCY_FAILED,
        Reason.RETRIES_EXHAUSTED,
        Reason.CIRCUIT_OPEN,
        Reason.NOT_IN_DIRECTORY,
        Reason.PLAN_STALE,
    }
)
#: Pending reasons that time may cure: a resumed run tries these rows again. ``out_of_scope``
#: waits for a person (another tool, a manual step), so it stays pending until then, and so
#: does ``plan_stale`` (a person reviews a new plan: a resume must not overwrite the change);
#: ``not_in_directory`` waits for the next directory sync, which needs nobody's hand.
TRANSIENT_PENDING_REASONS = frozenset(
    {
        Reason.DEPENDENCY_FAILED,
        Reason.RETRIES_EXHAUSTED,
        Reason.CIRCUIT_OPEN,
        Reason.NOT_IN_DIRECTORY,
    }
)


class ExitCode(enum.IntEnum):
    """The exit codes of every command (DESIGN §13): an external contract, like the reason codes."""

    OK = 0  # every row success (plan: done; status: the run is complete)
    FATAL = 1  # config, input file, auth, preflight, lock, file system
    CHANGES_PENDING = 2  # plan --detailed-exitcode only: the tenant differs from the file
    ROWS_FAILED = 3  # finished, some rows rejected or pending
    STOPPED = 4  # stopped before the end (breaker, deadline); run again to resume
    NO_RUN = 5  # status only: no run directory holds a run yet
    USAGE = 64  # bad command line or missing input file (sysexits.h EX_USAGE)
    SIGHUP = 129  # interrupted (128 + the signal's number); run again to resume
    SIGINT = 130
    SIGTERM = 143


class HttpClass(enum.StrEnum):
    """What the connection client does with an HTTP status."""

    SUCCESS = "success"  # any 2xx, including 206 (the action inspects partial results)
    RATE_LIMITED = "rate_limited"  # 429, 423: global pause, then retry (also a POST)
    TRANSIENT = "transient"  # 500/502/503/504: backoff and retry, never a blind POST
    AUTH = "auth"  # 401: refresh once, then fatal
    FORBIDDEN = "forbidden"  # 403: the row is forbidden; fatal during preflight
    CLIENT = "client"  # any other 4xx: handed back to the action


def classify_status(status: int) -> HttpClass:
    """Classify an HTTP status code for the retry and reason logic."""
    if 200 <= status < 300:
        return HttpClass.SUCCESS
    if status in (429, 423):
        return HttpClass.RATE_LIMITED
    if status == 401:
        return HttpClass.AUTH
    if status == 403:
        return HttpClass.FORBIDDEN
    if status >= 500:
        return HttpClass.TRANSIENT
    return HttpClass.CLIENT


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code of an error that ends a run or a command: stopped (4) or fatal (1)."""
    return ExitCode.STOPPED if isinstance(error, RunAborted) else ExitCode.FATAL


class WebexBulkError(Exception):
    """Base of every error the tool raises on purpose."""

    #: Already logged as a ``run.fatal`` event (stderr and ``events.log``): not printed twice.
    reported: bool = False


class FatalError(WebexBulkError):
    """An error that stops the whole run with exit 1."""


class ConfigError(FatalError):
    """A setting is unknown, malformed or out of range."""

    def __init__(self, key: str, source: str, problem: str) -> None:
        super().__init__(key, source, problem)
        self.key = key
        self.source = source
        self.problem = problem

    def __str__(self) -> str:
        return f"setting {self.key!r} from {self.source}: {self.problem}"


class PlanRefused(ConfigError):
    """``run --plan`` with a saved plan that does not fit: another input file or another org,
    or no plan at all. Refused before any write."""

    def __str__(self) -> str:
        return f"--plan {self.source}: {self.problem}"


class InputFileError(FatalError):
    """The input file cannot be read as a whole; names the file, line and what to do."""

    def __init__(
        self, path: str, line: int, problem: str, hint: str, column: str | None = None
    ) -> None:
        super().__init__(path, line, problem, hint, column)
        self.path = path
        self.line = line
        self.problem = problem
        self.hint = hint
        self.column = column

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.column:
            where += f": column {self.column}"
        return f"{where}: {self.problem} — {self.hint}"


class AuthError(FatalError):
    """The token was refused and could not be refreshed."""


class NetworkError(FatalError):
    """No connection to the API's host at all: refused, name not found, TLS, connect timeout.

    It is the network's doing, not the token's: the message names the host and what to check.
    """

    def __init__(self, host: str, cause: str) -> None:
        super().__init__(host, cause)
        self.host = host
        self.cause = cause

    def __str__(self) -> str:
        return f"cannot reach {self.host}: {self.cause} — {NETWORK_HINT}"


#: What to check when the API's host cannot be reached.
NETWORK_HINT = (
    "check the network path to it: the proxy (HTTPS_PROXY / NO_PROXY), --base-url "
    "(WEBEX_BULK_BASE_URL) and the firewall, then run again"
)


class PreflightError(FatalError):
    """A startup check failed."""

    def __init__(self, check: str, problem: str, hint: str) -> None:
        super().__init__(check, problem, hint)
        self.check = check
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        return f"preflight {self.check}: {self.problem} — {self.hint}"


class LockError(FatalError):
    """Another run holds the run directory."""

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(path, holder)
        self.path = path
        self.holder = holder

    def __str__(self) -> str:
        run_dir = os.path.dirname(self.path) or "."
        return (
            f"{self.path} is locked by {self.holder} — wait for that run to end; if that "
            f"process is gone, run: webex-bulk unlock {run_dir} --lock-id ID (the lock id above)"
        )


class StateError(FatalError):
    """The run directory cannot be resumed as it is."""


class StorageError(FatalError):
    """A write, fsync or rename of the run directory failed; the previous checkpoint stands."""

    def __init__(self, path: str, operation: str, cause: str) -> None:
        super().__init__(path, operation, cause)
        self.path = path
        self.operation = operation
        self.cause = cause

    def __str__(self) -> str:
        return (
            f"{self.operation} of {self.path} failed: {self.cause} — free space or fix the disk, "
            "then run the same command again to resume"
        )


class RequestError(WebexBulkError):
    """One HTTP exchange ended without a usable answer; the action decides the row's fate."""

    def __init__(self, method: str, path: str, tracking_id: str) -> None:
        super().__init__(method, path, tracking_id)
        self.method = method
        self.path = path
        self.tracking_id = tracking_id


class ApiError(RequestError):
    """The API answered with a 4xx that the client does not handle itself."""

    def __init__(
        self,
        method: str,
        path: str,
        tracking_id: str,
        status: int,
        message: str,
        error_code: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(method, path, tracking_id)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.body = body

    def __str__(self) -> str:
        code = f" (error code {self.error_code})" if self.error_code is not None else ""
        return (
            f"{self.method} {self.path} → {self.status}: {self.message}{code} "
            f"[tracking id {self.tracking_id}]"
        )


class ForbiddenError(ApiError):
    """403: the token lacks the scope or role this call needs."""


class UnknownOutcome(RequestError):
    """A write may have been applied (timeout, reset after sending, 5xx): reconcile by lookup."""

    def __init__(self, method: str, path: str, tracking_id: str, cause: str) -> None:
        super().__init__(method, path, tracking_id)
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.method} {self.path}: outcome unknown ({self.cause}) [{self.tracking_id}]"


class RetriesExhausted(RequestError):
    """A transient failure outlived the attempt cap or the run's retry budget."""

    def __init__(
        self,
        method: str,
        path: str,
        tracking_id: str,
        cause: str,
        attempts: int,
        unreachable: str = "",
    ) -> None:
        super().__init__(method, path, tracking_id)
        self.cause = cause
        self.attempts = attempts
        #: ``host:port`` when no attempt could connect to it (the network, not the API).
        self.unreachable = unreachable

    def __str__(self) -> str:
        return (
            f"{self.method} {self.path}: gave up after {self.attempts} attempts ({self.cause}) "
            f"[{self.tracking_id}]"
        )


class RunAborted(WebexBulkError):
    """The run stops cleanly before the end; the next run of the same command resumes."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why

    def __str__(self) -> str:
        return f"run stopped before the end: {self.why} — run the same command again to resume"
