"""Reading parsed flags: the last of several flags given (the reference lets the last win).
"""

from __future__ import annotations

from typing import Any


def last_flag(flags: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """Which of ``names`` came last on the command line (None if none did)."""
    for flag in reversed(flags["_order"]):
        if flag in names:
            return flag
    return None


def last_value(flags: dict[str, Any], names: tuple[str, ...], default: Any = None) -> Any:
    """The value of whichever of ``names`` came last (later flags win, as in the reference)."""
    flag = last_flag(flags, names)
    return default if flag is None else flags[flag]
