"""Errors raised for invalid user input."""


class ConfigError(ValueError):
    """A configuration field, flag or input file is invalid.

    The message is one line that names the field (or flag, or file and line) and says what would
    be valid, so the CLI can print it as is.
    """
