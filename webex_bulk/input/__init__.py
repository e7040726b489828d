"""Reading the input file: encoding, header, normalisation, validation, dedupe, stable keys."""
