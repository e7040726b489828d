"""Logging: JSON-lines ``events.log``, human or JSON lines on stderr, secret redaction, progress.

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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from webex_bulk.config import Settings

EVENTS_FILE = "events.log"
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

    def __init__(self, redactor: Redactor, *, clear_line: bool = False) -> None:
        super().__init__()
        self._redactor = redactor
        # On a terminal, wipe a live progress line first so the record does not run into it.
        self._prefix = "\r\x1b[K" if clear_line else ""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one human line; traceback details stay in ``events.log``."""
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        parts = [stamp, f"{record.levelname.lower():<7}", str(record.msg)]
        fields = getattr(record, "event_fields", {})
        parts += [f"{key}={_human(value)}" for key, value in fields.items()]
        if getattr(record, "exc_summary", None):
            parts.append(f"error={_human(record.__dict__['exc_summary'])}")
        return self._prefix + self._redactor.exact(" ".join(parts))


def _human(value: Any) -> str:
    if isinstance(value, str):
        plain = value and not any(c in value for c in ' ="\\')
        return value if plain else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def _not_progress(record: logging.LogRecord) -> bool:
    return record.msg != "progress"


@contextlib.contextmanager
def setup_logging(
    run_dir: Path | None,
    log_format: str,
    level: str,
    secrets: Iterable[str],
    *,
    stream: TextIO | None = None,
) -> Iterator[Redactor]:
    """Route every log record of the process through redaction to stderr and ``events.log``.

    ``events.log`` (JSON lines) is written when ``run_dir`` is given and keeps at least the info
    events whatever ``level`` says; stderr shows ``level`` and up, human or ``json``. Yields the
    redactor so secrets learned later (a refreshed token) can be added; see also ``add_secret``.
    """
    stream = stream if stream is not None else sys.stderr
    redactor = Redactor(secrets)
    redacting = RedactingFilter(redactor)
    threshold = logging.getLevelName(level.upper())
    if not isinstance(threshold, int):
        raise ValueError(f"unknown log level {level!r}")
    tty = _isatty(stream)
    console = logging.StreamHandler(stream)
    console.setLevel(threshold)
    console.addFilter(redacting)
    if tty:  # the live progress display already shows what a progress event would say
        console.addFilter(_not_progress)
    console.setFormatter(
        JsonFormatter(redactor)
        if log_format == "json"
        else HumanFormatter(redactor, clear_line=tty)
    )
    handlers: list[logging.Handler] = [console]
    package_level = threshold
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        events = logging.FileHandler(run_dir / EVENTS_FILE, encoding="utf-8")
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


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Progress


class Progress:
    """Where a run stands: a live line per phase on a terminal, a ``progress`` event elsewhere.

    On a TTY the line is redrawn at most every ``redraw_interval`` seconds; a ``progress`` event
    (the same figures) is logged every ``interval`` seconds in both cases (stderr hides it on a
    terminal; ``events.log`` keeps it). All terminal output goes to ``stream``.
    """

    def __init__(
        self,
        total_by_phase: Mapping[str, int] | None = None,
        stream: TextIO | None = None,
        is_tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        interval: float | None = None,
        settings: Settings | None = None,
        redraw_interval: float = 0.25,
        logger: logging.Logger | None = None,
    ) -> None:
        self._totals = dict(total_by_phase or {})
        self._stream = stream if stream is not None else sys.stderr
        self._tty = _isatty(self._stream) if is_tty is None else is_tty
        self._clock = clock
        default = settings.progress_interval if settings is not None else 30.0
        self._interval = interval if interval is not None else default
        self._redraw = redraw_interval
        self._log = logger or logging.getLogger("webex_bulk.progress")
        now = clock()
        self._phase = ""
        self._total = 0
        self._by_status: Counter[str] = Counter()
        self._requests = 0
        self._rate_limited = 0
        self._breaker = "closed"
        self._phase_started = now
        self._phase_requests = 0
        self._last_draw = -math.inf
        self._last_event = now
        self._line_open = False

    def start_phase(self, name: str, total: int | None = None) -> None:
        """A new phase begins; on a terminal the previous phase's last line stays visible."""
        now = self._clock()
        self._close_line(now)
        self._phase = name
        self._total = total if total is not None else self._totals.get(name, 0)
        self._by_status = Counter()
        self._phase_started = now
        self._phase_requests = self._requests
        self._last_draw = -math.inf
        self.tick(now)

    def row_done(self, status: str) -> None:
        """One row of the current phase reached a terminal state."""
        self._by_status[str(status)] += 1
        self.tick()

    def update_http(self, requests: int, rate_limited: int, breaker_state: str) -> None:
        """The connection client's counters (whole run) and the breaker's state."""
        self._requests = requests
        self._rate_limited = rate_limited
        self._breaker = str(breaker_state)

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """The current figures as event fields."""
        now = self._clock() if now is None else now
        elapsed = max(now - self._phase_started, 0.0)
        done = sum(self._by_status.values())
        rate = (self._requests - self._phase_requests) / elapsed if elapsed > 0 else 0.0
        eta = None
        if 0 < done < self._total and elapsed > 0:
            eta = round((self._total - done) * elapsed / done)
        return {
            "phase": self._phase,
            "done": done,
            "total": self._total,
            "success": self._by_status["success"],
            "rejected": self._by_status["rejected"],
            "pending": self._by_status["pending"],
            "requests_per_second": round(rate, 2),
            "rate_limited": self._rate_limited,
            "breaker": self._breaker,
            "eta_seconds": eta,
        }

    def render(self, now: float | None = None) -> str:
        """The one-line display of the current phase."""
        s = self.snapshot(now)
        share = f" {100 * s['done'] / s['total']:5.1f}%" if s["total"] else ""
        eta = _clock_text(s["eta_seconds"]) if s["eta_seconds"] is not None else "--:--:--"
        return (
            f"{s['phase'] or '-'} {s['done']}/{s['total']}{share} | success {s['success']} "
            f"rejected {s['rejected']} pending {s['pending']} | {s['requests_per_second']:.1f} "
            f"req/s | 429s {s['rate_limited']} | breaker {s['breaker']} | ETA {eta}"
        )

    def tick(self, now: float | None = None) -> None:
        """Redraw (terminal, throttled) and log a ``progress`` event when one is due."""
        now = self._clock() if now is None else now
        if self._tty and self._phase and now - self._last_draw >= self._redraw:
            self._draw(now)
        if now - self._last_event >= self._interval:
            self._last_event = now
            self._log.info("progress", extra={"event_fields": self.snapshot(now)})

    def finish(self) -> None:
        """End of the run: leave the last line on the terminal and log a final event."""
        now = self._clock()
        self._close_line(now)
        self._last_event = now
        self._log.info("progress", extra={"event_fields": self.snapshot(now)})

    def _draw(self, now: float) -> None:
        self._stream.write("\r\x1b[K" + self.render(now))
        self._stream.flush()
        self._last_draw = now
        self._line_open = True

    def _close_line(self, now: float) -> None:
        if self._tty and self._line_open:
            self._draw(now)
            self._stream.write("\n")
            self._stream.flush()
            self._line_open = False


def _clock_text(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
