"""Cell normalisers: one pure, idempotent function per kind of value (names, e-mail, E.164…).
A bad value raises ``CellError`` carrying its reason code; the caller names the column.
Bottom layer: no I/O, no clock.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable

import attrs
import phonenumbers
import pycountry

from webex_bulk.error_handling import Reason, WebexBulkError


class CellError(WebexBulkError, ValueError):
    """One cell holds a value that cannot be normalised; ``reason`` is the row's reason code."""

    def __init__(self, reason: Reason, problem: str) -> None:
        super().__init__(reason, problem)
        self.reason = reason
        self.problem = problem

    def __str__(self) -> str:
        return self.problem


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def name(text: str) -> str:
    """A name or free text: Unicode NFC, whitespace runs collapsed to one space, trimmed."""
    if text.isascii() and text.isprintable() and "  " not in text and text.strip(" ") == text:
        return text  # the common case, already normal: printable ASCII has no other space
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    collapsed = " ".join(text.split())
    if _CONTROL.search(collapsed):
        raise CellError(Reason.INVALID_VALUE, f"{text!r} holds a control character; remove it")
    return collapsed


def location_name(text: str) -> str:
    """A location's own name: a name of at most 80 characters (Webex Calling's limit)."""
    value = name(text)
    if len(value) > 80:
        raise CellError(
            Reason.INVALID_VALUE, f"{value[:20]!r}… has {len(value)} characters; at most 80"
        )
    return value


_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def email(text: str) -> str:
    """An e-mail address, lower-cased and syntax-checked (ASCII ``local@domain.tld``)."""
    value = text.strip().lower()
    local = value.partition("@")[0]
    if len(value) > 254 or len(local) > 64 or not _EMAIL.fullmatch(value):
        raise CellError(
            Reason.INVALID_EMAIL, f"{text!r} is not a valid e-mail address (name@domain.tld)"
        )
    return value


@functools.cache
def example_number(region: str) -> str:
    """An example E.164 number of a region, for messages (``+14085550100`` when it has none)."""
    found = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    if found is None:
        return "+14085550100"
    return str(phonenumbers.format_number(found, phonenumbers.PhoneNumberFormat.E164))


@functools.lru_cache(maxsize=8192)
def e164(text: str, region: str) -> str:
    """A phone number in E.164 (``+14085550100``); national formats are read in ``region``.

    Cached: a file names most numbers twice (the number row and its owner's row), and parsing
    is a fifth of the cost of reading a row.
    """
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise _invalid(text, region) from None
    if parsed.extension:
        raise CellError(
            Reason.INVALID_PHONE_NUMBER,
            f"{text!r} has an extension part; put the extension in the extension column",
        )
    if not phonenumbers.is_valid_number(parsed):
        raise _invalid(text, region)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _invalid(text: str, region: str) -> CellError:
    national = not text.strip().startswith("+")
    example = example_number(region) if national else "+14085550100"
    read_in = f" (read as a number of {region}: it has no +country code)" if national else ""
    problem = f"{text!r} is not a valid phone number{read_in}; write it as E.164, e.g. {example}"
    return CellError(Reason.INVALID_PHONE_NUMBER, problem)


_EXTENSION = re.compile(r"[0-9]{2,10}")


def extension(text: str) -> str:
    """An extension: ASCII digits only, 2 to 10 of them (leading zeros kept)."""
    value = text.strip()
    if not _EXTENSION.fullmatch(value):
        raise CellError(Reason.INVALID_EXTENSION, f"{text!r} is not an extension (2–10 digits)")
    return value


_MAC_SEPARATORS = re.compile(r"[\s:.\-]")
_MAC = re.compile(r"[0-9A-F]{12}")


def mac(text: str) -> str:
    """A MAC address: separators removed, upper case, exactly 12 hex digits."""
    value = _MAC_SEPARATORS.sub("", text).upper()
    if not _MAC.fullmatch(value):
        raise CellError(
            Reason.INVALID_MAC, f"{text!r} is not a MAC address (12 hex digits, e.g. 00A1B2C3D4E5)"
        )
    return value


@functools.cache
def _time_zones() -> dict[str, str]:
    return {zone.casefold(): zone for zone in zoneinfo.available_timezones()}


_ZONE_SHAPE = re.compile(r"UTC|[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+")


def time_zone(text: str) -> str:
    """An IANA time zone, in its canonical spelling (``america/new_york`` → ``America/New_York``).

    When the system holds no time-zone database, only the ``Area/City`` shape is checked.
    """
    value = text.strip()
    zones = _time_zones()
    found = zones.get(value.casefold()) if zones else value
    if found is None or not _ZONE_SHAPE.fullmatch(found):
        raise CellError(
            Reason.INVALID_TIME_ZONE, f"{text!r} is not an IANA time zone, e.g. America/New_York"
        )
    return found


@functools.cache
def _countries() -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in pycountry.countries:
        found[entry.alpha_2] = entry.alpha_2
        found[entry.alpha_3] = entry.alpha_2
    return found


def country(text: str) -> str:
    """An ISO 3166 country as upper-case alpha-2 (alpha-3 codes are converted: GBR → GB)."""
    value = text.strip().upper()
    found = _countries().get(value)
    if found is None:
        hint = " (the United Kingdom is GB)" if value == "UK" else ""
        raise CellError(
            Reason.INVALID_VALUE, f"{text!r} is not an ISO 3166 country code{hint}, e.g. US"
        )
    return found


@functools.cache
def _languages() -> frozenset[str]:
    codes = set()
    for entry in pycountry.languages:
        codes.add(entry.alpha_3)
        alpha_2 = getattr(entry, "alpha_2", None)
        if alpha_2:
            codes.add(alpha_2)
    return frozenset(codes)


_LANGUAGE = re.compile(r"([a-z]{2,3})(?:_([a-z]{2}))?")


def language(text: str) -> str:
    """A language tag in Webex form: ``es-ES`` → ``es_es``; language and region are checked."""
    value = text.strip().lower().replace("-", "_")
    match = _LANGUAGE.fullmatch(value)
    if (
        match is None
        or match[1] not in _languages()
        or (match[2] and match[2].upper() not in _countries())
    ):
        raise CellError(Reason.INVALID_VALUE, f"{text!r} is not a language tag, e.g. en_us")
    return value


_TRUE = frozenset({"yes", "true", "1", "y"})
_FALSE = frozenset({"no", "false", "0", "n"})


def boolean(text: str) -> str:
    """A yes/no value (yes/no/true/false/1/0, any case) as ``true`` or ``false``."""
    value = text.strip().lower()
    if value in _TRUE:
        return "true"
    if value in _FALSE:
        return "false"
    raise CellError(Reason.INVALID_VALUE, f"{text!r} is not yes/no, true/false or 1/0")


def choice(text: str, choices: Iterable[str]) -> str:
    """One value of an enumeration, case-insensitive, lower-cased."""
    value = text.strip().lower()
    options = tuple(choices)
    if value not in options:
        raise CellError(Reason.INVALID_VALUE, f"{text!r} is not one of {', '.join(options)}")
    return value


def queue_size(text: str) -> str:
    """A call queue size: a whole number from 1 to 1000, without leading zeros."""
    value = text.strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 1000:
        raise CellError(Reason.INVALID_VALUE, f"{text!r} is not a queue size (1 to 1000)")
    return str(int(value))


def owner(text: str) -> str:
    """A user e-mail (contains ``@``) or a workspace display name."""
    return email(text) if "@" in text else name(text)


def members(text: str) -> tuple[str, ...]:
    """A ``;``-separated member list, each normalised as an owner; empties and repeats dropped."""
    found: dict[str, None] = {}
    for part in text.split(";"):
        if part.strip():
            found.setdefault(owner(part), None)
    return tuple(found)


# -- business hours ---------------------------------------------------------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_AROUND_SEPARATORS = re.compile(r"\s*([,\-])\s*")
_HOURS_EXAMPLE = "e.g. mon-fri 08:00-18:00; sat 09:00-13:00"


@attrs.frozen(order=True)
class DayHours:
    """One opening span of one weekday: ``day`` is ``mon``…``sun``, times are ``HH:MM``."""

    day: str
    start: str
    end: str


def _hours_error(text: str, why: str) -> CellError:
    return CellError(Reason.INVALID_VALUE, f"hours {text!r}: {why} ({_HOURS_EXAMPLE})")


def _day_index(token: str, text: str) -> int:
    if token in DAYS:
        return DAYS.index(token)
    if token in _FULL_DAYS:
        return _FULL_DAYS.index(token)
    raise _hours_error(text, f"{token!r} is not a day")


def _days(token: str, text: str) -> list[int]:
    found: list[int] = []
    for piece in token.split(","):
        first, dash, last = piece.partition("-")
        low = _day_index(first, text)
        high = _day_index(last, text) if dash else low
        if high < low:
            raise _hours_error(text, f"{piece!r} runs backwards; write the days in week order")
        found.extend(range(low, high + 1))
    return found


def _minutes(token: str, text: str) -> int:
    match = _TIME.fullmatch(token)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise _hours_error(text, f"{token!r} is not a time HH:MM from 00:00 to 23:59")
    return int(match[1]) * 60 + int(match[2])


def _spans(token: str, text: str) -> list[tuple[int, int]]:
    found = []
    for piece in token.split(","):
        start, dash, end = piece.partition("-")
        if not dash:
            raise _hours_error(text, f"{piece!r} is not a span HH:MM-HH:MM")
        low, high = _minutes(start, text), _minutes(end, text)
        if high <= low:
            raise _hours_error(text, f"{piece!r} ends before it starts")
        found.append((low, high))
    return found


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low < merged[-1][1]:
            raise _hours_error(text, "two spans of one day overlap")
        if merged and low == merged[-1][1]:
            merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(text: str) -> tuple[DayHours, ...]:
    """Parse weekly hours (``mon-fri 08:00-18:00; sat 09:00-13:00``) into sorted day spans.

    Days are ``mon``…``sun`` (full names too), ranges and lists with ``-`` and ``,``; times are
    24-hour ``HH:MM``. Touching spans of one day merge; overlapping ones raise ``CellError``.
    """
    by_day: dict[int, list[tuple[int, int]]] = {}
    for part in text.lower().split(";"):
        tokens = _AROUND_SEPARATORS.sub(r"\1", " ".join(part.split())).split(" ")
        if tokens == [""]:
            continue
        if len(tokens) != 2:
            raise _hours_error(text, f"{part.strip()!r} is not 'days HH:MM-HH:MM'")
        spans = _spans(tokens[1], text)
        for day in _days(tokens[0], text):
            by_day.setdefault(day, []).extend(spans)
    if not by_day:
        raise _hours_error(text, "no opening hours")
    return tuple(
        DayHours(DAYS[day], _clock(low), _clock(high))
        for day in sorted(by_day)
        for low, high in _merge(by_day[day], text)
    )


def _day_runs(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        DAYS[run[0]] if len(run) == 1 else f"{DAYS[run[0]]}-{DAYS[run[-1]]}" for run in runs
    )


def render_hours(hours: Iterable[DayHours]) -> str:
    """The canonical text of weekly hours: days with the same spans grouped, in week order."""
    spans: dict[str, list[str]] = {}
    for item in hours:
        spans.setdefault(item.day, []).append(f"{item.start}-{item.end}")
    groups: dict[str, list[int]] = {}
    for day in DAYS:
        if day in spans:
            groups.setdefault(",".join(spans[day]), []).append(DAYS.index(day))
    return "; ".join(f"{_day_runs(days)} {text}" for text, days in groups.items())


def hours(text: str) -> str:
    """Weekly hours in canonical text, e.g. ``mon-fri 08:00-18:00; sat 09:00-13:00``."""
    return render_hours(parse_hours(text))
