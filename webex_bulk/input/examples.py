"""One valid example row per entity type, as ``webex-bulk template`` prints them; together they
validate. Plain values only."""

from __future__ import annotations

from collections.abc import Mapping

from webex_bulk.models import EntityType

#: One valid example row per entity type (``webex-bulk template``); together they validate.
EXAMPLES: Mapping[EntityType, Mapping[str, str]] = {
    EntityType.LOCATION: {
        "name": "San Jose HQ",
        "time_zone": "America/Los_Angeles",
        "address1": "170 West Tasman Drive",
        "city": "San Jose",
        "state": "CA",
        "postal_code": "95134",
        "country": "US",
        "preferred_language": "en_us",
        "announcement_language": "en_us",
    },
    EntityType.NUMBER: {"phone_number": "+14085550100", "location": "San Jose HQ"},
    EntityType.SCHEDULE: {
        "name": "Office Hours",
        "location": "San Jose HQ",
        "hours": "mon-fri 08:00-18:00; sat 09:00-13:00",
    },
    EntityType.USER: {
        "email": "alice.jones@example.com",
        "first_name": "Alice",
        "last_name": "Jones",
        "location": "San Jose HQ",
        "extension": "1001",
        "phone_number": "+14085550100",
        "license": "professional",
        "department": "Sales",
        "title": "Account Manager",
        "voicemail": "on",
        "voicemail_rings": "4",
        "voicemail_email_copy": "off",
        "forward_always": "off",
        "forward_busy": "1900",
        "forward_no_answer": "+14085550199",
        "do_not_disturb": "off",
        "call_waiting": "on",
        "caller_id": "direct_line",
    },
    EntityType.WORKSPACE: {
        "display_name": "Lobby Phone",
        "location": "San Jose HQ",
        "extension": "1900",
        "forward_no_answer": "1001",
        "call_waiting": "off",
        "caller_id": "location_number",
    },
    EntityType.HUNT_GROUP: {
        "name": "Sales",
        "location": "San Jose HQ",
        "extension": "2001",
        "members": "alice.jones@example.com;Lobby Phone",
        "policy": "circular",
    },
    EntityType.CALL_QUEUE: {
        "name": "Support",
        "location": "San Jose HQ",
        "extension": "2002",
        "members": "alice.jones@example.com",
        "policy": "uniform",
        "queue_size": "10",
    },
    EntityType.AUTO_ATTENDANT: {
        "name": "Main Menu",
        "location": "San Jose HQ",
        "extension": "2000",
        "business_schedule": "Office Hours",
    },
    EntityType.DEVICE: {
        "mac": "00A1B2C3D4E5",
        "model": "DMS Cisco 8851",
        "owner": "alice.jones@example.com",
        "location": "San Jose HQ",
    },
    EntityType.VIRTUAL_LINE: {
        "display_name": "Front Desk Line",
        "location": "San Jose HQ",
        "first_name": "Front",
        "last_name": "Desk",
        "extension": "1950",
    },
    EntityType.CALL_PARK_EXTENSION: {
        "name": "Park 1",
        "location": "San Jose HQ",
        "extension": "3101",
    },
    EntityType.CALL_PARK: {
        "name": "Sales Park",
        "location": "San Jose HQ",
        "members": "alice.jones@example.com;Front Desk Line",
        "recall": "parking_user_first_then_hunt_group",
        "recall_hunt_group": "Sales",
        "park_extensions": "Park 1",
    },
    EntityType.CALL_PICKUP: {
        "name": "Sales Pickup",
        "location": "San Jose HQ",
        "members": "alice.jones@example.com;Lobby Phone",
    },
    EntityType.PAGING_GROUP: {
        "name": "All Staff Paging",
        "location": "San Jose HQ",
        "extension": "3200",
        "originators": "alice.jones@example.com",
        "targets": "Lobby Phone;Front Desk Line",
    },
    EntityType.VOICEMAIL_GROUP: {
        "name": "Sales Voicemail",
        "location": "San Jose HQ",
        "extension": "3300",
        "passcode": "740218",
        "notification_email": "sales.voicemail@example.com",
    },
}
