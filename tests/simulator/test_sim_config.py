"""Knobs, profile files, tenant files, flags, and the small pure pieces (ids, collections)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webex_bulk.simulator import Latency, SimConfig
from webex_bulk.simulator.cli import config_from
from webex_bulk.simulator.collection import Collection
from webex_bulk.simulator.config import ConfigError, load_profile
from webex_bulk.simulator.ids import decode_id, encode_id
from webex_bulk.simulator.seed import TenantFileError, build_tenant

from .builders import tenant_config


def test_defaults_turn_every_fault_off() -> None:
    """The default config injects nothing and limits nothing."""
    config = SimConfig()
    assert config.rate_limit == 0
    assert config.latency_of("people") == Latency()
    assert config.error_probability_of("POST") == 0
    assert not config.outage


def test_merge_validates_and_merges_nested_maps() -> None:
    """Partial changes merge; nested maps merge by key; bad values and names are refused."""
    config = SimConfig(error_probability={"*": 0.1}).merged({"error_probability": {"POST": 0.5}})
    assert config.error_probability_of("POST") == 0.5
    assert config.error_probability_of("GET") == 0.1
    with pytest.raises(ConfigError):
        config.merged({"drop_after_probability": 1.5})
    with pytest.raises(ConfigError):
        config.merged({"retry_after_style": "sometimes"})
    with pytest.raises(ConfigError):
        config.merged({"latency": {"nowhere": [1, 2]}})
    with pytest.raises(ConfigError):
        config.merged({"error_statuses": [404]})
    with pytest.raises(ConfigError):
        config.merged({"unknown": 1})


def test_config_json_round_trip() -> None:
    """to_json gives back a mapping that rebuilds the same config."""
    config = SimConfig(
        seed=3,
        latency={"people": Latency(0.1, 0.4)},
        error_probability={"PUT": 0.2},
        error_statuses=(502,),
        outage=True,
    )
    assert SimConfig().merged(config.to_json()) == config


def test_profile_file_and_flags_precedence(tmp_path: Path) -> None:
    """Flags override the profile file, which overrides the defaults."""
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"seed": 4, "rate_limit": 5, "retry_after": 9}))
    flags = {
        "rate_limit": 2.0,
        "latency": ("people=0.1,0.3", "default=0.01"),
        "error_probability": ("POST=0.25",),
        "error_statuses": "502,503",
        "outage": None,
        "seed": None,
    }
    config = config_from(str(profile), flags)
    assert (config.seed, config.rate_limit, config.retry_after) == (4, 2.0, 9.0)
    assert config.latency_of("people") == Latency(0.1, 0.3)
    assert config.latency_of("devices") == Latency(0.01, 0.01)
    assert config.error_probability_of("POST") == 0.25
    assert config.error_statuses == (502, 503)
    with pytest.raises(ConfigError):
        config_from(None, {"latency": ("people",)})


def test_bad_profile_files(tmp_path: Path) -> None:
    """A profile that is not a JSON object of known knobs is refused with a message."""
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_profile(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_profile(listed)
    with pytest.raises(ConfigError, match="cannot read"):
        load_profile(tmp_path / "missing.json")


def test_tenant_file_builds_locations_people_numbers_licenses(tmp_path: Path) -> None:
    """A tenant file seeds licenses with totals, locations with PSTN, numbers and people."""
    tenant = {
        "org": {"name": "Acme"},
        "licenses": [{"name": "Webex Calling - Professional", "code": "BCSTD", "total": 5}],
        "locations": [
            {"name": "HQ", "pstn": "CISCO_CALLING_PLAN", "numbers": ["+12025550100"]},
            {"name": "Lab", "calling": False},
        ],
        "numbers": [{"phoneNumber": "+12025550101", "location": "HQ", "state": "inactive"}],
        "people": [
            {
                "email": "Ann@Example.com",
                "firstName": "Ann",
                "lastName": "A",
                "location": "HQ",
                "extension": "1001",
                "phoneNumber": "+12025550102",
            }
        ],
    }
    state = build_tenant(tenant_config(tmp_path, tenant))
    assert state.org.name == "Acme"
    hq = state.locations.get(state.location_by_name["HQ"])
    assert hq is not None
    assert (hq.pstn, hq.calling, hq.main_number) == ("CISCO_CALLING_PLAN", True, "+12025550100")
    lab = state.locations.get(state.location_by_name["Lab"])
    assert lab is not None
    assert not lab.calling
    ann = state.people.get(state.person_by_email["ann@example.com"])
    assert ann is not None
    assert ann.line is not None
    assert (ann.line.extension, ann.line.number) == ("1001", "+12025550102")
    inactive = state.lines.numbers.get("+12025550101")
    assert inactive is not None
    assert inactive.state == "INACTIVE"
    license = next(iter(state.licenses))
    assert (license.total, state.licenses.free(license.id)) == (5, 4)


def test_tenant_file_errors(tmp_path: Path) -> None:
    """A tenant file naming an unknown location, or breaking a rule, is refused."""
    with pytest.raises(TenantFileError, match="unknown location"):
        build_tenant(
            tenant_config(tmp_path, {"people": [{"email": "a@x.com", "location": "Nowhere"}]})
        )
    clash = {
        "locations": [{"name": "HQ"}],
        "people": [
            {"email": "a@x.com", "location": "HQ", "extension": "1001"},
            {"email": "b@x.com", "location": "HQ", "extension": "1001"},
        ],
    }
    with pytest.raises(TenantFileError, match="already in use"):
        build_tenant(tenant_config(tmp_path, clash))


def test_synthetic_people(tmp_path: Path) -> None:
    """syntheticPeople generates calling users with consecutive extensions and numbers."""
    tenant = {
        "locations": [{"name": "HQ"}],
        "syntheticPeople": {"count": 30, "location": "HQ", "firstNumber": "+12025550000"},
    }
    state = build_tenant(tenant_config(tmp_path, tenant))
    assert len(state.people) == 31  # with the admin
    person = state.people.get(state.person_by_email["user0000029@load.example.com"])
    assert person is not None
    assert person.line is not None
    assert (person.line.extension, person.line.number) == ("100029", "+12025550029")


@given(st.sampled_from(["PEOPLE", "LOCATION", "PLACE"]), st.uuids())
def test_ids_round_trip(kind: str, uuid: object) -> None:
    """An encoded id decodes to its type and inner part and carries no padding."""
    public = encode_id(kind, str(uuid))
    assert "=" not in public
    assert decode_id(public) == (kind, str(uuid))


def test_decode_rejects_non_ids() -> None:
    """Strings that are not Webex ids decode to None."""
    assert decode_id("not-an-id!") is None
    assert decode_id(encode_id("PEOPLE", "x").replace("Y2lz", "Zm9v")) is None


def test_collection_positions_survive_removal() -> None:
    """Removing a record leaves later positions and group listings intact."""
    collection: Collection[str] = Collection(lambda value: value[0])
    for key in ("a1", "b1", "a2", "b2"):
        collection.add(key, key)
    collection.remove("a1")
    assert [key for _, key in collection.entries()] == ["b1", "a2", "b2"]
    assert [key for _, key in collection.entries(after=1, group="a")] == ["a2"]
    collection.replace("b1", "a-moved")
    assert [key for _, key in collection.entries(group="a")] == ["a-moved", "a2"]
    assert [key for _, key in collection.entries(group="b")] == ["b2"]


def test_knobs_of_the_calling_routes() -> None:
    """The knobs of the newer routes round-trip through JSON, take flags, and are validated."""
    config = SimConfig(
        missing_scopes=["spark-admin:telephony_pstn_read"],
        sip_address_lag=5,
        move_job_seconds=0.5,
        activation_code_ttl=60,
        refresh_returns_same_token=True,
        number_add_conflict=True,
        refuse_workspace_calling_with_devices=False,
        new_location_pstn="NONE",
    )
    assert SimConfig().merged(config.to_json()) == config
    flagged = config_from(None, {"missing_scopes": "a,b", "number_add_conflict": True})
    assert (flagged.missing_scopes, flagged.number_add_conflict) == (("a", "b"), True)
    for bad in ({"move_job_seconds": -1}, {"missing_scopes": 3}, {"sip_address_lag": "soon"}):
        with pytest.raises(ConfigError):
            SimConfig().merged(bad)
