"""The activation codes a run directory has handed out, newest per owner and model, and whether
one is still valid (expiry against an injected clock)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from webex_bulk.actions.compare import fold
from webex_bulk.input import reference_key
from webex_bulk.models import ActivationCode

#: A code counts as valid until this long before its expiry, so that the file never hands an
#: admin a code about to lapse.
MARGIN = datetime.timedelta(hours=1)
Clock = Callable[[], datetime.datetime]


def utc_now() -> datetime.datetime:
    """The wall clock, in UTC (the default ``Clock``)."""
    return datetime.datetime.now(datetime.UTC)


class CodeLedger:
    """The codes of the run directory's ``activation_codes.csv`` and of this run, the newest
    per owner and model."""

    def __init__(self, codes: Iterable[ActivationCode] = (), clock: Clock = utc_now) -> None:
        self._clock = clock
        self._codes: dict[str, ActivationCode] = {}
        for code in codes:
            self.record(code)

    @staticmethod
    def key(owner: str, location: str, model: str) -> str:
        """Owner (a user by e-mail, or a workspace of its location) and model, case-blind."""
        return f"{reference_key(owner, location)}|{fold(model)}"

    def record(self, code: ActivationCode) -> None:
        """Remember a code; of two for the same owner and model the one expiring last stays."""
        key = self.key(code.owner, code.location, code.model)
        held = self._codes.get(key)
        if held is None or _later_or_same(code, held):
            self._codes[key] = code

    def valid(self, owner: str, location: str, model: str) -> ActivationCode | None:
        """The code of this owner and model when more than ``MARGIN`` of it is left."""
        code = self._codes.get(self.key(owner, location, model))
        if code is None:
            return None
        expiry = code.expires_at
        if expiry is None or expiry - MARGIN <= self._clock():
            return None
        return code


def _later_or_same(code: ActivationCode, held: ActivationCode) -> bool:
    new, old = code.expires_at, held.expires_at
    return old is None or (new is not None and new >= old)
