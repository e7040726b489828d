"""Settings: every tunable with its default and hard limits, and where each value came from.

Precedence: command-line flags > ``WEBEX_BULK_*`` environment variables > TOML file > defaults.
Secrets never live here: ``Credentials`` come from environment variables or a token file only.
Bottom layer: reads files it is given, never the network or the clock.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from webex_bulk import setting_values as read
from webex_bulk.error_handling import ConfigError
from webex_bulk.setting_values import AUTO, MAX_CONCURRENCY, Auto, Spec

ENV_PREFIX = "WEBEX_BULK_"


@attrs.frozen
class Settings:
    """Every setting of a run with its default and limits; built once, never changed afterwards.

    Each field carries its reader (an attrs converter: text or a typed value in, the field's
    type out), so every value has its field's type however a ``Settings`` is built; the limits
    (``SPECS``) bind what a person gives (``load_settings``), not what code and tests build.
    """

    concurrency: int | Auto = attrs.field(
        default=AUTO,
        converter=read.concurrency,
        metadata=read.about("worker tasks per phase, or 'auto'", 1, MAX_CONCURRENCY),
    )
    rate: float | Auto = attrs.field(
        default=10.0,
        converter=read.rate,
        metadata=read.about("requests per second, or 'auto'", 0.1, 1000.0),
    )
    max_attempts: int = attrs.field(
        default=4,
        converter=read.whole,
        metadata=read.about("attempts per request (transient errors)", 1, 10),
    )
    backoff_base: float = attrs.field(
        default=1.0, converter=read.number, metadata=read.about("backoff base, seconds", 0.0, 60.0)
    )
    backoff_cap: float = attrs.field(
        default=60.0, converter=read.number, metadata=read.about("backoff cap, seconds", 0.0, 600.0)
    )
    retry_after_default: float = attrs.field(
        default=10.0,
        converter=read.number,
        metadata=read.about("pause for a bad Retry-After", 0.0, 600.0),
    )
    retry_after_cap: float = attrs.field(
        default=120.0,
        converter=read.number,
        metadata=read.about("longest Retry-After pause", 1.0, 3600.0),
    )
    request_max_time: float = attrs.field(
        default=600.0,
        converter=read.number,
        metadata=read.about(
            "seconds one request may take, retries and pauses included", 1.0, 86400.0
        ),
    )
    retry_budget: float = attrs.field(
        default=0.1,
        converter=read.number,
        metadata=read.about("retries per request, per minute", 0.0, 1.0),
    )
    connect_timeout: float = attrs.field(
        default=10.0, converter=read.number, metadata=read.about("seconds to connect", 0.1, 300.0)
    )
    read_timeout: float = attrs.field(
        default=60.0,
        converter=read.number,
        metadata=read.about("seconds to read an answer", 0.1, 600.0),
    )
    breaker_threshold: int = attrs.field(
        default=10, converter=read.whole, metadata=read.about("failures in a row to open", 1, 1000)
    )
    breaker_cooldown: float = attrs.field(
        default=30.0,
        converter=read.number,
        metadata=read.about("seconds open before a probe", 0.0, 3600.0),
    )
    breaker_cooldown_max: float = attrs.field(
        default=600.0,
        converter=read.number,
        metadata=read.about("cooldown cap, seconds", 0.0, 86400.0),
    )
    breaker_max_open: float = attrs.field(
        default=1800.0,
        converter=read.number,
        metadata=read.about("open this long → stop", 0.0, 86400.0),
    )
    breaker_probes: int = attrs.field(
        default=1, converter=read.whole, metadata=read.about("probes to close", 1, 10)
    )
    checkpoint_every: int = attrs.field(
        default=100,
        converter=read.whole,
        metadata=read.about("outcomes per checkpoint commit", 1, 100_000),
    )
    checkpoint_interval: float = attrs.field(
        default=2.0,
        converter=read.number,
        metadata=read.about("seconds between commits", 0.01, 3600.0),
    )
    keep_runs: int = attrs.field(
        default=10,
        converter=read.whole,
        metadata=read.about("passes a run directory keeps", 1, 1000),
    )
    shutdown_grace: float = attrs.field(
        default=30.0,
        converter=read.number,
        metadata=read.about("grace on a signal, seconds", 0.0, 3600.0),
    )
    consistency_attempts: int = attrs.field(
        default=3, converter=read.whole, metadata=read.about("lookups after unknown outcome", 0, 20)
    )
    consistency_wait: float = attrs.field(
        default=2.0,
        converter=read.number,
        metadata=read.about("seconds between those lookups", 0.0, 120.0),
    )
    move_poll_interval: float = attrs.field(
        default=2.0,
        converter=read.number,
        metadata=read.about("seconds between move job polls", 0.0, 300.0),
    )
    move_wait: float = attrs.field(
        default=900.0,
        converter=read.number,
        metadata=read.about("longest move job wait, seconds", 0.0, 86400.0),
    )
    numbers_batch_size: int = attrs.field(
        default=50, converter=read.whole, metadata=read.about("numbers per add request", 1, 500)
    )
    max_rows: int = attrs.field(
        default=1_000_000,
        converter=read.whole,
        metadata=read.about("rows a file may hold", 1, 10_000_000),
    )
    max_cell: int = attrs.field(
        default=1024,
        converter=read.whole,
        metadata=read.about("characters a cell may hold", 16, 1_000_000),
    )
    encoding: str = attrs.field(
        default="utf-8-sig", converter=read.text, metadata=read.about("input encoding")
    )
    delimiter: str | None = attrs.field(
        default=None,
        converter=read.optional_text,
        metadata=read.about("input delimiter (none: sniffed)", choices=(",", ";", "\t", "|")),
    )
    create_people: bool = attrs.field(
        default=True,
        converter=read.yes_no,
        metadata=read.about(
            "create people absent from the tenant (false: only the directory does)"
        ),
    )
    default_region: str = attrs.field(
        default="US", converter=read.upper, metadata=read.about("region of national numbers")
    )
    sheet: str | None = attrs.field(
        default=None,
        converter=read.optional_text,
        metadata=read.about("worksheet of an .xlsx input (none: the first)"),
    )
    base_url: str = attrs.field(
        default="https://webexapis.com/v1",
        converter=read.text,
        metadata=read.about("Webex API base URL"),
    )
    org_id: str | None = attrs.field(
        default=None, converter=read.optional_text, metadata=read.about("target organisation")
    )
    runs_root: str = attrs.field(
        default="runs",
        converter=read.text,
        metadata=read.about("folder that holds run directories"),
    )
    ca_bundle: str | None = attrs.field(
        default=None,
        converter=read.optional_text,
        metadata=read.about(
            "PEM file of extra CA certificates trusted for HTTPS (a corporate proxy)"
        ),
    )
    log_format: str = attrs.field(
        default="human",
        converter=read.text,
        metadata=read.about("stderr log format", choices=("human", "json")),
    )
    log_level: str = attrs.field(
        default="info",
        converter=read.lower,
        metadata=read.about("stderr log level", choices=("debug", "info", "warning", "error")),
    )
    progress_interval: float = attrs.field(
        default=30.0,
        converter=read.number,
        metadata=read.about("progress event interval", 0.1, 3600.0),
    )
    token_refresh_margin: float = attrs.field(
        default=300.0,
        converter=read.number,
        metadata=read.about("token refresh margin", 0.0, 86400.0),
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
    low, high, choices, doc = field.metadata[read.SPEC_KEY]
    convert = field.converter
    assert callable(convert)  # every field has its reader, a plain function
    return Spec(field.default, convert, low, high, choices, doc)


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
