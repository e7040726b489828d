"""The country a row's national phone numbers are read in: its location's, else the default.

A location row of the file gives its country; a row whose location the file does not hold
falls back to ``default_region``, which must be an ISO 3166 code with a numbering plan. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

import phonenumbers
import pycountry

from webex_bulk.error_handling import ConfigError
from webex_bulk.input import normalise as cell


def check_default_region(code: str) -> str:
    """The default region as upper-case ISO 3166 alpha-2; ``ConfigError`` for anything else."""
    value = code.strip().upper()
    if pycountry.countries.get(alpha_2=value) is None or len(value) != 2:
        hint = " (the United Kingdom is GB)" if value == "UK" else ""
        raise ConfigError(
            "default_region",
            "--default-region",
            f"{code!r} is not an ISO 3166 alpha-2 country code{hint}, e.g. US, GB, DE",
        )
    if phonenumbers.country_code_for_region(value) == 0:
        raise ConfigError(
            "default_region", "--default-region", f"{value!r} has no telephone numbering plan"
        )
    return value


class Regions:
    """Location name → country, learnt from the location rows; answers a row's region.

    While the first pass runs, a row may name a location whose row comes later: ``missed``
    records it, and ``needs_second_look`` tells the pass to run again with the whole map.
    """

    def __init__(self, default: str, known: Mapping[str, str] | None = None) -> None:
        self.default = default
        self.known: dict[str, str] = dict(known or {})
        self._missed: set[str] = set()

    def learn(self, name: str, country: str) -> None:
        """A location row of the file: its numbers are read in ``country``."""
        self.known.setdefault(name.casefold(), country)

    def region_for(self, cells: Mapping[str, str]) -> str:
        """The region of a row's national numbers: its location's country, else the default."""
        text = cells.get("location", "").strip()
        if not text:
            return self.default
        try:
            location = cell.name(text).casefold()
        except cell.CellError:
            return self.default
        found = self.known.get(location)
        if found is None:
            number = cells.get("phone_number", "").strip()
            if number and not number.startswith("+"):
                self._missed.add(location)
            return self.default
        return found

    def needs_second_look(self) -> bool:
        """Whether a row was read in the default region before its location's row was seen."""
        return any(self.known.get(name, self.default) != self.default for name in self._missed)

    def complete(self) -> Regions:
        """A fresh map holding every location learnt, for a second pass."""
        return Regions(self.default, self.known)
