"""How a setting's value is read and bounded: ``Spec`` (default, reader, limits, meaning), the
readers of whole numbers, numbers, text, yes/no and ``auto``. Used by ``config.Settings``.

Bottom layer: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

#: The key of a setting's ``Spec`` in its attrs field metadata.
SPEC_KEY = "webex_bulk.spec"


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


def about(
    doc: str, low: float | None = None, high: float | None = None, choices: tuple[str, ...] = ()
) -> dict[str, object]:
    """A field's metadata: its limits and what it means (its default and reader come from attrs)."""
    return {SPEC_KEY: (low, high, choices, doc)}


def whole(value: object) -> int:
    if isinstance(value, str):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("expected a whole number")
    return int(value)


def number(value: object) -> float:
    if isinstance(value, str):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def upper(value: object) -> str:
    return text(value).upper()


def lower(value: object) -> str:
    return text(value).lower()


def optional_text(value: object) -> str | None:
    """Text, where empty means "not set"."""
    return None if value is None else text(value) or None


#: How a yes/no setting may be written as text (a flag, a variable); TOML takes true/false.
YES_WORDS = frozenset({"true", "yes", "on", "1"})
NO_WORDS = frozenset({"false", "no", "off", "0"})


def yes_no(value: object) -> bool:
    """A yes/no setting: a TOML boolean, or text such as ``true``/``false``, ``yes``/``no``."""
    if isinstance(value, bool):
        return value
    word = text(value).strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise ValueError("expected true or false")


def is_auto(value: object) -> bool:
    return value is AUTO or (isinstance(value, str) and value.strip().lower() == AUTO.value)


def rate(value: object) -> float | Auto:
    """A request rate, or ``auto``."""
    return AUTO if is_auto(value) else number(value)


def concurrency(value: object) -> int | Auto:
    """A number of workers, or ``auto`` (not given: sized from the measured latency)."""
    return AUTO if is_auto(value) else whole(value)


#: The most worker tasks a phase runs, and the most requests in flight.
MAX_CONCURRENCY = 64
