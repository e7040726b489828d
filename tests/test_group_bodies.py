"""Pure bodies and comparisons of the newer call features, and the secret columns of the
schema: no network, no event loop."""

from __future__ import annotations

from test_actions_support import feature_row

from webex_bulk.actions import group_bodies
from webex_bulk.input.schema import MASK, SCHEMA, SECRET_COLUMNS, mask_secrets, normalise_row
from webex_bulk.models import EntityType


def test_voicemail_extension_typed_as_a_number_compares_equal() -> None:
    """The voicemail group GET gives its extension as a JSON number: 4501 equals "4501"."""
    row = feature_row(EntityType.VOICEMAIL_GROUP, "VM", extension="4501")
    assert group_bodies.voicemail_diff(row, {"extension": 4501}, "US").differing == ()
    assert group_bodies.voicemail_diff(row, {"extension": 4502}, "US").differing == ("extension",)


def test_member_sets_ignore_order_and_take_objects_or_ids() -> None:
    """Targets compare as a set, whether the API lists objects or bare ids."""
    row = feature_row(EntityType.PAGING_GROUP, "P", extension="10")
    refs = {"originator_ids": ["a"], "target_ids": ["b", "c"]}
    remote = {"extension": "10", "originators": ["a"], "targets": [{"id": "c"}, {"id": "b"}]}
    assert group_bodies.paging_diff(row, remote, refs, "US").differing == ()
    emptied = group_bodies.paging_diff(row, {**remote, "targets": []}, refs, "US")
    assert emptied.differing == ("targets",)


def test_update_sends_the_passcode_only_when_the_row_has_one() -> None:
    """A voicemail PUT carries the passcode when given and never invents one."""
    with_code = feature_row(EntityType.VOICEMAIL_GROUP, "VM", extension="1", passcode="1234")
    assert group_bodies.voicemail_update_body(with_code, ("extension",))["passcode"] == "1234"
    without = feature_row(EntityType.VOICEMAIL_GROUP, "VM", extension="1")
    assert "passcode" not in group_bodies.voicemail_update_body(without, ("extension",))


def test_passcode_is_the_secret_column_and_its_mask_reads_as_empty() -> None:
    """Outputs mask the passcode; the mask read back is an empty cell, a bad one is refused
    without repeating it."""
    assert "passcode" in SECRET_COLUMNS
    assert mask_secrets({"name": "VM", "passcode": "1234"}) == {"name": "VM", "passcode": MASK}
    assert mask_secrets({"name": "VM", "passcode": ""}) == {"name": "VM", "passcode": ""}
    spec = SCHEMA[EntityType.VOICEMAIL_GROUP]
    cells = {"name": "VM", "location": "HQ", "extension": "10"}
    masked = normalise_row(spec, {**cells, "passcode": MASK}, "US")
    assert masked.problems == ()
    assert "passcode" not in masked.values
    bad = normalise_row(spec, {**cells, "passcode": "12ab"}, "US")
    assert [p.column for p in bad.problems] == ["passcode"]
    assert "12ab" not in str(bad.problems[0])
