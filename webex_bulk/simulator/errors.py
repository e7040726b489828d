"""The one exception the routes raise, and the Webex error body it becomes.

Core APIs answer ``{message, errors[{description, errorCode}], trackingId}``; telephony APIs add a
top-level ``errorCode`` and format messages as ``[Error NNNN] text``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class Code(enum.IntEnum):
    """Error codes: 25223/8363, 4910 and 25058 are observed Webex codes, the rest chosen here."""

    NUMBER_IN_USE = 25223  # top level; errors[0].errorCode is NUMBER_IN_USE_DETAIL
    NUMBER_IN_USE_DETAIL = 8363
    INVALID_EXTENSION = 4910
    EXTENSION_LENGTH = 25058
    MISSING_FIELD = 25008
    EXTENSION_IN_USE = 25224
    NUMBER_NOT_FOUND = 25225
    NUMBER_IN_OTHER_LOCATION = 25226
    LOCATION_NOT_CALLING = 25227
    PSTN_NOT_MANAGEABLE = 25228
    NUMBER_ASSIGNED = 25229
    MAIN_NUMBER = 25230
    UNKNOWN_AGENT = 25231
    UNKNOWN_SCHEDULE = 25232
    NAME_IN_USE = 25233
    INVALID_NUMBER = 25234
    NEEDS_LINE = 25235
    INVALID_VALUE = 25236
    SCHEDULE_IN_USE = 25237
    MEMBER_OTHER_LOCATION = 25238
    MEMBER_IN_OTHER_PICKUP = 25239
    UNKNOWN_PARK_EXTENSION = 25240
    NOT_CALLING_USER = 25241
    TOO_MANY_NUMBERS = 25242
    NO_PSTN_CONNECTION = 25243
    UNKNOWN_HUNT_GROUP = 25244
    # The move-users job (codes as the spec lists them).
    MOVE_NOT_CALLING_USER = 1026010
    MOVE_USERS_EMPTY = 1026011
    MOVE_SAME_LOCATION = 1026013
    MOVE_TOO_MANY_USERS = 1026018
    MOVE_DUPLICATE_USER = 1026019
    MOVE_VALIDATE_SINGLE = 1026020
    MOVE_USER_NOT_FOUND = 2150012
    MOVE_EXTENSION_TAKEN = 4202
    MOVE_LOCATION_NOT_FOUND = 4152
    MOVE_TARGET_SAME = 25378
    MOVE_NUMBER_UNAVAILABLE = 27966
    # Core (non-telephony) APIs.
    BAD_REQUEST = 400000
    UNAUTHORIZED = 401000
    FORBIDDEN = 403000
    NOT_FOUND = 404000
    CONFLICT = 409000
    LOCKED = 423000
    RATE_LIMITED = 429000
    EMAIL_IN_USE = 409001
    LICENSE_EXHAUSTED = 400101
    UNKNOWN_LICENSE = 400102
    CALLING_LICENSE_REQUIRED = 400103
    LOCATION_CHANGE = 400104
    MAC_IN_USE = 409002
    UNSUPPORTED_MODEL = 400105
    CALLING_DATA_FAILED = 400106
    WORKSPACE_HAS_DEVICES = 400107
    JOB_RUNNING = 409003
    SERVER_ERROR = 500000
    UNAVAILABLE = 503000


class ApiError(Exception):
    """An answer other than 2xx, with the data of its Webex error body."""

    def __init__(
        self,
        status: int,
        description: str,
        code: int | None = None,
        *,
        telephony: bool = False,
        detail_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.code = code
        self.telephony = telephony
        self.detail_code = detail_code
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return f"{self.status} {self.description}"

    def body(self, tracking_id: str) -> dict[str, Any]:
        """The JSON error body Webex sends for this error."""
        if not self.telephony:
            error: dict[str, Any] = {"description": self.description}
            if self.code is not None:
                error["errorCode"] = int(self.code)
            return {"message": self.description, "errors": [error], "trackingId": tracking_id}
        code = int(self.code if self.code is not None else Code.INVALID_VALUE)
        detail = int(self.detail_code if self.detail_code is not None else code)
        return {
            "message": f"[Error {code}] {self.description}",
            "errors": [
                {"description": f"[Error {detail}] {self.description}", "errorCode": detail}
            ],
            "trackingId": tracking_id,
            "errorCode": code,
        }


def not_found(what: str = "resource", *, telephony: bool = False) -> ApiError:
    """404 for an id that names nothing in this tenant."""
    return ApiError(
        404, f"The requested {what} could not be found.", Code.NOT_FOUND, telephony=telephony
    )


def bad_request(
    description: str, code: int = Code.BAD_REQUEST, *, telephony: bool = False
) -> ApiError:
    """400 for a request the tenant refuses as invalid."""
    return ApiError(400, description, code, telephony=telephony)


def conflict(description: str, code: int = Code.CONFLICT, *, telephony: bool = False) -> ApiError:
    """409 for a request that clashes with an existing object."""
    return ApiError(409, description, code, telephony=telephony)
