"""The calling-settings columns of ``user`` and ``workspace`` rows: their groups, the ``off``
token, and the normaliser of each cell. An empty cell leaves the setting as it is.

Pure: cell text in, normalised value (or ``CellError``) out. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from webex_bulk.error_handling import Reason
from webex_bulk.input import normalise as cell

#: Written in a forwarding or e-mail-copy cell, turns the setting off ("" leaves it as it is).
OFF = "off"
ON = "on"
SWITCH = (ON, OFF)
DIRECT_LINE = "direct_line"
LOCATION_NUMBER = "location_number"
#: Rings before an unanswered call goes to voicemail (Webex allows 2 up to the user's maximum).
RINGS = (2, 20)
#: The longest forwarding destination kept as typed (digits only): an extension, or a number as
#: the user would dial it. Longer or formatted values are phone numbers, written back as E.164.
DIALED_DIGITS = 10

#: Settings group → its columns. Each group is one GET and, when it differs, one PUT.
GROUPS: Mapping[str, tuple[str, ...]] = {
    "voicemail": ("voicemail", "voicemail_rings", "voicemail_email_copy"),
    "callForwarding": ("forward_always", "forward_busy", "forward_no_answer"),
    "doNotDisturb": ("do_not_disturb",),
    "callWaiting": ("call_waiting",),
    "callerId": ("caller_id",),
}
#: Every settings column, in template order.
COLUMNS: tuple[str, ...] = tuple(column for group in GROUPS.values() for column in group)
#: The groups a workspace has in the API (no voicemail, no do not disturb).
WORKSPACE_GROUPS = ("callForwarding", "callWaiting", "callerId")
#: Columns that hold a whole number: an .xlsx number cell is fine there.
WHOLE_NUMBER = frozenset({"voicemail_rings"})

#: A cell normaliser: (trimmed cell text, default phone region) → normalised value.
Normaliser = Callable[[str, str], str]


def switch(text: str, _region: str = "") -> str:
    """``on`` or ``off`` (also yes/no, true/false, 1/0, any case)."""
    value = text.strip().lower()
    if value in SWITCH:
        return value
    try:
        return ON if cell.boolean(value) == "true" else OFF
    except cell.CellError:
        raise cell.CellError(Reason.INVALID_VALUE, f"{text!r} is not on or off") from None


def rings(text: str, _region: str = "") -> str:
    """A ring count from 2 to 20, without leading zeros."""
    value = text.strip()
    low, high = RINGS
    if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
        raise cell.CellError(
            Reason.INVALID_VALUE, f"{text!r} is not a number of rings ({low} to {high})"
        )
    return str(int(value))


def email_copy(text: str, _region: str = "") -> str:
    """An e-mail address that receives a copy of each voicemail, or ``off``."""
    if text.strip().lower() == OFF:
        return OFF
    return cell.email(text)


def destination(text: str, region: str) -> str:
    """A forwarding destination, or ``off``: digits only (an extension or a number as dialled,
    up to 10 digits) kept as typed; anything else a phone number, as E.164."""
    value = text.strip()
    if value.lower() == OFF:
        return OFF
    if value.isascii() and value.isdigit() and 2 <= len(value) <= DIALED_DIGITS:
        return value
    try:
        return cell.e164(value, region)
    except cell.CellError as exc:
        raise cell.CellError(
            exc.reason,
            f"{exc.problem}; or an extension (2–{DIALED_DIGITS} digits), or {OFF} to turn "
            "forwarding off",
        ) from None


def caller_id(text: str, region: str) -> str:
    """``direct_line``, ``location_number``, or a number to show (E.164)."""
    value = text.strip().lower().replace("-", "_").replace(" ", "_")
    if value in (DIRECT_LINE, LOCATION_NUMBER):
        return value
    if not text.strip().startswith("+") and not any(ch.isdigit() for ch in text):
        raise cell.CellError(
            Reason.INVALID_VALUE,
            f"{text!r} is not {DIRECT_LINE}, {LOCATION_NUMBER} or a phone number (+E.164)",
        )
    return cell.e164(text, region)


def not_for_workspaces(text: str, _region: str = "") -> str:
    """A voicemail or do-not-disturb cell on a workspace row: refused, never ignored."""
    raise cell.CellError(
        Reason.INVALID_VALUE,
        "a workspace has no voicemail or do not disturb setting in Webex Calling; "
        "leave the cell empty on workspace rows",
    )


#: Column → normaliser, on a user row.
USER_NORMALISERS: Mapping[str, Normaliser] = {
    "voicemail": switch,
    "voicemail_rings": rings,
    "voicemail_email_copy": email_copy,
    "forward_always": destination,
    "forward_busy": destination,
    "forward_no_answer": destination,
    "do_not_disturb": switch,
    "call_waiting": switch,
    "caller_id": caller_id,
}
#: Column → normaliser, on a workspace row.
WORKSPACE_NORMALISERS: Mapping[str, Normaliser] = {
    column: (
        normaliser
        if any(column in GROUPS[group] for group in WORKSPACE_GROUPS)
        else not_for_workspaces
    )
    for column, normaliser in USER_NORMALISERS.items()
}
#: Enumerated settings columns and their values (drop-down lists of the .xlsx template).
CHOICES: Mapping[str, tuple[str, ...]] = {
    "voicemail": SWITCH,
    "do_not_disturb": SWITCH,
    "call_waiting": SWITCH,
}


def filled_groups(values: Mapping[str, str], groups: tuple[str, ...] = tuple(GROUPS)) -> list[str]:
    """The settings groups a row manages: those with at least one filled column."""
    return [group for group in groups if any(values.get(c) for c in GROUPS[group])]
