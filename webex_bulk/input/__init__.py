"""Reading the input file (a CSV, or one sheet of an .xlsx workbook): encoding, header,
normalisation, validation, dedupe, stable keys; and the template.

The face of the package: what the other layers use. Everything else is private to ``input``.
"""

from webex_bulk.input.call_settings import COLUMNS as SETTINGS_COLUMNS
from webex_bulk.input.call_settings import GROUPS as SETTINGS_GROUPS
from webex_bulk.input.call_settings import OFF as SETTINGS_OFF
from webex_bulk.input.call_settings import WORKSPACE_GROUPS as WORKSPACE_SETTINGS_GROUPS
from webex_bulk.input.call_settings import filled_groups as filled_settings_groups
from webex_bulk.input.csv_source import escape_cell, unescape_cell
from webex_bulk.input.data_pipeline import (
    OUTPUT_COLUMNS,
    InputFile,
    read_rows,
    scan,
)
from webex_bulk.input.examples import EXAMPLES
from webex_bulk.input.near_match import did_you_mean
from webex_bulk.input.normalise import DayHours, parse_hours, render_hours
from webex_bulk.input.row_references import dependencies, member_keys, reference_key
from webex_bulk.input.schema import KNOWN_COLUMNS, SCHEMA, mask_secrets
from webex_bulk.input.template import entity_type as template_entity_type
from webex_bulk.input.template import write_csv as write_template_csv
from webex_bulk.input.template import write_xlsx as write_template_xlsx

__all__ = [
    "EXAMPLES",
    "KNOWN_COLUMNS",
    "OUTPUT_COLUMNS",
    "SCHEMA",
    "SETTINGS_COLUMNS",
    "SETTINGS_GROUPS",
    "SETTINGS_OFF",
    "WORKSPACE_SETTINGS_GROUPS",
    "DayHours",
    "InputFile",
    "dependencies",
    "did_you_mean",
    "escape_cell",
    "filled_settings_groups",
    "mask_secrets",
    "member_keys",
    "parse_hours",
    "read_rows",
    "reference_key",
    "render_hours",
    "scan",
    "template_entity_type",
    "unescape_cell",
    "write_template_csv",
    "write_template_xlsx",
]
