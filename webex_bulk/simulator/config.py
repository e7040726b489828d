"""Every knob of the simulator in one frozen record, and the JSON profile files that fill it.

Precedence where several sources meet: command-line flags > profile file > defaults. The same
field names are used by the profile file, the command-line flags and ``POST /_sim/config``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

#: Endpoint families that latency can be set for; ``default`` covers families not named.
FAMILIES = (
    "default",
    "identity",
    "licenses",
    "people",
    "locations",
    "numbers",
    "schedules",
    "features",
    "workspaces",
    "devices",
)
RETRY_AFTER_STYLES = ("int", "missing", "malformed", "http-date")
#: ``NONE`` is a location without a PSTN connection (its connection read answers 404).
PSTN_TYPES = (
    "LOCAL_GATEWAY",
    "NON_INTEGRATED_CCP",
    "INTEGRATED_CCP",
    "CISCO_CALLING_PLAN",
    "NONE",
)
METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE")


class ConfigError(ValueError):
    """A knob value, a profile file or a partial update that cannot be used."""


@attrs.frozen
class Latency:
    """A lognormal response delay given by its median and 99th percentile, in seconds."""

    median: float = 0.0
    p99: float = 0.0

    @property
    def sigma(self) -> float:
        """The lognormal shape parameter that puts the 99th percentile at ``p99``."""
        if self.median <= 0 or self.p99 <= self.median:
            return 0.0
        return (math.log(self.p99) - math.log(self.median)) / 2.3263478740408408


def _non_negative(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ConfigError(f"{attribute.name} must be >= 0, got {value}")


def _probability(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{attribute.name} must be within 0..1, got {value}")


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in choices:
            raise ConfigError(
                f"{attribute.name} must be one of {', '.join(choices)}, got {value!r}"
            )

    return check


def _to_latency_map(value: Any) -> Mapping[str, Latency]:
    """``{"people": {"median": 0.1, "p99": 0.5}}`` or ``{"people": [0.1, 0.5]}`` → Latency map."""
    if not isinstance(value, Mapping):
        raise ConfigError("latency must be an object of family → {median, p99}")
    result: dict[str, Latency] = {}
    for family, spec in value.items():
        if family not in FAMILIES:
            raise ConfigError(f"unknown latency family {family!r}; known: {', '.join(FAMILIES)}")
        result[family] = _to_latency(family, spec)
    return result


def _to_latency(family: str, spec: Any) -> Latency:
    if isinstance(spec, Latency):
        return spec
    try:
        if isinstance(spec, Mapping):
            median = float(spec.get("median", 0.0))
            latency = Latency(median, float(spec.get("p99", median)))
        elif isinstance(spec, list | tuple):
            latency = Latency(float(spec[0]), float(spec[-1]))
        else:
            latency = Latency(float(spec), float(spec))
    except (TypeError, ValueError, IndexError) as error:
        raise ConfigError(f"latency of {family!r} must be {{median, p99}} seconds") from error
    if latency.median < 0 or latency.p99 < 0:
        raise ConfigError(f"latency of {family!r} must be >= 0")
    return latency


def _to_method_map(value: Any) -> Mapping[str, float]:
    """``{"POST": 0.1, "*": 0.01}`` → probabilities by upper-case method."""
    if not isinstance(value, Mapping):
        raise ConfigError("error_probability must be an object of method → probability")
    result: dict[str, float] = {}
    for method, probability in value.items():
        name = str(method).upper()
        if name not in METHODS:
            raise ConfigError(f"unknown method {method!r} in error_probability")
        number = _to_float(probability, "error_probability")
        if not 0.0 <= number <= 1.0:
            raise ConfigError(f"error_probability of {name} must be within 0..1")
        result[name] = number
    return result


def _to_float(value: Any, name: str = "value") -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a number, got {value!r}") from error


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"expected an integer, got {value!r}") from error


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on", "false", "0", "no"}:
        return value.lower() in {"true", "1", "yes", "on"}
    raise ConfigError(f"expected true or false, got {value!r}")


def _to_statuses(value: Any) -> tuple[int, ...]:
    statuses = tuple(_to_int(item) for item in value)
    if not statuses or any(not 500 <= status <= 599 for status in statuses):
        raise ConfigError("error_statuses must be a non-empty list of 5xx codes")
    return statuses


def _to_strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(item for item in value.split(",") if item)
    if not isinstance(value, list | tuple):
        raise ConfigError(f"expected a list of strings, got {value!r}")
    return tuple(str(item) for item in value)


def _to_optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


@attrs.frozen(kw_only=True)
class SimConfig:
    """All simulator knobs. Probabilities are 0..1, durations seconds; 0 turns a knob off."""

    seed: int = attrs.field(default=0, converter=_to_int)
    # Authentication.
    token: str = attrs.field(default="sim-token", converter=str)
    token_ttl: float = attrs.field(default=0.0, converter=_to_float, validator=_non_negative)
    client_id: str = attrs.field(default="sim-client-id", converter=str)
    client_secret: str = attrs.field(default="sim-client-secret", converter=str)
    refresh_token: str = attrs.field(default="sim-refresh-token", converter=str)
    rotate_refresh_token: bool = attrs.field(default=False, converter=_to_bool)
    refresh_returns_same_token: bool = attrs.field(default=False, converter=_to_bool)
    missing_scopes: tuple[str, ...] = attrs.field(default=(), converter=_to_strings)
    # The starting tenant and defaults for new objects.
    tenant_file: str | None = attrs.field(default=None, converter=_to_optional_str)
    new_location_pstn: str = attrs.field(
        default="LOCAL_GATEWAY", converter=str, validator=_one_of(PSTN_TYPES)
    )
    # Load: latency and the per-token rate limit.
    latency: Mapping[str, Latency] = attrs.field(factory=dict, converter=_to_latency_map)
    rate_limit: float = attrs.field(default=0.0, converter=_to_float, validator=_non_negative)
    rate_burst: int = attrs.field(default=0, converter=_to_int, validator=_non_negative)
    retry_after_style: str = attrs.field(
        default="int", converter=str, validator=_one_of(RETRY_AFTER_STYLES)
    )
    retry_after: float = attrs.field(default=1.0, converter=_to_float, validator=_non_negative)
    rate_limit_penalty: float = attrs.field(
        default=0.0, converter=_to_float, validator=_non_negative
    )
    # Faults.
    locked_probability: float = attrs.field(
        default=0.0, converter=_to_float, validator=_probability
    )
    error_probability: Mapping[str, float] = attrs.field(factory=dict, converter=_to_method_map)
    error_statuses: tuple[int, ...] = attrs.field(
        default=(500, 502, 503, 504), converter=_to_statuses
    )
    error_after_commit_probability: float = attrs.field(
        default=0.0, converter=_to_float, validator=_probability
    )
    drop_before_probability: float = attrs.field(
        default=0.0, converter=_to_float, validator=_probability
    )
    drop_after_probability: float = attrs.field(
        default=0.0, converter=_to_float, validator=_probability
    )
    stall_probability: float = attrs.field(default=0.0, converter=_to_float, validator=_probability)
    stall_seconds: float = attrs.field(default=30.0, converter=_to_float, validator=_non_negative)
    created_400_probability: float = attrs.field(
        default=0.0, converter=_to_float, validator=_probability
    )
    consistency_lag: float = attrs.field(default=0.0, converter=_to_float, validator=_non_negative)
    outage: bool = attrs.field(default=False, converter=_to_bool)
    next_link_drops_filters: bool = attrs.field(default=False, converter=_to_bool)
    sip_address_lag: float = attrs.field(default=0.0, converter=_to_float, validator=_non_negative)
    # Rules that changed or that tests switch.
    number_add_conflict: bool = attrs.field(default=False, converter=_to_bool)
    refuse_workspace_calling_with_devices: bool = attrs.field(default=True, converter=_to_bool)
    move_job_seconds: float = attrs.field(default=1.0, converter=_to_float, validator=_non_negative)
    activation_code_ttl: float = attrs.field(
        default=604_800.0, converter=_to_float, validator=_non_negative
    )
    # Bookkeeping.
    recent_requests: int = attrs.field(default=10_000, converter=_to_int, validator=_non_negative)

    @property
    def burst(self) -> int:
        """The token-bucket capacity: ``rate_burst``, or the rate rounded up when that is 0."""
        return self.rate_burst or max(1, math.ceil(self.rate_limit))

    def latency_of(self, family: str) -> Latency:
        """The latency of an endpoint family, falling back to the ``default`` entry."""
        return self.latency.get(family) or self.latency.get("default") or _NO_LATENCY

    def error_probability_of(self, method: str) -> float:
        """The injected-5xx probability of a method, falling back to the ``*`` entry."""
        return self.error_probability.get(method, self.error_probability.get("*", 0.0))

    def merged(self, changes: Mapping[str, Any]) -> SimConfig:
        """A copy with ``changes`` applied; the nested maps (latency, error_probability) merge."""
        unknown = sorted(set(changes) - _FIELD_NAMES)
        if unknown:
            raise ConfigError(f"unknown simulator setting(s): {', '.join(unknown)}")
        values = dict(changes)
        if isinstance(values.get("latency"), Mapping):
            values["latency"] = {**self.latency, **_to_latency_map(values["latency"])}
        if isinstance(values.get("error_probability"), Mapping):
            merged = {**self.error_probability, **_to_method_map(values["error_probability"])}
            values["error_probability"] = merged
        try:
            return attrs.evolve(self, **values)
        except (TypeError, ValueError) as error:
            raise ConfigError(str(error)) from error

    def to_json(self) -> dict[str, Any]:
        """The knobs as plain JSON values, in the shape ``merged`` and profile files accept."""
        data = attrs.asdict(self, recurse=True)
        data["latency"] = {name: attrs.asdict(value) for name, value in self.latency.items()}
        data["error_probability"] = dict(self.error_probability)
        data["error_statuses"] = list(self.error_statuses)
        data["missing_scopes"] = list(self.missing_scopes)
        return data


_NO_LATENCY = Latency()
_FIELD_NAMES = frozenset(field.name for field in attrs.fields(SimConfig))


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read a JSON profile file: an object whose keys are ``SimConfig`` field names."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read profile {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise ConfigError(f"profile {path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path} must hold a JSON object")
    SimConfig().merged(data)  # validate now, so a bad file fails before the server starts
    return data
