"""National phone numbers are read in the country of the row's location; the default is checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webex_bulk.config import Settings
from webex_bulk.error_handling import ConfigError, Reason
from webex_bulk.input.data_pipeline import read_rows, scan
from webex_bulk.models import Outcome, Row

DOCS = Path(__file__).resolve().parent.parent / "docs" / "input_schema.md"
HEADER = "entity_type,name,time_zone,address1,city,state,postal_code,country,email,location,"
HEADER += "first_name,last_name,extension,phone_number"
BERLIN = "location,Berlin,Europe/Berlin,Friedrichstraße 1,Berlin,Berlin,10117,DE,,,,,,"


def berlin_user(email: str, number: str, location: str = "Berlin") -> str:
    """A user row with a phone number."""
    return f"user,,,,,,,,{email},{location},Jan,Meier,2001,{number}"


def rows(tmp_path: Path, *lines: str, settings: Settings | None = None) -> list[Row | Outcome]:
    """Both passes over a CSV of the lines."""
    path = tmp_path / "in.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    settings = settings or Settings()
    return list(read_rows(scan(path, settings), settings))


def test_the_two_country_example_of_the_docs_validates(tmp_path: Path) -> None:
    """The documented company in two countries validates with national numbers, no flag."""
    example = re.search(r"A company in two countries.*?```csv\n(.*?)```", DOCS.read_text(), re.S)
    assert example is not None
    path = tmp_path / "two.csv"
    path.write_text(example[1], encoding="utf-8")
    found = list(read_rows(scan(path, Settings()), Settings()))
    assert all(isinstance(item, Row) for item in found), found
    numbers = {
        item.get("email") or item.get("location"): item.get("phone_number") for item in found
    }
    assert numbers["ana.lee@example.com"] == "+16175550100"
    assert numbers["jan.meier@example.com"] == "+4930901820"


def test_a_location_row_after_its_users_still_gives_the_country(tmp_path: Path) -> None:
    """The location's row may come last: its users' national numbers are still read there."""
    found = rows(tmp_path, berlin_user("jan@example.com", "030 901820"), BERLIN)
    assert isinstance(found[0], Row)
    assert found[0].get("phone_number") == "+4930901820"


def test_location_not_in_the_file_falls_back_to_the_default_region(tmp_path: Path) -> None:
    """A location the file does not hold (it may be in the tenant) uses --default-region."""
    line = berlin_user("jan@example.com", "030 901820", location="Hamburg")
    rejected = rows(tmp_path, line)[0]
    assert isinstance(rejected, Outcome)
    assert rejected.reason is Reason.INVALID_PHONE_NUMBER
    found = rows(tmp_path, line, settings=Settings(default_region="DE"))[0]
    assert isinstance(found, Row)
    assert found.get("phone_number") == "+4930901820"


def test_the_error_example_is_a_number_of_the_rows_country(tmp_path: Path) -> None:
    """A bad national number in Berlin is explained with a German example, not a US one."""
    found = rows(tmp_path, BERLIN, berlin_user("jan@example.com", "030 1"))[1]
    assert isinstance(found, Outcome)
    assert "read as a number of DE" in found.detail
    assert "e.g. +49" in found.detail


@pytest.mark.parametrize("region", ["XX", "UK", "USA", "AQ"])
def test_default_region_must_be_iso_3166_with_a_numbering_plan(tmp_path: Path, region: str) -> None:
    """An unknown --default-region stops before any row is read, naming the setting."""
    path = tmp_path / "in.csv"
    path.write_text(f"{HEADER}\n{BERLIN}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="default_region"):
        scan(path, Settings(default_region=region))
