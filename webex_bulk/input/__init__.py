"""Reading the input file: encoding, header, normalisation, validation, dedupe, stable keys.

The face of the package: what the other layers use. Everything else is private to ``input``.
"""

from webex_bulk.input.csv_source import escape_cell, unescape_cell
from webex_bulk.input.data_pipeline import (
    OUTPUT_COLUMNS,
    InputFile,
    dependencies,
    read_rows,
    reference_key,
    scan,
)
from webex_bulk.input.normalise import DayHours, parse_hours
from webex_bulk.input.schema import EXAMPLES, KNOWN_COLUMNS, SCHEMA

__all__ = [
    "EXAMPLES",
    "KNOWN_COLUMNS",
    "OUTPUT_COLUMNS",
    "SCHEMA",
    "DayHours",
    "InputFile",
    "dependencies",
    "escape_cell",
    "parse_hours",
    "read_rows",
    "reference_key",
    "scan",
    "unescape_cell",
]
