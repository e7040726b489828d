"""Logging: JSON-lines ``events.log``, human or JSON lines on stderr, secret redaction.

Other modules only call ``logging.getLogger("webex_bulk.<module>")`` with a dotted event name as
the message and ``extra={"event_fields": {...}}``; every line that leaves the process is redacted.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import math
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

REDACTED = "[REDACTED]"
PACKAGE_LOGGER = "webex_bulk"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Bearer x", "'Authorization': 'Basic x'", "authorization=x": keep the scheme
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)((?:[a-z]+\s+)?)[^\s\"',;}&]+"),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*"), r"\1 " + REDACTED),
    # access_token=x, "refresh_token": "x", client_secret=x (query, form, JSON, repr)
    (
        re.compile(
            r"(?i)((?:access_?token|refresh_?token|client_?secret|id_?token)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+"
        ),
        r"\1" + REDACTED,
    ),
)
# Field names whose whole value is a secret, compared without "_" and "-", lower-cased.
_SECRET_FIELDS = frozenset(
    {"authorization", "accesstoken", "refreshtoken", "clientsecret", "idtoken", "token", "secret"}
)
# Line breaks and other control characters that could forge or hide a log line.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_RESERVED = frozenset({"ts", "level", "logger", "event", "error", "exc", "stack"})


def escape_controls(text: str) -> str:
    r"""``\r`` and ``\n`` (and other control characters) as visible escapes: one value, one line."""
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r"}
    return named.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}")


class Redactor:
    """Removes secret values and credential patterns from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Redact this exact value from now on (a refreshed token, for instance)."""
        if secret and secret not in self._secrets:
            # Longest first, so a secret containing another is removed whole. The tuple is
            # replaced, never changed in place, so another thread logging meanwhile is safe.
            self._secrets = tuple(sorted((*self._secrets, secret), key=len, reverse=True))

    def exact(self, text: str) -> str:
        """Only the exact secret values removed (safe on an encoded JSON line)."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def text(self, text: str) -> str:
        """Secret values and credential patterns removed."""
        text = self.exact(text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def field(self, name: str, value: Any) -> Any:
        """A field value redacted (whole value when the name says secret), line breaks escaped."""
        if name.replace("_", "").replace("-", "").lower() in _SECRET_FIELDS and value:
            return REDACTED
        return self.value(value)

    def value(self, value: Any) -> Any:
        """Any field value as plain, redacted, single-line JSON data."""
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)  # NaN and infinity are not JSON
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {
                escape_controls(self.text(str(k))): self.field(str(k), v) for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        return escape_controls(self.text(str(value)))


class RedactingFilter(logging.Filter):
    """Rewrites every record before any handler formats it: message, fields, exception text."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        if record.__dict__.get("_redacted_by") is self:
            return True  # the same record reaching the second handler
        record.__dict__["_redacted_by"] = self
        redactor = self.redactor
        try:
            message = record.getMessage()
        except Exception:  # a bad third-party format string must not break the caller
            message = f"{record.msg!r} (arguments did not fit the format)"
        record.msg = escape_controls(redactor.text(message))
        record.args = None
        fields = getattr(record, "event_fields", None)
        record.event_fields = redactor.value(fields) if isinstance(fields, Mapping) else {}
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.exc_text = redactor.text(logging.Formatter().formatException(record.exc_info))
            record.__dict__["exc_summary"] = escape_controls(redactor.text(_describe(exc)))
        elif record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        return True


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:
        return type(exc).__name__


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, the event's fields, error, exc."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line (control characters escaped by JSON itself)."""
        doc: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": str(record.msg),
        }
        for key, value in getattr(record, "event_fields", {}).items():
            doc[f"field_{key}" if key in _RESERVED else key] = value
        if getattr(record, "exc_summary", None):
            doc["error"] = record.__dict__["exc_summary"]
        if record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return self._redactor.exact(json.dumps(doc, ensure_ascii=True, default=str))


class HumanFormatter(logging.Formatter):
    """``12:03:04 warning request.retry path=/people attempt=2``: one line per record."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """The record as one human line; traceback details stay in ``events.log``."""
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        parts = [stamp, f"{record.levelname.lower():<7}", str(record.msg)]
        fields = getattr(record, "event_fields", {})
        parts += [f"{key}={_human(value)}" for key, value in fields.items()]
        if getattr(record, "exc_summary", None):
            parts.append(f"error={_human(record.__dict__['exc_summary'])}")
        return self._redactor.exact(" ".join(parts))


def _human(value: Any) -> str:
    if isinstance(value, str):
        plain = value and not any(c in value for c in ' ="\\')
        return value if plain else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def _not_progress(record: logging.LogRecord) -> bool:
    return record.msg != "progress"


def _not_fatal(record: logging.LogRecord) -> bool:
    # A human reads a fatal error once, as the command line's own ``webex-bulk: …`` line.
    return record.msg != "run.fatal"


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now: a live display may route it above itself."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return is_tty(sys.stderr)


@contextlib.contextmanager
def setup_logging(
    events_file: Path | None,
    log_format: str,
    level: str,
    secrets: Iterable[str],
    *,
    stream: TextIO | None = None,
) -> Iterator[Redactor]:
    """Route every log record of the process through redaction to stderr and ``events_file``.

    ``events_file`` (JSON lines, appended) is written when given and keeps at least the info
    events whatever ``level`` says; stderr shows ``level`` and up, human or ``json``. Yields the
    redactor so secrets learned later (a refreshed token) can be added; see also ``add_secret``.
    """
    console_stream: Any = stream if stream is not None else _CurrentStderr()
    redactor = Redactor(secrets)
    redacting = RedactingFilter(redactor)
    threshold = logging.getLevelName(level.upper())
    if not isinstance(threshold, int):
        raise ValueError(f"unknown log level {level!r}")
    tty = is_tty(console_stream)
    console = logging.StreamHandler(console_stream)
    console.setLevel(threshold)
    console.addFilter(redacting)
    if tty:  # the live progress display already shows what a progress event would say
        console.addFilter(_not_progress)
    if log_format == "json":
        console.setFormatter(JsonFormatter(redactor))
    else:
        console.addFilter(_not_fatal)
        console.setFormatter(HumanFormatter(redactor))
    handlers: list[logging.Handler] = [console]
    package_level = threshold
    if events_file is not None:
        events_file.parent.mkdir(parents=True, exist_ok=True)
        events = logging.FileHandler(events_file, encoding="utf-8")
        package_level = min(threshold, logging.INFO)
        events.setLevel(package_level)
        events.addFilter(redacting)
        events.setFormatter(JsonFormatter(redactor))
        handlers.append(events)
    root = logging.getLogger()
    package = logging.getLogger(PACKAGE_LOGGER)
    saved = (root.level, package.level)
    # Handlers sit on the root logger so library records (asyncio, aiohttp) are redacted too.
    root.setLevel(logging.WARNING)
    package.setLevel(package_level)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield redactor
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved[0])
        package.setLevel(saved[1])


def add_secret(value: str) -> None:
    """Redact ``value`` from now on in every handler that ``setup_logging`` installed."""
    for handler in logging.getLogger().handlers:
        for candidate in handler.filters:
            if isinstance(candidate, RedactingFilter):
                candidate.redactor.add(value)


def is_tty(stream: TextIO) -> bool:
    """Whether a stream is a terminal (a live display may redraw its line there)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
