"""Settings: every tunable with its default and hard limits, and where each value came from.

Precedence: command-line flags > ``WEBEX_BULK_*`` environment variables > TOML file > defaults.
Secrets never live here: ``Credentials`` come from environment variables or a token file only.
Bottom layer: reads files it is given, never the network or the clock.
"""

from __future__ import annotations

import difflib
import enum
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from webex_bulk.error_handling import ConfigError

ENV_PREFIX = "WEBEX_BULK_"
#: The key of a setting's ``Spec`` in its attrs field metadata.
_SPEC = "webex_bulk.spec"


class Auto(enum.Enum):
    """``auto``: the rate probes upward instead of holding a fixed one; the concurrency follows
    the measured latency instead of a fixed number of workers."""

    AUTO = "auto"


AUTO = Auto.AUTO


@attrs.frozen
class Spec:
    """How one setting is read (from text, or a typed TOML/flag value), bounded and described."""

    default: object
    read: Callable[[object], object]
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def check(self, value: object) -> object:
        """The value as the setting's type, in its limits; ValueError says what is wrong."""
        try:
            parsed = self.read(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot read {value!r}: {exc}") from None
        self.check_limits(parsed)
        return parsed

    def check_limits(self, parsed: object) -> None:
        """ValueError when a read value is not one of the choices, or outside the limits."""
        if self.choices and isinstance(parsed, str) and parsed not in self.choices:
            raise ValueError(f"{parsed!r} is not one of {list(self.choices)}")
        low, high = self.low, self.high
        if not isinstance(parsed, int | float) or low is None or high is None:
            return
        if not low <= parsed <= high:
            raise ValueError(f"{parsed!r} is outside {low:g}…{high:g}")


def _about(
    doc: str, low: float | None = None, high: float | None = None, choices: tuple[str, ...] = ()
) -> dict[str, object]:
    """A field's metadata: its limits and what it means (its default and reader come from attrs)."""
    return {_SPEC: (low, high, choices, doc)}


def _whole(value: object) -> int:
    if isinstance(value, str):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("expected a whole number")
    return int(value)


def _number(value: object) -> float:
    if isinstance(value, str):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _upper(value: object) -> str:
    return _text(value).upper()


def _lower(value: object) -> str:
    return _text(value).lower()


def _optional_text(value: object) -> str | None:
    """Text, where empty means "not set"."""
    return None if value is None else _text(value) or None


#: How a yes/no setting may be written as text (a flag, a variable); TOML takes true/false.
_YES = frozenset({"true", "yes", "on", "1"})
_NO = frozenset({"false", "no", "off", "0"})


def _yes_no(value: object) -> bool:
    """A yes/no setting: a TOML boolean, or text such as ``true``/``false``, ``yes``/``no``."""
    if isinstance(value, bool):
        return value
    word = _text(value).strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError("expected true or false")


def _is_auto(value: object) -> bool:
    return value is AUTO or (isinstance(value, str) and value.strip().lower() == AUTO.value)


def _rate(value: object) -> float | Auto:
    """A request rate, or ``auto``."""
    return AUTO if _is_auto(value) else _number(value)


def _concurrency(value: object) -> int | Auto:
    """A number of workers, or ``auto`` (not given: sized from the measured latency)."""
    return AUTO if _is_auto(value) else _whole(value)


#: The most worker tasks a phase runs, and the most requests in flight.
MAX_CONCURRENCY = 64


@attrs.frozen
class Settings:
    """Every setting of a run with its default and limits; built once, never changed afterwards.

    Each field carries its reader (an attrs converter: text or a typed value in, the field's
    type out), so every value has its field's type however a ``Settings`` is built; the limits
    (``SPECS``) bind what a person gives (``load_settings``), not what code and tests build.
    """

    concurrency: int | Auto = attrs.field(
        default=AUTO,
        converter=_concurrency,
        metadata=_about("worker tasks per phase, or 'auto'", 1, MAX_CONCURRENCY),
    )
    rate: float | Auto = attrs.field(
        default=10.0,
        converter=_rate,
        metadata=_about("requests per second, or 'auto'", 0.1, 1000.0),
    )
    max_attempts: int = attrs.field(
        default=4,
        converter=_whole,
        metadata=_about("attempts per request (transient errors)", 1, 10),
    )
    backoff_base: float = attrs.field(
        default=1.0, converter=_number, metadata=_about("backoff base, seconds", 0.0, 60.0)
    )
    backoff_cap: float = attrs.field(
        default=60.0, converter=_number, metadata=_about("backoff cap, seconds", 0.0, 600.0)
    )
    retry_after_default: float = attrs.field(
        default=10.0, converter=_number, metadata=_about("pause for a bad Retry-After", 0.0, 600.0)
    )
    retry_after_cap: float = attrs.field(
        default=120.0, converter=_number, metadata=_about("longest Retry-After pause", 1.0, 3600.0)
    )
    request_max_time: float = attrs.field(
        default=600.0,
        converter=_number,
        metadata=_about("seconds one request may take, retries and pauses included", 1.0, 86400.0),
    )
    retry_budget: float = attrs.field(
        default=0.1, converter=_number, metadata=_about("retries per request, per minute", 0.0, 1.0)
    )
    connect_timeout: float = attrs.field(
        default=10.0, converter=_number, metadata=_about("seconds to connect", 0.1, 300.0)
    )
    read_timeout: float = attrs.field(
        default=60.0, converter=_number, metadata=_about("seconds to read an answer", 0.1, 600.0)
    )
    breaker_threshold: int = attrs.field(
        default=10, converter=_whole, metadata=_about("failures in a row to open", 1, 1000)
    )
    breaker_cooldown: float = attrs.field(
        default=30.0, converter=_number, metadata=_about("seconds open before a probe", 0.0, 3600.0)
    )
    breaker_cooldown_max: float = attrs.field(
        default=600.0, converter=_number, metadata=_about("cooldown cap, seconds", 0.0, 86400.0)
    )
    breaker_max_open: float = attrs.field(
        default=1800.0, converter=_number, metadata=_about("open this long → stop", 0.0, 86400.0)
    )
    breaker_probes: int = attrs.field(
        default=1, converter=_whole, metadata=_about("probes to close", 1, 10)
    )
    checkpoint_every: int = attrs.field(
        default=100, converter=_whole, metadata=_about("outcomes per checkpoint commit", 1, 100_000)
    )
    checkpoint_interval: float = attrs.field(
        default=2.0, converter=_number, metadata=_about("seconds between commits", 0.01, 3600.0)
    )
    keep_runs: int = attrs.field(
        default=10, converter=_whole, metadata=_about("passes a run directory keeps", 1, 1000)
    )
    shutdown_grace: float = attrs.field(
        default=30.0, converter=_number, metadata=_about("grace on a signal, seconds", 0.0, 3600.0)
    )
    consistency_attempts: int = attrs.field(
        default=3, converter=_whole, metadata=_about("lookups after unknown outcome", 0, 20)
    )
    consistency_wait: float = attrs.field(
        default=2.0, converter=_number, metadata=_about("seconds between those lookups", 0.0, 120.0)
    )
    move_poll_interval: float = attrs.field(
        default=2.0,
        converter=_number,
        metadata=_about("seconds between move job polls", 0.0, 300.0),
    )
    move_wait: float = attrs.field(
        default=900.0,
        converter=_number,
        metadata=_about("longest move job wait, seconds", 0.0, 86400.0),
    )
    numbers_batch_size: int = attrs.field(
        default=50, converter=_whole, metadata=_about("numbers per add request", 1, 500)
    )
    max_rows: int = attrs.field(
        default=1_000_000, converter=_whole, metadata=_about("rows a file may hold", 1, 10_000_000)
    )
    max_cell: int = attrs.field(
        default=1024, converter=_whole, metadata=_about("characters a cell may hold", 16, 1_000_000)
    )
    encoding: str = attrs.field(
        default="utf-8-sig", converter=_text, metadata=_about("input encoding")
    )
    delimiter: str | None = attrs.field(
        default=None,
        converter=_optional_text,
        metadata=_about("input delimiter (none: sniffed)", choices=(",", ";", "\t", "|")),
    )
    create_people: bool = attrs.field(
        default=True,
        converter=_yes_no,
        metadata=_about("create people absent from the tenant (false: only the directory does)"),
    )
    default_region: str = attrs.field(
        default="US", converter=_upper, metadata=_about("region of national numbers")
    )
    sheet: str | None = attrs.field(
        default=None,
        converter=_optional_text,
        metadata=_about("worksheet of an .xlsx input (none: the first)"),
    )
    base_url: str = attrs.field(
        default="https://webexapis.com/v1", converter=_text, metadata=_about("Webex API base URL")
    )
    org_id: str | None = attrs.field(
        default=None, converter=_optional_text, metadata=_about("target organisation")
    )
    runs_root: str = attrs.field(
        default="runs", converter=_text, metadata=_about("folder that holds run directories")
    )
    ca_bundle: str | None = attrs.field(
        default=None,
        converter=_optional_text,
        metadata=_about("PEM file of extra CA certificates trusted for HTTPS (a corporate proxy)"),
    )
    log_format: str = attrs.field(
        default="human",
        converter=_text,
        metadata=_about("stderr log format", choices=("human", "json")),
    )
    log_level: str = attrs.field(
        default="info",
        converter=_lower,
        metadata=_about("stderr log level", choices=("debug", "info", "warning", "error")),
    )
    progress_interval: float = attrs.field(
        default=30.0, converter=_number, metadata=_about("progress event interval", 0.1, 3600.0)
    )
    token_refresh_margin: float = attrs.field(
        default=300.0, converter=_number, metadata=_about("token refresh margin", 0.0, 86400.0)
    )

    @property
    def workers(self) -> int:
        """Worker tasks per phase: the pinned ``concurrency``, else the most the in-flight
        limit may grow to (requests in flight then follow the latency, not the workers)."""
        return self.concurrency if isinstance(self.concurrency, int) else MAX_CONCURRENCY

    @property
    def concurrency_pinned(self) -> bool:
        """Whether ``concurrency`` was given (else it is sized from the measured latency)."""
        return isinstance(self.concurrency, int)

    @property
    def rate_auto(self) -> bool:
        """Whether the rate probes upward (``--rate auto``)."""
        return self.rate is AUTO

    def fingerprint(self) -> dict[str, Any]:
        """The settings that decide which tenant a run talks to; a resume must match them."""
        return {"base_url": self.base_url.rstrip("/"), "org_id": self.org_id}


def _spec(field: attrs.Attribute[object]) -> Spec:
    low, high, choices, doc = field.metadata[_SPEC]
    read = field.converter
    assert callable(read)  # every field has its reader, a plain function
    return Spec(field.default, read, low, high, choices, doc)


#: Every setting's spec, by key, in the order of ``Settings``.
SPECS: Mapping[str, Spec] = {field.name: _spec(field) for field in attrs.fields(Settings)}


def _check(key: str, value: object, source: str) -> object:
    spec = SPECS.get(key)
    if spec is None:
        raise ConfigError(key, source, f"unknown setting; known settings: {', '.join(SPECS)}")
    try:
        return spec.check(value)
    except ValueError as exc:
        raise ConfigError(key, source, str(exc)) from None


def read_config_file(path: Path) -> dict[str, object]:
    """Read a TOML settings file: top-level keys, or keys under a ``[webex_bulk]`` table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("--config", str(path), f"cannot read the file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", str(path), f"not valid TOML: {exc}") from None
    table = data.get("webex_bulk", data)
    if not isinstance(table, dict):
        raise ConfigError("webex_bulk", str(path), "expected a table of settings")
    return table


def load_settings(
    flags: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the settings: flags > ``WEBEX_BULK_*`` env vars > TOML file > defaults.

    ``flags`` holds only the flags the user actually gave (None values are ignored). A
    ``WEBEX_BULK_*`` variable that is no setting is left out here; ``env_warnings`` names it.
    """
    values: dict[str, object] = {}
    if config_file is not None:
        for key, value in read_config_file(config_file).items():
            values[key] = _check(key, value, f"config file {config_file}")
    for name, value in (env if env is not None else os.environ).items():
        setting = _setting_key(name)
        if setting is not None and setting in SPECS:
            values[setting] = _check(setting, value, f"environment variable {name}")
    for key, value in (flags or {}).items():
        if value is not None:
            values[key] = _check(key, value, f"flag --{key.replace('_', '-')}")
    return Settings(**values)


#: Variables that hold credentials (read by ``webex_bulk.credentials``), never settings.
SECRET_ENV_VARS = frozenset(
    {
        "WEBEX_TOKEN",
        "WEBEX_BULK_TOKEN",
        "WEBEX_BULK_REFRESH_TOKEN",
        "WEBEX_BULK_CLIENT_ID",
        "WEBEX_BULK_CLIENT_SECRET",
        "WEBEX_BULK_TOKEN_FILE",
    }
)
#: Other ``WEBEX_BULK_*`` variables that are not settings (read elsewhere).
NON_SETTING_ENV_KEYS = frozenset({"config"})

# Kubernetes injects these for a Service named ``webex-bulk`` (service links): never settings.
_SERVICE_LINK = re.compile(
    r"WEBEX_BULK_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)"
)


def _setting_key(name: str) -> str | None:
    """The setting a variable names, or None for a variable that is not a candidate setting."""
    if not name.startswith(ENV_PREFIX) or name in SECRET_ENV_VARS or _SERVICE_LINK.fullmatch(name):
        return None
    key = name[len(ENV_PREFIX) :].lower()
    return None if key in NON_SETTING_ENV_KEYS else key


def env_warnings(env: Mapping[str, str]) -> list[str]:
    """One line per ``WEBEX_BULK_*`` variable that is no setting, naming the closest known one."""
    notes = []
    for name in sorted(env):
        key = _setting_key(name)
        if key is None or key in SPECS:
            continue
        close = difflib.get_close_matches(key, list(SPECS), n=1)
        hint = f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""
        notes.append(f"environment variable {name} is not a setting and is ignored{hint}")
    return notes
