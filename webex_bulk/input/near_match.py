"""Near matches for a misspelt name ("did you mean 'first_name'?"), with ``difflib``.

Pure: a word and the known names in, the closest known name (or nothing) out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike two names must be (``difflib`` ratio) to suggest one for the other.
CUTOFF = 0.75


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name most like ``word`` (compared case-insensitively), or None."""
    by_folded: dict[str, str] = {}
    for name in known:
        by_folded.setdefault(name.casefold(), name)
    folded = word.casefold()
    if not folded or folded in by_folded:
        return None
    found = difflib.get_close_matches(folded, by_folded, n=1, cutoff=CUTOFF)
    return by_folded[found[0]] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known name, or ``""`` when none is close."""
    found = closest(word, known)
    return f"; did you mean {found!r}?" if found else ""
