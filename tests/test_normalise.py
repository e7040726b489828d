"""Cell normalisers: every rule, its error reason, and idempotence (normalising twice = once)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webex_bulk.error_handling import Reason
from webex_bulk.input import normalise as cell
from webex_bulk.input.normalise import CellError, DayHours


def reason_of(function: object, *args: str) -> Reason:
    """The reason code a normaliser raises for bad input."""
    with pytest.raises(CellError) as caught:
        function(*args)  # type: ignore[operator]
    return caught.value.reason


# -- names ------------------------------------------------------------------------------------


def test_name_collapses_whitespace_and_trims() -> None:
    """Runs of spaces, tabs and no-break spaces become one space; the ends are trimmed."""
    assert cell.name("  Ana \t  María\u00a0 López ") == "Ana María López"


def test_name_is_nfc() -> None:
    """A decomposed accent (e + combining acute) becomes the single composed character."""
    assert cell.name("Jose\u0301") == "Jos\u00e9"


def test_name_rejects_control_characters() -> None:
    """A control character that is not whitespace is an invalid value."""
    assert reason_of(cell.name, "Bob\x07") is Reason.INVALID_VALUE


def test_location_name_is_at_most_80_characters() -> None:
    """Webex Calling locations take at most 80 characters in their name."""
    assert cell.location_name("x" * 80) == "x" * 80
    assert reason_of(cell.location_name, "x" * 81) is Reason.INVALID_VALUE


# -- e-mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alice.Jones@Example.COM", "alice.jones@example.com"),
        (" bob+tag@sub.example.co.uk ", "bob+tag@sub.example.co.uk"),
        ("o'neil@example.org", "o'neil@example.org"),
    ],
)
def test_email_is_lower_cased(text: str, expected: str) -> None:
    """Valid addresses come back lower-cased and trimmed."""
    assert cell.email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "alice",
        "alice@",
        "@example.com",
        "alice@@example.com",
        "alice@example",
        "al ice@example.com",
        "alice..b@example.com",
        ".alice@example.com",
        "Alice <alice@example.com>",
        "alice@-example.com",
        "a" * 65 + "@example.com",
    ],
)
def test_email_rejects_bad_syntax(text: str) -> None:
    """Malformed addresses are rejected with invalid_email."""
    assert reason_of(cell.email, text) is Reason.INVALID_EMAIL


# -- phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+1 408 555 0100", "US", "+14085550100"),
        ("(408) 555-0101", "US", "+14085550101"),
        ("408.555.0102", "US", "+14085550102"),
        ("+44 20 7946 0100", "US", "+442079460100"),
        ("020 7946 0101", "GB", "+442079460101"),
        ("+14085550103", "GB", "+14085550103"),
    ],
)
def test_e164_reads_international_and_national_formats(
    text: str, region: str, expected: str
) -> None:
    """Numbers become E.164; national formats are read in the default region."""
    assert cell.e164(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+1 408 555 01", "US"),
        ("hello", "US"),
        ("1234", "US"),
        ("020 7946 0101", "US"),
        ("+1 408 555 0100 x12", "US"),
        ("+999 123456", "US"),
    ],
)
def test_e164_rejects_invalid_numbers(text: str, region: str) -> None:
    """Too short, unparseable, wrong-region or extension-bearing numbers are rejected."""
    assert reason_of(cell.e164, text, region) is Reason.INVALID_PHONE_NUMBER


_VALID_NUMBERS = st.one_of(
    st.integers(0, 9999).map(lambda n: f"+1 408 555 {n:04d}"),
    st.integers(0, 999).map(lambda n: f"+44 20 7946 0{n:03d}"),
    st.integers(0, 9999).map(lambda n: f"(650) 555-{n:04d}"),
)


@given(_VALID_NUMBERS)
def test_e164_round_trip(text: str) -> None:
    """An E.164 result parses back to itself, in any default region."""
    once = cell.e164(text, "US")
    assert once.startswith("+")
    assert cell.e164(once, "US") == once
    assert cell.e164(once, "GB") == once


# -- extensions, MACs -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["12", "0042", "1234567890"])
def test_extension_keeps_digits(text: str) -> None:
    """2 to 10 ASCII digits are an extension, leading zeros kept."""
    assert cell.extension(f" {text} ") == text


@pytest.mark.parametrize("text", ["1", "12345678901", "12a", "x204", "12 34", "١٢٣", "-12"])
def test_extension_rejects_other_text(text: str) -> None:
    """Too short, too long, letters, spaces, non-ASCII digits: invalid_extension."""
    assert reason_of(cell.extension, text) is Reason.INVALID_EXTENSION


@pytest.mark.parametrize(
    "text", ["00:1b:54:a1:01:01", "00-1B-54-A1-01-01", "001b.54a1.0101", "001B54A10101"]
)
def test_mac_drops_separators_and_upper_cases(text: str) -> None:
    """Colons, dashes and dots go; hex digits are upper-cased."""
    assert cell.mac(text) == "001B54A10101"


@pytest.mark.parametrize("text", ["00:1B:54:ZZ:01:01", "001B54A101", "001B54A1010101"])
def test_mac_rejects_non_hex_or_wrong_length(text: str) -> None:
    """Anything but 12 hex digits is invalid_mac."""
    assert reason_of(cell.mac, text) is Reason.INVALID_MAC


# -- time zones, countries, languages, booleans, choices ----------------------------------------


def test_time_zone_canonical_spelling() -> None:
    """IANA names are matched case-insensitively and returned in their canonical spelling."""
    assert cell.time_zone("america/new_york") == "America/New_York"
    assert cell.time_zone("Europe/London") == "Europe/London"


@pytest.mark.parametrize("text", ["Mountain Time", "PST", "America/Atlantis", "Europe"])
def test_time_zone_rejects_unknown_zones(text: str) -> None:
    """Names that are not IANA zones are invalid_time_zone."""
    assert reason_of(cell.time_zone, text) is Reason.INVALID_TIME_ZONE


@pytest.mark.parametrize(("text", "expected"), [("us", "US"), ("GBR", "GB"), (" de ", "DE")])
def test_country_alpha2(text: str, expected: str) -> None:
    """Countries come back as upper-case ISO 3166 alpha-2; alpha-3 codes are converted."""
    assert cell.country(text) == expected


def test_country_rejects_uk_with_a_hint() -> None:
    """UK is not an ISO code; the message names GB."""
    with pytest.raises(CellError, match="GB"):
        cell.country("UK")


@pytest.mark.parametrize(
    ("text", "expected"), [("es-ES", "es_es"), ("EN_us", "en_us"), ("fr", "fr"), ("pt-BR", "pt_br")]
)
def test_language_webex_form(text: str, expected: str) -> None:
    """Language tags take Webex's lower-case underscore form."""
    assert cell.language(text) == expected


@pytest.mark.parametrize("text", ["english", "xx_us", "en_zz", "en-us-x"])
def test_language_rejects_unknown_tags(text: str) -> None:
    """Unknown languages or regions are invalid_value."""
    assert reason_of(cell.language, text) is Reason.INVALID_VALUE


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yes", "true"), ("1", "true"), ("TRUE", "true"), ("no", "false"), ("0", "false")],
)
def test_boolean(text: str, expected: str) -> None:
    """yes/no/true/false/1/0 in any case become true or false."""
    assert cell.boolean(text) == expected


def test_boolean_rejects_other_words() -> None:
    """Anything else is invalid_value."""
    assert reason_of(cell.boolean, "maybe") is Reason.INVALID_VALUE


def test_choice_is_case_insensitive() -> None:
    """Enumerations accept any case and return lower case."""
    assert cell.choice(" Circular ", ("circular", "uniform")) == "circular"
    assert reason_of(cell.choice, "round", ("circular", "uniform")) is Reason.INVALID_VALUE


@pytest.mark.parametrize(("text", "expected"), [("10", "10"), ("007", "7"), ("1000", "1000")])
def test_queue_size(text: str, expected: str) -> None:
    """Queue sizes are whole numbers 1–1000 without leading zeros."""
    assert cell.queue_size(text) == expected


@pytest.mark.parametrize("text", ["0", "1001", "ten", "2.5"])
def test_queue_size_rejects_out_of_range(text: str) -> None:
    """Zero, too large or non-numeric sizes are invalid_value."""
    assert reason_of(cell.queue_size, text) is Reason.INVALID_VALUE


# -- members and owners -----------------------------------------------------------------------


def test_members_split_normalise_and_dedupe() -> None:
    """Members are split on ';', each normalised; empties and repeats are dropped, order kept."""
    text = " Bob@Example.com ;; Lobby  Phone;bob@example.com; "
    assert cell.members(text) == ("bob@example.com", "Lobby Phone")


def test_members_reject_a_bad_email() -> None:
    """A member that looks like an e-mail must be a valid one."""
    assert reason_of(cell.members, "bob@example.com;alice@") is Reason.INVALID_EMAIL


def test_owner_is_email_or_name() -> None:
    """An owner with '@' is an e-mail (lower-cased), otherwise a workspace name."""
    assert cell.owner("Bob@Example.com") == "bob@example.com"
    assert cell.owner(" Lobby   Phone ") == "Lobby Phone"


# -- business hours ---------------------------------------------------------------------------


def test_parse_hours_expands_days() -> None:
    """A day range and a single day become one DayHours per day, sorted."""
    hours = cell.parse_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    assert hours[0] == DayHours("mon", "08:00", "18:00")
    assert hours[-1] == DayHours("sat", "09:00", "13:00")
    assert [h.day for h in hours] == ["mon", "tue", "wed", "thu", "fri", "sat"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon-Fri 8:00-18:00; Sat 09:00-13:00", "mon-fri 08:00-18:00; sat 09:00-13:00"),
        ("monday - friday  08:00 - 12:00 , 13:00-17:00", "mon-fri 08:00-12:00,13:00-17:00"),
        ("sat 09:00-13:00; mon-fri 08:00-18:00", "mon-fri 08:00-18:00; sat 09:00-13:00"),
        ("mon 08:00-12:00; mon 12:00-17:00", "mon 08:00-17:00"),
        ("mon,wed,fri 09:00-17:00", "mon,wed,fri 09:00-17:00"),
        ("mon-wed 09:00-17:00; thu 09:00-17:00", "mon-thu 09:00-17:00"),
        ("mon-fri 08:00-18:00; sat 09:00-13:00", "mon-fri 08:00-18:00; sat 09:00-13:00"),
    ],
)
def test_hours_canonical_text(text: str, expected: str) -> None:
    """Hours re-render canonically: lower case, padded times, grouped days, merged spans."""
    assert cell.hours(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "mon-fri",
        "funday 08:00-18:00",
        "fri-mon 08:00-18:00",
        "mon 18:00-08:00",
        "mon 08:00-25:00",
        "mon 08:00-12:00,11:00-13:00",
        "mon 0800-1200",
        "mon 08:00",
    ],
)
def test_hours_reject_bad_text(text: str) -> None:
    """Missing spans, unknown days, backwards ranges, bad times and overlaps are invalid."""
    assert reason_of(cell.hours, text) is Reason.INVALID_VALUE


# -- idempotence ------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40
)
_DAY_SETS = st.lists(st.sampled_from(cell.DAYS), min_size=1, max_size=7, unique=True)
_SPANS = st.tuples(st.integers(0, 22), st.sampled_from([0, 15, 30, 45]), st.integers(1, 8))


def _idempotent(function: object, text: str) -> None:
    try:
        once = function(text)  # type: ignore[operator]
    except CellError:
        return
    assert function(once) == once  # type: ignore[operator]


@given(_TEXT)
def test_text_normalisers_are_idempotent(text: str) -> None:
    """For any text, every single-argument normaliser gives the same result on its result."""
    for function in (
        cell.name,
        cell.email,
        cell.extension,
        cell.mac,
        cell.time_zone,
        cell.country,
        cell.language,
        cell.boolean,
        cell.queue_size,
        cell.owner,
        cell.hours,
    ):
        _idempotent(function, text)


@given(st.text(alphabet=string.ascii_letters + "@.;- ", max_size=60))
def test_members_are_idempotent(text: str) -> None:
    """Normalised members, joined again, normalise to themselves."""
    try:
        once = cell.members(text)
    except CellError:
        return
    assert cell.members(";".join(once)) == once


@given(st.lists(st.tuples(_DAY_SETS, _SPANS), min_size=1, max_size=4))
def test_hours_are_idempotent(parts: list[tuple[list[str], tuple[int, int, int]]]) -> None:
    """Generated weekly hours render to a canonical text that parses back to the same days."""
    text = "; ".join(
        f"{','.join(days)} {hour:02d}:{minute:02d}-{min(hour + length, 23):02d}:{minute:02d}"
        for days, (hour, minute, length) in parts
    )
    try:
        once = cell.hours(text)
    except CellError:
        return
    assert cell.hours(once) == once
    assert cell.parse_hours(once) == cell.parse_hours(text)


@given(_VALID_NUMBERS, st.sampled_from(["US", "GB", "DE"]))
def test_e164_is_idempotent(text: str, region: str) -> None:
    """An E.164 result normalises to itself."""
    once = cell.e164(text, "US")
    assert cell.e164(once, region) == once
