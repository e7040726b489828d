"""A calling user's and workspace's own call settings."""

from __future__ import annotations

from .builders import add_numbers, make_location, make_user, make_workspace
from .conftest import Api

#: The two objects a person's voicemail PUT must carry (the published schema requires them).
KEPT_VOICEMAIL = {"notifications": {"enabled": False}, "transferToNumber": {"enabled": False}}


async def test_new_calling_user_has_defaults(api: Api) -> None:
    """A new calling user reads the default voicemail, forwarding, DND, waiting and caller id."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    base = f"/people/{ann['id']}/features"
    voicemail = (await api.get(f"{base}/voicemail")).body
    assert voicemail["enabled"] is True
    assert voicemail["sendUnansweredCalls"]["numberOfRings"] == 3
    forwarding = (await api.get(f"{base}/callForwarding")).body["callForwarding"]
    assert [forwarding[rule]["enabled"] for rule in ("always", "busy", "noAnswer")] == [
        False,
        False,
        False,
    ]
    assert (await api.get(f"{base}/doNotDisturb")).body["enabled"] is False
    assert (await api.get(f"{base}/callWaiting")).body == {"enabled": True}
    caller_id = (await api.get(f"{base}/callerId")).body
    assert (caller_id["selected"], caller_id["extensionNumber"], caller_id["firstName"]) == (
        "LOCATION_NUMBER",
        "1001",
        "Ann",
    )


async def test_settings_are_written_and_read_back(api: Api) -> None:
    """PUT answers 204 and merges into what a later GET shows."""
    location = await make_location(api)
    await add_numbers(api, location, "+13125550100", "+13125550101")
    ann = await make_user(api, "ann@example.com", location, extension="1001", number="+13125550101")
    base = f"/people/{ann['id']}/features"
    always = {"enabled": True, "destination": "+13125550199"}
    assert (
        await api.put(f"{base}/callForwarding", {"callForwarding": {"always": always}})
    ).status == 204
    forwarding = (await api.get(f"{base}/callForwarding")).body["callForwarding"]
    assert forwarding["always"]["destination"] == "+13125550199"
    assert forwarding["always"]["ringReminderEnabled"] is False
    assert forwarding["busy"]["enabled"] is False
    copy = {
        "emailCopyOfMessage": {"enabled": True, "emailId": "ann@example.com"},
        "enabled": False,
        **KEPT_VOICEMAIL,
    }
    assert (await api.put(f"{base}/voicemail", copy)).status == 204
    voicemail = (await api.get(f"{base}/voicemail")).body
    assert (voicemail["enabled"], voicemail["emailCopyOfMessage"]["emailId"]) == (
        False,
        "ann@example.com",
    )
    dnd = {"enabled": True, "webexGoOverrideEnabled": False}
    assert (await api.put(f"{base}/doNotDisturb", dnd)).status == 204
    assert (await api.get(f"{base}/doNotDisturb")).body["enabled"] is True
    assert (await api.put(f"{base}/callWaiting", {"enabled": False})).status == 204
    assert (await api.get(f"{base}/callWaiting")).body == {"enabled": False}
    assert (await api.put(f"{base}/callerId", {"selected": "DIRECT_LINE"})).status == 204
    caller_id = (await api.get(f"{base}/callerId")).body
    assert (caller_id["selected"], caller_id["directNumber"]) == ("DIRECT_LINE", "+13125550101")
    custom = {"selected": "CUSTOM", "customNumber": "+13125550100"}
    assert (await api.put(f"{base}/callerId", custom)).status == 204
    assert (await api.get(f"{base}/callerId")).body["customNumber"] == "+13125550100"


async def test_settings_rules(api: Api) -> None:
    """Bodies Webex refuses answer 400; a user without calling or an unknown id is 404."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    base = f"/people/{ann['id']}/features"
    no_destination = {"callForwarding": {"busy": {"enabled": True}}}
    refused = await api.put(f"{base}/callForwarding", no_destination)
    assert (refused.status, refused.body["errorCode"]) == (400, 25008)
    rings = {"callForwarding": {"noAnswer": {"numberOfRings": 50}}}
    assert (await api.put(f"{base}/callForwarding", rings)).status == 400
    email = {"emailCopyOfMessage": {"enabled": True}, **KEPT_VOICEMAIL}
    assert (await api.put(f"{base}/voicemail", email)).status == 400
    assert (await api.put(f"{base}/callWaiting", {})).status == 400
    not_a_bool = {"enabled": "yes", "webexGoOverrideEnabled": False}
    assert (await api.put(f"{base}/doNotDisturb", not_a_bool)).status == 400
    no_number = await api.put(f"{base}/callerId", {"selected": "DIRECT_LINE"})
    assert no_number.status == 400
    assert (await api.put(f"{base}/callerId", {"selected": "SECRET"})).status == 400
    assert (await api.put(f"{base}/callerId", {"selected": "CUSTOM"})).status == 400
    plain = (await api.post("/people", {"emails": ["p@example.com"], "displayName": "P"})).body
    assert (await api.get(f"/people/{plain['id']}/features/voicemail")).status == 404
    assert (await api.get("/people/nobody/features/voicemail")).status == 404


async def test_settings_of_a_recreated_user_are_defaults(api: Api) -> None:
    """Deleting a user forgets its settings; a user created again starts from the defaults."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    dnd = {"enabled": True, "webexGoOverrideEnabled": False}
    await api.put(f"/people/{ann['id']}/features/doNotDisturb", dnd)
    assert (await api.delete(f"/people/{ann['id']}")).status == 204
    again = await make_user(api, "ann@example.com", location, extension="1001")
    assert (await api.get(f"/people/{again['id']}/features/doNotDisturb")).body["enabled"] is False


async def test_workspace_settings(api: Api) -> None:
    """A calling workspace serves forwarding, call waiting and caller id, not voicemail; its
    forwarding PUT carries every required rule, its call waiting PUT may be empty."""
    location = await make_location(api)
    space = await make_workspace(api, "Lobby", location, extension="1002")
    base = f"/workspaces/{space}/features"
    assert (await api.get(f"{base}/callWaiting")).body == {"enabled": True}
    rule = {"enabled": False, "destinationVoicemailEnabled": False}
    always = {
        "callForwarding": {
            "always": {**rule, "enabled": True, "destination": "1001", "ringReminderEnabled": False}
        },
        "businessContinuity": rule,
    }
    assert (await api.put(f"{base}/callForwarding", always)).status == 204
    assert (await api.put(f"{base}/callForwarding", {"callForwarding": always})).status == 400
    assert (await api.put(f"{base}/callWaiting", {})).status == 204
    forwarding = (await api.get(f"{base}/callForwarding")).body
    assert forwarding["callForwarding"]["always"]["destination"] == "1001"
    assert (await api.get(f"{base}/callerId")).body["firstName"] == "Lobby"
    assert (await api.get(f"{base}/voicemail")).status == 404
    free = await api.post("/workspaces", {"displayName": "Free"})
    assert (await api.get(f"/workspaces/{free.body['id']}/features/callWaiting")).status == 404
