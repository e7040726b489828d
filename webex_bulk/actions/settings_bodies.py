"""A user's or workspace's own call settings, pure: each settings group read into the CSV's
spelling (for the comparison and ``export``), the columns that differ, and the PUT body.

Bottom layer: no network, no asyncio, no clock. Groups and columns: ``input/call_settings.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions.compare import JsonDict, canonical_e164, canonical_text
from webex_bulk.input import SETTINGS_GROUPS, SETTINGS_OFF
from webex_bulk.models import Row

ON, OFF = "on", SETTINGS_OFF
#: The forwarding rules: CSV column → key inside ``callForwarding``.
FORWARD_RULES: Mapping[str, str] = {
    "forward_always": "always",
    "forward_busy": "busy",
    "forward_no_answer": "noAnswer",
}
#: ``caller_id`` cell → the API's ``selected``.
CALLER_ID_CHOICES: Mapping[str, str] = {
    "direct_line": "DIRECT_LINE",
    "location_number": "LOCATION_NUMBER",
}
CUSTOM = "CUSTOM"
#: The longest forwarding destination kept as typed (as ``input/call_settings.py`` keeps it).
DIALED_DIGITS = 10
#: Read-only fields of a GET answer a PUT must not carry.
READ_ONLY = frozenset({"systemMaxNumberOfRings", "greetingUploaded"})


def _section(remote: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = remote.get(key)
    return found if isinstance(found, Mapping) else {}


def _switch(value: object) -> str:
    return ON if value is True else OFF


def destination_cell(value: object, region: str = "US") -> str:
    """A forwarding destination in the CSV spelling: short digit strings as they are, anything
    else as E.164 (so a remote ``14085550100`` and a cell ``+1 408 555 0100`` compare equal)."""
    text = canonical_text(value).replace(" ", "")
    if text.isascii() and text.isdigit() and len(text) <= DIALED_DIGITS:
        return text
    return canonical_e164(text, region)


def _forwarding(remote: Mapping[str, Any]) -> Mapping[str, Any]:
    return _section(remote, "callForwarding")


def remote_cells(group: str, remote: Mapping[str, Any], region: str = "US") -> dict[str, str]:
    """The settings of one group as the CSV writes them (``""`` where a cell cannot say it)."""
    if group == "voicemail":
        unanswered = _section(remote, "sendUnansweredCalls")
        rings = unanswered.get("numberOfRings")
        copy = _section(remote, "emailCopyOfMessage")
        return {
            "voicemail": _switch(remote.get("enabled")),
            "voicemail_rings": str(int(rings))
            if unanswered.get("enabled") is True and isinstance(rings, int | float)
            else "",
            "voicemail_email_copy": canonical_text(copy.get("emailId")).lower()
            if copy.get("enabled") is True and copy.get("emailId")
            else OFF,
        }
    if group == "callForwarding":
        cells = {}
        for column, key in FORWARD_RULES.items():
            rule = _section(_forwarding(remote), key)
            target = destination_cell(rule.get("destination"), region)
            cells[column] = target if rule.get("enabled") is True and target else OFF
        return cells
    if group == "doNotDisturb":
        return {"do_not_disturb": _switch(remote.get("enabled"))}
    if group == "callWaiting":
        return {"call_waiting": _switch(remote.get("enabled"))}
    if group == "callerId":
        selected = canonical_text(remote.get("selected"))
        if selected == CUSTOM:
            return {"caller_id": canonical_e164(remote.get("customNumber"), region)}
        chosen = {api: cell for cell, api in CALLER_ID_CHOICES.items()}
        return {"caller_id": chosen.get(selected, "")}
    raise ValueError(f"unknown settings group {group!r}")


def differing(group: str, row: Row, remote: Mapping[str, Any], region: str = "US") -> list[str]:
    """The columns of one group the row fills with a value the remote settings do not hold."""
    have = remote_cells(group, remote, region)
    return [
        column
        for column in SETTINGS_GROUPS[group]
        if row.get(column) and row.get(column) != have[column]
    ]


def refusal(
    group: str, row: Row, remote: Mapping[str, Any], *, direct_line_coming: bool = False
) -> str:
    """Why Webex would refuse the row's settings of this group, known from the GET; "" if not.

    A caller id the owner cannot show (no direct number, no location main number) and more
    voicemail rings than the owner's maximum are refused before any write.
    """
    if group == "callerId":
        wanted = CALLER_ID_CHOICES.get(row.get("caller_id"), "")
        offered = remote.get("types")
        if not wanted or not isinstance(offered, list) or wanted in offered:
            return ""
        if wanted == "DIRECT_LINE" and direct_line_coming:
            return ""
        if wanted == "DIRECT_LINE":
            return (
                "caller_id direct_line: it has no phone number; "
                "give phone_number or choose location_number"
            )
        return (
            "caller_id location_number: its location has no main number; "
            "choose direct_line or a number"
        )
    if group == "voicemail" and row.get("voicemail_rings"):
        most = _section(remote, "sendUnansweredCalls").get("systemMaxNumberOfRings")
        if isinstance(most, int | float) and int(row.get("voicemail_rings")) > most:
            return f"voicemail_rings {row.get('voicemail_rings')}: at most {int(most)} rings here"
    return ""


def _writable(section: Mapping[str, Any]) -> JsonDict:
    return {key: value for key, value in section.items() if key not in READ_ONLY}


def put_body(group: str, row: Row, remote: Mapping[str, Any]) -> JsonDict:
    """The PUT body that gives the group the row's values and keeps the rest as read.

    The bodies carry what the published schemas require (voicemail: ``notifications`` and
    ``transferToNumber``; do not disturb: ``webexGoOverrideEnabled``; a workspace's forwarding:
    every rule and ``businessContinuity``), copied from the GET.
    """
    if group == "voicemail":
        return _voicemail_body(row, remote)
    if group == "callForwarding":
        return _forwarding_body(row, remote)
    if group == "doNotDisturb":
        body: JsonDict = {
            key: remote[key]
            for key in ("ringSplashEnabled", "webexGoOverrideEnabled")
            if isinstance(remote.get(key), bool)
        }
        body.setdefault("webexGoOverrideEnabled", False)
        return {"enabled": row.get("do_not_disturb") == ON, **body}
    if group == "callWaiting":
        return {"enabled": row.get("call_waiting") == ON}
    if group == "callerId":
        wanted = row.get("caller_id")
        if wanted in CALLER_ID_CHOICES:
            return {"selected": CALLER_ID_CHOICES[wanted]}
        return {"selected": CUSTOM, "customNumber": wanted}
    raise ValueError(f"unknown settings group {group!r}")


def _voicemail_body(row: Row, remote: Mapping[str, Any]) -> JsonDict:
    body: JsonDict = {
        "notifications": _writable(_section(remote, "notifications")) or {"enabled": False},
        "transferToNumber": _writable(_section(remote, "transferToNumber")) or {"enabled": False},
    }
    if row.get("voicemail"):
        body["enabled"] = row.get("voicemail") == ON
    if row.get("voicemail_rings"):
        # A ring count only means something when unanswered calls go to voicemail.
        body["sendUnansweredCalls"] = {
            **_writable(_section(remote, "sendUnansweredCalls")),
            "enabled": True,
            "numberOfRings": int(row.get("voicemail_rings")),
        }
    copy = row.get("voicemail_email_copy")
    if copy == OFF:
        body["emailCopyOfMessage"] = {**_section(remote, "emailCopyOfMessage"), "enabled": False}
    elif copy:
        body["emailCopyOfMessage"] = {"enabled": True, "emailId": copy}
    return body


def _forwarding_body(row: Row, remote: Mapping[str, Any]) -> JsonDict:
    rules: JsonDict = {}
    for column, key in FORWARD_RULES.items():
        rule = _writable(_section(_forwarding(remote), key))
        rule.setdefault("enabled", False)
        rule.setdefault("destinationVoicemailEnabled", False)
        if key == "always":
            rule.setdefault("ringReminderEnabled", False)
        wanted = row.get(column)
        if wanted == OFF:
            rule["enabled"] = False
        elif wanted:
            rule.update(enabled=True, destination=wanted)
        rules[key] = rule
    continuity = _writable(_section(remote, "businessContinuity"))
    continuity.setdefault("enabled", False)
    continuity.setdefault("destinationVoicemailEnabled", False)
    return {"callForwarding": rules, "businessContinuity": continuity}
