"""Settings precedence (flags > env > TOML > defaults), limits, errors, and credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webex_bulk.config import AUTO, SPECS, Settings, env_warnings, load_settings
from webex_bulk.credentials import load_credentials
from webex_bulk.error_handling import ConfigError


def toml(tmp_path: Path, text: str) -> Path:
    """A TOML settings file."""
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_given() -> None:
    """With no flag, variable or file, every setting has its SPECS default."""
    settings = load_settings({}, {}, None)
    assert settings == Settings()
    for key, spec in SPECS.items():
        assert getattr(settings, key) == spec.default


def test_flags_beat_env_beat_file_beat_defaults(tmp_path: Path) -> None:
    """Each source overrides the ones below it, key by key."""
    path = toml(tmp_path, "concurrency = 2\nrate = 3.0\nmax_attempts = 5\n")
    env = {"WEBEX_BULK_RATE": "4", "WEBEX_BULK_MAX_ATTEMPTS": "6"}
    settings = load_settings({"max_attempts": 7, "concurrency": None}, env, path)
    assert settings.concurrency == 2  # file (the flag was not given)
    assert settings.rate == 4.0  # env over file
    assert settings.max_attempts == 7  # flag over env
    assert settings.backoff_base == SPECS["backoff_base"].default  # default


def test_file_may_use_a_webex_bulk_table(tmp_path: Path) -> None:
    """Settings may sit under a [webex_bulk] table."""
    path = toml(tmp_path, '[webex_bulk]\ndefault_region = "gb"\n')
    assert load_settings({}, {}, path).default_region == "GB"


def test_unknown_key_in_the_file_names_key_and_file(tmp_path: Path) -> None:
    """An unknown key in the TOML file is an error naming the key and the file."""
    path = toml(tmp_path, "concurency = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({}, {}, path)
    assert caught.value.key == "concurency"
    assert str(path) in caught.value.source
    assert "known settings" in str(caught.value)


def test_unknown_environment_variable_is_a_warning_naming_the_closest_key() -> None:
    """An unknown WEBEX_BULK_* variable is ignored with a warning that suggests a known key."""
    env = {"WEBEX_BULK_CONCURENCY": "9"}
    assert load_settings({}, env, None) == load_settings({}, {}, None)
    assert env_warnings(env) == [
        "environment variable WEBEX_BULK_CONCURENCY is not a setting and is ignored; "
        "did you mean WEBEX_BULK_CONCURRENCY?"
    ]


def test_kubernetes_service_link_variables_are_ignored_silently() -> None:
    """Variables Kubernetes injects for a Service named webex-bulk are no settings, no warnings."""
    env = {
        "WEBEX_BULK_PORT": "tcp://10.0.0.7:443",
        "WEBEX_BULK_SERVICE_HOST": "10.0.0.7",
        "WEBEX_BULK_SERVICE_PORT": "443",
        "WEBEX_BULK_SERVICE_PORT_HTTPS": "443",
        "WEBEX_BULK_PORT_443_TCP": "tcp://10.0.0.7:443",
        "WEBEX_BULK_PORT_443_TCP_PROTO": "tcp",
        "WEBEX_BULK_PORT_443_TCP_PORT": "443",
        "WEBEX_BULK_PORT_443_TCP_ADDR": "10.0.0.7",
        "WEBEX_BULK_RATE": "7",
    }
    assert load_settings({}, env, None).rate == 7
    assert env_warnings(env) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("concurrency", "0"), ("concurrency", "65"), ("rate", "1001"), ("max_cell", "8")],
)
def test_out_of_range_values_name_their_source(key: str, value: str) -> None:
    """Values outside the hard limits are refused, naming the environment variable."""
    name = f"WEBEX_BULK_{key.upper()}"
    with pytest.raises(ConfigError) as caught:
        load_settings({}, {name: value}, None)
    assert caught.value.key == key
    assert name in caught.value.source
    assert "outside" in caught.value.problem


def test_out_of_range_flag_names_the_flag() -> None:
    """A flag out of range names the flag."""
    with pytest.raises(ConfigError, match="flag --max-rows"):
        load_settings({"max_rows": 0}, {}, None)


def test_choices_are_enforced() -> None:
    """An enumerated setting refuses other values."""
    with pytest.raises(ConfigError, match="not one of"):
        load_settings({}, {"WEBEX_BULK_LOG_FORMAT": "xml"}, None)


def test_unparseable_value_is_refused() -> None:
    """Text that does not parse as the setting's type is refused."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings({}, {"WEBEX_BULK_CONCURRENCY": "many"}, None)


@pytest.mark.parametrize("text", ["concurrency = true\n", "concurrency = 2.5\n"])
def test_toml_types_are_strict(tmp_path: Path, text: str) -> None:
    """A boolean or a fractional number for a whole-number setting is refused."""
    with pytest.raises(ConfigError):
        load_settings({}, {}, toml(tmp_path, text))


def test_rate_auto() -> None:
    """rate 'auto' is its own value, AUTO (not a number), and reported by rate_auto."""
    settings = load_settings({}, {"WEBEX_BULK_RATE": "Auto"}, None)
    assert settings.rate is AUTO
    assert settings.rate_auto
    assert not load_settings({"rate": 20}, {}, None).rate_auto


def test_a_zero_rate_is_refused_not_taken_for_auto() -> None:
    """rate 0 is out of range: 'auto' must be written as such."""
    with pytest.raises(ConfigError, match="outside"):
        load_settings({}, {"WEBEX_BULK_RATE": "0"}, None)


@pytest.mark.parametrize(
    ("key", "value"),
    [("concurrency", 2.5), ("concurrency", True), ("backoff_base", "x"), ("log_format", 3)],
)
def test_settings_built_in_code_refuse_a_wrong_type(key: str, value: object) -> None:
    """A Settings built in code reads each field like the loader: a wrong type is refused."""
    with pytest.raises((TypeError, ValueError)):
        Settings(**{key: value})  # a wrong type on purpose


def test_settings_built_in_code_read_text_and_may_pass_the_limits() -> None:
    """Code may build settings beyond a person's limits (tests do), but always of the right type."""
    settings = Settings(concurrency="8", breaker_threshold=1_000_000)
    assert settings.concurrency == 8
    assert settings.breaker_threshold == 1_000_000


def test_numbers_are_stored_with_their_field_type() -> None:
    """A whole number given for a seconds setting is stored as a float, from any source."""
    settings = load_settings({"backoff_base": 2}, {"WEBEX_BULK_READ_TIMEOUT": "5"}, None)
    assert type(settings.backoff_base) is float
    assert type(settings.read_timeout) is float
    assert type(load_settings({"concurrency": 4.0}, {}, None).concurrency) is int


def test_text_settings_refuse_other_toml_types(tmp_path: Path) -> None:
    """A number for a text setting in the TOML file is refused, naming the key."""
    with pytest.raises(ConfigError, match="base_url"):
        load_settings({}, {}, toml(tmp_path, "base_url = 3\n"))


def test_create_people_from_every_source(tmp_path: Path) -> None:
    """create_people is on by default; a TOML boolean, a variable's text or the flag turns it
    off, with the usual precedence; anything but yes/no is refused naming its source."""
    assert Settings().create_people is True
    path = toml(tmp_path, "create_people = false\n")
    assert load_settings({}, {}, path).create_people is False
    assert load_settings({}, {"WEBEX_BULK_CREATE_PEOPLE": "yes"}, path).create_people is True
    off = load_settings({"create_people": False}, {"WEBEX_BULK_CREATE_PEOPLE": "on"}, None)
    assert off.create_people is False
    with pytest.raises(ConfigError, match="WEBEX_BULK_CREATE_PEOPLE"):
        load_settings({}, {"WEBEX_BULK_CREATE_PEOPLE": "maybe"}, None)
    with pytest.raises(ConfigError, match="create_people"):
        load_settings({}, {}, toml(tmp_path, "create_people = 1\n"))


def test_empty_delimiter_means_sniffed() -> None:
    """An empty delimiter is the same as none: sniff it."""
    assert load_settings({}, {"WEBEX_BULK_DELIMITER": ""}, None).delimiter is None


def test_secret_and_config_variables_are_not_settings() -> None:
    """Token, client and config variables are skipped by the settings loader."""
    env = {
        "WEBEX_BULK_TOKEN": "t",
        "WEBEX_BULK_TOKEN_FILE": "/nowhere",
        "WEBEX_BULK_CLIENT_ID": "c",
        "WEBEX_BULK_CLIENT_SECRET": "s",
        "WEBEX_BULK_REFRESH_TOKEN": "r",
        "WEBEX_BULK_CONFIG": "/nowhere.toml",
    }
    assert load_settings({}, env, None) == Settings()


def test_bad_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    """A file that is not TOML, or not there, is a ConfigError naming the file."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, {}, toml(tmp_path, "rate = = 3"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings({}, {}, tmp_path / "missing.toml")


def test_fingerprint_names_the_tenant_only() -> None:
    """The fingerprint holds the base URL (no trailing slash) and the org, nothing else."""
    settings = Settings(base_url="https://example.test/v1/", org_id="org-1")
    assert settings.fingerprint() == {"base_url": "https://example.test/v1", "org_id": "org-1"}


# -- credentials ------------------------------------------------------------------------------


def test_token_from_environment_and_repr_hides_it() -> None:
    """WEBEX_BULK_TOKEN wins over WEBEX_TOKEN; repr never shows a secret."""
    creds = load_credentials({"WEBEX_TOKEN": "old-secret", "WEBEX_BULK_TOKEN": "new-secret"})
    assert creds.access_token == "new-secret"
    assert "secret" not in repr(creds)
    assert creds.secrets() == ("new-secret",)


def test_refresh_grant_from_a_token_file_with_env_override(tmp_path: Path) -> None:
    """The token file supplies a refresh grant; environment variables win over it."""
    path = tmp_path / "token.json"
    path.write_text(
        json.dumps(
            {
                "access_token": "a-secret",
                "refresh_token": "r-secret",
                "client_id": "id",
                "client_secret": "c-secret",
            }
        ),
        encoding="utf-8",
    )
    creds = load_credentials(
        {"WEBEX_BULK_TOKEN_FILE": str(path), "WEBEX_BULK_CLIENT_SECRET": "env-secret"}
    )
    assert creds.can_refresh
    assert creds.client_secret == "env-secret"
    assert creds.token_file == path
    assert "secret" not in repr(creds)


def test_the_token_files_refresh_token_beats_a_stale_variable(tmp_path: Path) -> None:
    """After a rotation the file holds the live refresh token; a variable naming the retired one
    does not win over it (without a file, the variable is used)."""
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"refresh_token": "rotated-secret"}), encoding="utf-8")
    stale = {"WEBEX_BULK_REFRESH_TOKEN": "retired-secret"}
    assert load_credentials({**stale, "WEBEX_BULK_TOKEN_FILE": str(path)}).refresh_token == (
        "rotated-secret"
    )
    assert load_credentials(stale).refresh_token == "retired-secret"


def test_bad_token_file_is_a_config_error(tmp_path: Path) -> None:
    """A token file that is missing or not a JSON object is a ConfigError."""
    path = tmp_path / "token.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="JSON object"):
        load_credentials({"WEBEX_BULK_TOKEN_FILE": str(path)})
    with pytest.raises(ConfigError, match="cannot read"):
        load_credentials({"WEBEX_BULK_TOKEN_FILE": str(tmp_path / "none.json")})
