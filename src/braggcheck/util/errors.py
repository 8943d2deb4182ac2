"""Errors raised for invalid user input."""


class ConfigError(ValueError):
    """A configuration field, flag or input file is invalid.

    The message is one line that names the field (or flag, or file and line) and says what would
    be valid, so the CLI can print it as is.
    """

    def __init__(self, message: object = "") -> None:
        # User text (a flag, a path) may hold line breaks; escape them to keep one line.
        text = "".join(
            c.encode("unicode_escape").decode() if c in LINE_BREAKS else c for c in str(message)
        )
        super().__init__(text)


LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
"""Every character ``str.splitlines`` breaks at."""


class WriteError(OSError):
    """A file could not be written. The message is one line naming the file and the reason;
    nothing partial is left under the file's name (see :mod:`braggcheck.util.file_writer`)."""

    def __init__(self, message: str) -> None:
        super().__init__(str(ConfigError(message)))  # the same one-line escaping

    def __str__(self) -> str:
        return str(self.args[0])
