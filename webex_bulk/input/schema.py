"""The input schema: the columns of every entity type, how a row is normalised, its stable key.

Pure: a row's cells in, normalised values (or the problems found) out. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from webex_bulk.error_handling import Reason
from webex_bulk.input import call_settings as settings
from webex_bulk.input import normalise as cell
from webex_bulk.models import EntityType

#: A cell normaliser: (trimmed cell text, default phone region) → normalised value.
Normaliser = Callable[[str, str], str]


def _plain(function: Callable[[str], str]) -> Normaliser:
    return lambda text, _region: function(text)


def _choice(*options: str) -> Normaliser:
    return lambda text, _region: cell.choice(text, options)


def _members(text: str, _region: str) -> str:
    return ";".join(cell.members(text))


#: How a secret cell is written to every output; read back, it counts as an empty cell.
MASK = "****"
_PASSCODE_LENGTH = (4, 30)


def _passcode(text: str, _region: str) -> str:
    """A voicemail passcode: 4–30 digits; the mask of an output file reads as empty. The message
    never repeats the value."""
    if text == MASK:
        return ""
    low, high = _PASSCODE_LENGTH
    if not (text.isascii() and text.isdigit() and low <= len(text) <= high):
        raise cell.CellError(Reason.INVALID_VALUE, f"a passcode is {low} to {high} digits")
    return text


@attrs.frozen
class Column:
    """One input column of an entity type: how it is normalised, whether it is required."""

    name: str
    normalise: Normaliser
    required: bool = False
    default: str = ""
    #: the values of an enumerated column (a drop-down list in the .xlsx template)
    choices: tuple[str, ...] = ()
    #: never written back: every output shows ``MASK`` instead
    secret: bool = False


def _enum(name: str, options: tuple[str, ...], default: str) -> Column:
    return Column(name, _choice(*options), default=default, choices=options)


@attrs.frozen
class EntitySpec:
    """The columns of one entity type and the columns that identify a row of it."""

    entity_type: EntityType
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]
    #: at least one of these columns must hold a value (extension and/or phone number)
    one_of: tuple[str, ...] = ()
    #: needed only to create what the key does not find (a user's names: post-LDAP rows leave
    #: identity to the directory); checked against the tenant, not offline
    to_create: tuple[str, ...] = ()
    #: the key of a row whose key columns are empty, from those of these that hold a value (a
    #: device without a MAC: ``device:hq/lobby/dms cisco 8845``)
    fallback_key: tuple[str, ...] = ()
    #: (name, normaliser, required, default) of each column, in order: what normalise_row reads
    plan: tuple[tuple[str, Normaliser, bool, str], ...] = attrs.field(
        init=False, eq=False, repr=False
    )

    @plan.default
    def _plan(self) -> tuple[tuple[str, Normaliser, bool, str], ...]:
        return tuple((c.name, c.normalise, c.required, c.default) for c in self.columns)

    def has_key(self, values: Mapping[str, str]) -> bool:
        """Whether ``values`` hold what ``key`` needs."""
        if set(self.key_columns) <= values.keys():
            return True
        return bool(self.fallback_key) and all(c in values for c in self.required_fallback)

    @property
    def required_fallback(self) -> tuple[str, ...]:
        """The fallback key columns that are required columns of the type."""
        required = {column.name for column in self.columns if column.required}
        return tuple(c for c in self.fallback_key if c in required)

    def key(self, values: Mapping[str, str]) -> str:
        """The stable key of a row (``user:alice@example.com``, ``schedule:hq/office``)."""
        columns = self.key_columns
        if not set(columns) <= values.keys() and self.fallback_key:
            columns = tuple(c for c in self.fallback_key if c in values)
        # Names are compared case-insensitively; a MAC keeps its upper-case hex.
        parts = [values[c] if c == "mac" else values[c].casefold() for c in columns]
        return f"{self.entity_type.value}:{'/'.join(parts)}"


_NAME = _plain(cell.name)
_NUMBER_COLUMNS = (Column("extension", _plain(cell.extension)), Column("phone_number", cell.e164))
_FEATURE = (Column("name", _NAME, True), Column("location", _NAME, True), *_NUMBER_COLUMNS)
_POLICIES = ("circular", "regular", "simultaneous", "uniform", "weighted")
_POLICY = _enum("policy", _POLICIES, "circular")
_ONE_OF = ("extension", "phone_number")
_BY_LOCATION = ("location", "name")
_RECALLS = ("parking_user_only", "parking_user_first_then_hunt_group", "hunt_group_only")
_GROUP = (Column("name", _NAME, True), Column("location", _NAME, True))


def _settings(normalisers: Mapping[str, Normaliser]) -> tuple[Column, ...]:
    """The calling-settings columns of a user or workspace row (``input/call_settings.py``)."""
    return tuple(
        Column(name, normalise, choices=settings.CHOICES.get(name, ()))
        for name, normalise in normalisers.items()
    )


SCHEMA: Mapping[EntityType, EntitySpec] = {
    spec.entity_type: spec
    for spec in (
        EntitySpec(
            EntityType.LOCATION,
            (
                Column("name", _plain(cell.location_name), True),
                Column("time_zone", _plain(cell.time_zone), True),
                Column("address1", _NAME, True),
                Column("address2", _NAME),
                Column("city", _NAME, True),
                Column("state", _NAME, True),
                Column("postal_code", _NAME, True),
                Column("country", _plain(cell.country), True),
                Column("preferred_language", _plain(cell.language), default="en_us"),
                Column("announcement_language", _plain(cell.language), default="en_us"),
            ),
            ("name",),
        ),
        EntitySpec(
            EntityType.NUMBER,
            (
                Column("phone_number", cell.e164, True),
                Column("location", _NAME, True),
                _enum("state", ("active", "inactive"), "active"),
            ),
            ("phone_number",),
        ),
        EntitySpec(
            EntityType.SCHEDULE,
            (
                Column("name", _NAME, True),
                Column("location", _NAME, True),
                Column("hours", _plain(cell.hours), True),
            ),
            _BY_LOCATION,
        ),
        EntitySpec(
            EntityType.USER,
            (
                Column("email", _plain(cell.email), True),
                Column("first_name", _NAME),
                Column("last_name", _NAME),
                Column("display_name", _NAME),
                Column("location", _NAME, True),
                *_NUMBER_COLUMNS,
                _enum("license", ("professional", "basic"), "professional"),
                Column("department", _NAME),
                Column("title", _NAME),
                *_settings(settings.USER_NORMALISERS),
            ),
            ("email",),
            _ONE_OF,
            to_create=("first_name", "last_name"),
        ),
        EntitySpec(
            EntityType.WORKSPACE,
            (
                Column("display_name", _NAME, True),
                Column("location", _NAME, True),
                *_NUMBER_COLUMNS,
                *_settings(settings.WORKSPACE_NORMALISERS),
            ),
            ("location", "display_name"),
            _ONE_OF,
        ),
        EntitySpec(
            EntityType.HUNT_GROUP,
            (*_FEATURE, Column("members", _members), _POLICY),
            _BY_LOCATION,
            _ONE_OF,
        ),
        EntitySpec(
            EntityType.CALL_QUEUE,
            (
                *_FEATURE,
                Column("members", _members),
                _POLICY,
                Column("queue_size", _plain(cell.queue_size), default="10"),
            ),
            _BY_LOCATION,
            _ONE_OF,
        ),
        EntitySpec(
            EntityType.AUTO_ATTENDANT,
            (*_FEATURE, Column("business_schedule", _NAME, True)),
            _BY_LOCATION,
            _ONE_OF,
        ),
        EntitySpec(
            EntityType.DEVICE,
            (
                Column("mac", _plain(cell.mac)),
                Column("model", _NAME, True),
                Column("owner", _plain(cell.owner), True),
                Column("location", _NAME),
            ),
            ("mac",),
            fallback_key=("location", "owner", "model"),
        ),
        EntitySpec(
            EntityType.CALL_PARK_EXTENSION,
            (*_GROUP, Column("extension", _plain(cell.extension), True)),
            _BY_LOCATION,
        ),
        EntitySpec(
            EntityType.CALL_PARK,
            (
                *_GROUP,
                Column("members", _members),
                _enum("recall", _RECALLS, "parking_user_only"),
                Column("recall_hunt_group", _NAME),
                Column("park_extensions", _members),
            ),
            _BY_LOCATION,
        ),
        EntitySpec(EntityType.CALL_PICKUP, (*_GROUP, Column("members", _members)), _BY_LOCATION),
        EntitySpec(
            EntityType.PAGING_GROUP,
            (*_FEATURE, Column("originators", _members), Column("targets", _members)),
            _BY_LOCATION,
            _ONE_OF,
        ),
        EntitySpec(
            EntityType.VOICEMAIL_GROUP,
            (
                *_GROUP,
                Column("extension", _plain(cell.extension), True),
                Column("phone_number", cell.e164),
                Column("passcode", _passcode, secret=True),
                Column("notification_email", _plain(cell.email)),
            ),
            _BY_LOCATION,
        ),
        EntitySpec(
            EntityType.VIRTUAL_LINE,
            (
                Column("display_name", _NAME),
                Column("location", _NAME, True),
                Column("first_name", _NAME, True),
                Column("last_name", _NAME, True),
                *_NUMBER_COLUMNS,
            ),
            ("location", "display_name"),
            _ONE_OF,
        ),
    )
}

#: Columns that hold a whole number: an .xlsx cell Excel stored as a number is fine there.
WHOLE_NUMBER_COLUMNS = frozenset({"queue_size", *settings.WHOLE_NUMBER})


#: Columns that hold a secret (masked in every output), whatever the entity type.
SECRET_COLUMNS: frozenset[str] = frozenset(
    column.name for spec in SCHEMA.values() for column in spec.columns if column.secret
)


def mask_secrets(cells: Mapping[str, str]) -> Mapping[str, str]:
    """Cells as outputs may show them: every non-empty secret cell replaced by ``MASK``."""
    if not any(cells.get(column) for column in SECRET_COLUMNS):
        return cells
    return {
        column: MASK if column in SECRET_COLUMNS and text else text
        for column, text in cells.items()
    }


#: Every column any entity type reads, plus ``entity_type``, in template order.
KNOWN_COLUMNS: tuple[str, ...] = (
    "entity_type",
    "name",
    "display_name",
    "email",
    "first_name",
    "last_name",
    "location",
    "extension",
    "phone_number",
    "license",
    "department",
    "title",
    "members",
    "policy",
    "queue_size",
    "business_schedule",
    "hours",
    "state",
    "time_zone",
    "address1",
    "address2",
    "city",
    "postal_code",
    "country",
    "preferred_language",
    "announcement_language",
    "mac",
    "model",
    "owner",
    "originators",
    "targets",
    "recall",
    "recall_hunt_group",
    "park_extensions",
    "passcode",
    "notification_email",
    *settings.COLUMNS,
)


@attrs.frozen
class Problem:
    """One thing wrong with a row: the reason code, the column, and what is wrong."""

    reason: Reason
    column: str
    text: str

    def __str__(self) -> str:
        return f"column {self.column}: {self.text}"


@attrs.frozen
class Normalised:
    """A row's normalised values and member list, or the problems that reject it."""

    values: Mapping[str, str]
    members: tuple[str, ...]
    problems: tuple[Problem, ...]


def normalise_row(spec: EntitySpec, cells: Mapping[str, str], region: str) -> Normalised:
    """Normalise the cells of one row of ``spec``'s type; collect every problem, not the first."""
    values: dict[str, str] = {}
    problems: list[Problem] = []
    cell_of = cells.get
    for name, normalise, required, default in spec.plan:
        text = cell_of(name)
        if not text or not (text := text.strip()):
            if required:
                problems.append(Problem(Reason.MISSING_FIELD, name, "a value is required"))
            elif default:
                values[name] = default
            continue
        try:
            value = normalise(text, region)
        except cell.CellError as exc:
            problems.append(Problem(exc.reason, name, exc.problem))
            continue
        if value:
            values[name] = value
    problems.extend(_row_rules(spec, values, {p.column for p in problems}))
    members = values.pop("members", "")
    return Normalised(values, tuple(members.split(";")) if members else (), tuple(problems))


def _row_rules(spec: EntitySpec, values: dict[str, str], bad: set[str]) -> list[Problem]:
    """Rules across the columns of one row; fills the defaults that depend on other columns."""
    found: list[Problem] = []
    if spec.one_of and not any(c in values or c in bad for c in spec.one_of):
        wanted = " and/or ".join(spec.one_of)
        found.append(Problem(Reason.MISSING_FIELD, spec.one_of[0], f"give {wanted}"))
    kind = spec.entity_type
    if kind is EntityType.USER or kind is EntityType.VIRTUAL_LINE:
        if "display_name" not in values and "first_name" in values and "last_name" in values:
            values["display_name"] = f"{values['first_name']} {values['last_name']}"
    elif kind is EntityType.CALL_PARK:
        recall = values.get("recall", "parking_user_only")
        missing = "recall_hunt_group" not in values and "recall_hunt_group" not in bad
        if recall != "parking_user_only" and missing:
            text = f"required when recall is {recall}"
            found.append(Problem(Reason.MISSING_FIELD, "recall_hunt_group", text))
    elif kind is EntityType.DEVICE and "location" not in values and "location" not in bad:
        owner = values.get("owner", "")
        if owner and "@" not in owner:
            found.append(
                Problem(Reason.MISSING_FIELD, "location", "required when the owner is a workspace")
            )
    return found
