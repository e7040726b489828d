"""Phases, their entity-type order, and the caps (``--only``, ``--limit``) on the rows of a run.

Reads the input through ``data_pipeline`` once per phase, so memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from webex_bulk.config import Settings
from webex_bulk.input import InputFile, read_rows
from webex_bulk.models import EntityType, Outcome, Row


@attrs.frozen
class Phase:
    """One step of a run: entity types whose rows run concurrently."""

    number: int
    name: str
    types: tuple[EntityType, ...]


PHASES: tuple[Phase, ...] = (
    Phase(1, "location", (EntityType.LOCATION,)),
    Phase(2, "number", (EntityType.NUMBER,)),
    Phase(3, "schedule", (EntityType.SCHEDULE,)),
    Phase(4, "user", (EntityType.USER, EntityType.VIRTUAL_LINE)),
    Phase(5, "workspace", (EntityType.WORKSPACE,)),
    Phase(
        6,
        "feature",
        (
            EntityType.HUNT_GROUP,
            EntityType.CALL_QUEUE,
            EntityType.AUTO_ATTENDANT,
            EntityType.CALL_PARK_EXTENSION,
            EntityType.CALL_PICKUP,
            EntityType.PAGING_GROUP,
            EntityType.VOICEMAIL_GROUP,
        ),
    ),
    # Call parks name call park extensions and a recall hunt group: those exist by now.
    Phase(7, "call_park", (EntityType.CALL_PARK,)),
    Phase(8, "device", (EntityType.DEVICE,)),
)

#: The name under which rows rejected before any API call are written.
VALIDATION_PHASE = "validate"


def parse_only(text: str | None) -> frozenset[EntityType] | None:
    """Parse ``--only user,workspace`` into entity types; raise ValueError naming a bad one."""
    if not text:
        return None
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = {t.value: t for t in EntityType}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown entity type {unknown[0]!r}; choose from {', '.join(known)}")
    return frozenset(known[n] for n in names)


@attrs.frozen
class Caps:
    """Which rows a run may touch: only some types, and at most the first ``limit`` rows."""

    only: frozenset[EntityType] | None = None
    limit: int | None = None

    @property
    def scope(self) -> str:
        """The caps as a name for the run directory: ``""`` (whole file), ``only-user-limit-20``."""
        parts = []
        if self.only is not None:
            parts.append("only-" + "+".join(sorted(t.value for t in self.only)))
        if self.limit is not None:
            parts.append(f"limit-{self.limit}")
        return "-".join(parts)

    def types(self, phase: Phase) -> tuple[EntityType, ...]:
        """The phase's entity types that the caps allow."""
        return tuple(t for t in phase.types if self.only is None or t in self.only)


class RowSelection:
    """The rows of one input file that a run processes, phase by phase."""

    def __init__(self, source: InputFile, settings: Settings, caps: Caps) -> None:
        self._source = source
        self._settings = settings
        self._caps = caps
        self._allowed_lines = self._first_lines(caps.limit) if caps.limit else None

    def _first_lines(self, limit: int) -> frozenset[int]:
        """Line numbers of the first ``limit`` rows (valid or not) of the allowed types."""
        lines: list[int] = []
        for item in read_rows(self._source, self._settings, types=self._caps.only):
            if self._caps.only is None or _entity_type(item) in self._caps.only:
                lines.append(item.line)
            if len(lines) >= limit:
                break
        return frozenset(lines)

    def _allowed(self, line: int) -> bool:
        return self._allowed_lines is None or line in self._allowed_lines

    def pre_api_outcomes(self) -> Iterator[Outcome]:
        """Rows that end before any API call (rejected or out of scope), in file order.

        Reads no further than the last such line the first pass saw: nothing for a clean file.
        """
        # An InputFile built without ``scan`` has no count: read the whole file then.
        scanned = self._source.cross_rows is not None
        last = self._source.last_pre_api_line if scanned else None
        if last == 0:
            return
        for item in read_rows(self._source, self._settings, types=()):
            if last is not None and item.line > last:
                return
            if isinstance(item, Outcome) and self._allowed(item.line) and self._type_allowed(item):
                yield item

    def scanned_demand(self) -> tuple[dict[str, int], set[str]] | None:
        """User rows per calling license kind and the device models, as the first pass counted
        them (an upper bound: rows the cross-row rules reject count); ``None`` with a limit, or
        for an InputFile that ``scan`` did not build."""
        if self._caps.limit is not None or self._source.cross_rows is None:
            return None
        users = self._caps.only is None or EntityType.USER in self._caps.only
        devices = self._caps.only is None or EntityType.DEVICE in self._caps.only
        wanted = {"professional": 0, "basic": 0}
        if users:
            wanted.update(self._source.license_demand)
        return wanted, set(self._source.device_models) if devices else set()

    def _type_allowed(self, outcome: Outcome) -> bool:
        if self._caps.only is None:
            return True
        return outcome.entity_type in {t.value for t in self._caps.only}

    def phase_rows(self, phase: Phase) -> Iterator[Row]:
        """The valid rows of one phase, in file order."""
        types = self._caps.types(phase)
        if not types:
            return
        for item in read_rows(self._source, self._settings, types=types, include_rejected=False):
            if isinstance(item, Row) and self._allowed(item.line):
                yield item

    def count(self, phase: Phase) -> int:
        """How many rows of the phase the caps allow (an upper bound: rejected rows included)."""
        return sum(self.count_type(t) for t in self._caps.types(phase))

    def count_type(self, entity_type: EntityType) -> int:
        """How many rows of one type the caps allow (an upper bound: rejected rows included)."""
        if self._caps.only is not None and entity_type not in self._caps.only:
            return 0
        in_file = self._source.counts_by_type.get(entity_type.value, 0)
        if self._allowed_lines is None:
            return in_file
        return min(in_file, len(self._allowed_lines))


def _entity_type(item: Row | Outcome) -> str:
    return item.entity_type.value if isinstance(item, Row) else item.entity_type
