"""Canned requests for the conformance check of the routes added for universal coverage (call
park, pickup, paging, voicemail groups, virtual lines, call settings, the move-users job,
activation codes, the PSTN connection, token expiry): each answer goes through a checker that
validates it against the documented schema."""

from __future__ import annotations

from typing import Any, Protocol

from .builders import make_location, voicemail_group_body
from .conftest import Answer, Api


class Sender(Protocol):
    """What the conformance test's checker offers: send, assert a 2xx, validate the answer."""

    api: Api

    async def send(self, method: str, template: str, path: str, body: Any = None) -> Answer:
        """Send one request and validate its answer."""
        ...


LOCATION = "/telephony/config/locations/{locationId}"
MOVE = "/telephony/config/jobs/person/moveLocation"


async def check_calling_routes(check: Sender, location: str, person: str, workspace: str) -> None:
    """Create one of every new object and read every new GET route through ``check``."""
    base = f"/telephony/config/locations/{location}"
    ids = await _create(check, base, location, person, workspace)
    reads = [
        ("/telephony/config/callParkExtensions", "/telephony/config/callParkExtensions"),
        (
            f"{LOCATION}/callParkExtensions/{{callParkExtensionId}}",
            f"{base}/callParkExtensions/{ids['extension']}",
        ),
        (f"{LOCATION}/callParks", f"{base}/callParks"),
        (f"{LOCATION}/callParks/{{callParkId}}", f"{base}/callParks/{ids['park']}"),
        (f"{LOCATION}/callPickups", f"{base}/callPickups"),
        (f"{LOCATION}/callPickups/{{callPickupId}}", f"{base}/callPickups/{ids['pickup']}"),
        ("/telephony/config/paging", "/telephony/config/paging"),
        (f"{LOCATION}/paging/{{pagingId}}", f"{base}/paging/{ids['paging']}"),
        ("/telephony/config/voicemailGroups", "/telephony/config/voicemailGroups"),
        (
            f"{LOCATION}/voicemailGroups/{{voicemailGroupId}}",
            f"{base}/voicemailGroups/{ids['voicemail']}",
        ),
        ("/telephony/config/virtualLines", "/telephony/config/virtualLines"),
        (
            "/telephony/config/virtualLines/{virtualLineId}",
            f"/telephony/config/virtualLines/{ids['virtualLine']}",
        ),
        (MOVE, MOVE),
        (f"{MOVE}/{{jobId}}", f"{MOVE}/{ids['job']}"),
        (f"{MOVE}/{{jobId}}/errors", f"{MOVE}/{ids['job']}/errors"),
        ("/authorizations/tokenExpiry", "/authorizations/tokenExpiry"),
        (
            "/telephony/pstn/locations/{locationId}/connection",
            f"/telephony/pstn/locations/{location}/connection",
        ),
    ]
    for setting in ("voicemail", "callForwarding", "doNotDisturb", "callWaiting", "callerId"):
        reads.append(
            (f"/people/{{personId}}/features/{setting}", f"/people/{person}/features/{setting}")
        )
    for setting in ("callForwarding", "callWaiting", "callerId"):
        reads.append(
            (
                f"/workspaces/{{workspaceId}}/features/{setting}",
                f"/workspaces/{workspace}/features/{setting}",
            )
        )
    for template, path in reads:
        await check.send("get", template, path)
    for method, template, path, body in calling_writes(ids, base, person, workspace):
        await check.send(method, template, path, body)


async def _create(
    check: Sender, base: str, location: str, person: str, workspace: str
) -> dict[str, str]:
    async def create(template: str, path: str, body: dict[str, Any]) -> str:
        return str((await check.send("post", template, path, body)).body["id"])

    extension = await create(
        f"{LOCATION}/callParkExtensions",
        f"{base}/callParkExtensions",
        {"name": "Park", "extension": "7101"},
    )
    virtual_line = await create(
        "/telephony/config/virtualLines",
        "/telephony/config/virtualLines",
        {"firstName": "Front", "lastName": "Desk", "locationId": location, "extension": "7102"},
    )
    park = {
        "name": "Desk park",
        "recall": {"option": "ALERT_PARKING_USER_ONLY"},
        "agents": [person, virtual_line],
        "callParkExtensions": [extension],
    }
    paging = {"name": "All", "extension": "7103", "originators": [person], "targets": [workspace]}
    branch = await make_location(check.api, "Conformance branch")
    move = {
        "usersList": [
            {"locationId": branch, "validate": True, "users": [{"userId": person}]},
        ]
    }
    await check.send("post", MOVE, MOVE, move)
    move["usersList"][0]["validate"] = False
    job = (await check.send("post", MOVE, MOVE, move)).body["response"]["id"]
    await check.send(
        "post", "/devices/activationCode", "/devices/activationCode", {"personId": person}
    )
    return {
        "extension": extension,
        "virtualLine": virtual_line,
        "park": await create(f"{LOCATION}/callParks", f"{base}/callParks", park),
        "pickup": await create(
            f"{LOCATION}/callPickups", f"{base}/callPickups", {"name": "Floor", "agents": [person]}
        ),
        "paging": await create(f"{LOCATION}/paging", f"{base}/paging", paging),
        "voicemail": await create(
            f"{LOCATION}/voicemailGroups",
            f"{base}/voicemailGroups",
            voicemail_group_body("Support", "7104", "740913"),
        ),
        "job": str(job),
    }


def calling_writes(
    ids: dict[str, str], base: str, person: str, workspace: str
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Valid PUT bodies of the new routes: ``(method, template, path, body)``."""
    people = f"/people/{person}/features"
    spaces = f"/workspaces/{workspace}/features"
    forward = {"callForwarding": {"busy": {"enabled": True, "destination": "+12025550199"}}}
    voicemail = {
        "enabled": True,
        "notifications": {"enabled": False},
        "transferToNumber": {"enabled": False},
    }
    return [
        (
            "put",
            f"{LOCATION}/callParkExtensions/{{callParkExtensionId}}",
            f"{base}/callParkExtensions/{ids['extension']}",
            {"name": "Park 2", "extension": "7111"},
        ),
        (
            "put",
            f"{LOCATION}/callPickups/{{callPickupId}}",
            f"{base}/callPickups/{ids['pickup']}",
            {"notificationType": "AUDIO_ONLY"},
        ),
        (
            "put",
            f"{LOCATION}/paging/{{pagingId}}",
            f"{base}/paging/{ids['paging']}",
            {"enabled": True},
        ),
        (
            "put",
            f"{LOCATION}/voicemailGroups/{{voicemailGroupId}}",
            f"{base}/voicemailGroups/{ids['voicemail']}",
            {"passcode": "551902"},
        ),
        (
            "put",
            "/telephony/config/virtualLines/{virtualLineId}",
            f"/telephony/config/virtualLines/{ids['virtualLine']}",
            {"lastName": "Office"},
        ),
        ("put", "/people/{personId}/features/voicemail", f"{people}/voicemail", voicemail),
        ("put", "/people/{personId}/features/callForwarding", f"{people}/callForwarding", forward),
        (
            "put",
            "/people/{personId}/features/doNotDisturb",
            f"{people}/doNotDisturb",
            {"enabled": True, "webexGoOverrideEnabled": False},
        ),
        (
            "put",
            "/people/{personId}/features/callWaiting",
            f"{people}/callWaiting",
            {"enabled": False},
        ),
        (
            "put",
            "/people/{personId}/features/callerId",
            f"{people}/callerId",
            {"selected": "LOCATION_NUMBER"},
        ),
        (
            "put",
            "/workspaces/{workspaceId}/features/callWaiting",
            f"{spaces}/callWaiting",
            {"enabled": True},
        ),
        (
            "put",
            f"{LOCATION}/callParks/{{callParkId}}",
            f"{base}/callParks/{ids['park']}",
            {"recall": {"option": "ALERT_PARKING_USER_ONLY"}},
        ),
    ]


def calling_creates(
    location: str, person: str, workspace: str
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Valid create (and settings) bodies of the new routes, for dropping each documented
    required field."""
    base = f"/telephony/config/locations/{location}"
    users = [{"locationId": location, "validate": False, "users": [{"userId": person}]}]
    return [
        (
            "post",
            f"{LOCATION}/callParkExtensions",
            f"{base}/callParkExtensions",
            {"name": "Park 9", "extension": "7191"},
        ),
        (
            "post",
            f"{LOCATION}/callParks",
            f"{base}/callParks",
            {"name": "Park 9", "recall": {"option": "ALERT_PARKING_USER_ONLY"}},
        ),
        ("post", f"{LOCATION}/callPickups", f"{base}/callPickups", {"name": "Pickup 9"}),
        (
            "post",
            f"{LOCATION}/paging",
            f"{base}/paging",
            {"name": "Paging 9", "extension": "7192", "targets": [workspace]},
        ),
        (
            "post",
            f"{LOCATION}/voicemailGroups",
            f"{base}/voicemailGroups",
            voicemail_group_body("Voicemail 9", "7193", "740913"),
        ),
        (
            "post",
            "/telephony/config/virtualLines",
            "/telephony/config/virtualLines",
            {"firstName": "V", "lastName": "Nine", "locationId": location, "extension": "7194"},
        ),
        ("post", MOVE, MOVE, {"usersList": users}),
        *settings_puts(person, workspace),
    ]


def settings_puts(person: str, workspace: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Valid PUT bodies of the call settings whose schemas require fields."""
    rule = {"enabled": False, "destinationVoicemailEnabled": False}
    off = {"enabled": False}
    return [
        (
            "put",
            "/people/{personId}/features/voicemail",
            f"/people/{person}/features/voicemail",
            {"enabled": True, "notifications": off, "transferToNumber": off},
        ),
        (
            "put",
            "/people/{personId}/features/doNotDisturb",
            f"/people/{person}/features/doNotDisturb",
            {"enabled": False, "webexGoOverrideEnabled": False},
        ),
        (
            "put",
            "/workspaces/{workspaceId}/features/callForwarding",
            f"/workspaces/{workspace}/features/callForwarding",
            {
                "callForwarding": {"always": {**rule, "ringReminderEnabled": False}},
                "businessContinuity": rule,
            },
        ),
        (
            "put",
            "/workspaces/{workspaceId}/features/callerId",
            f"/workspaces/{workspace}/features/callerId",
            {"selected": "LOCATION_NUMBER"},
        ),
    ]
