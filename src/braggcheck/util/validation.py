"""Small checks that turn a bad field value into a one-line :class:`ConfigError`.

Values may be Python numbers or tensors (a tensor keeps its graph: the checks only read it).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from braggcheck.util.errors import ConfigError


def _all(condition: Any) -> bool:
    if isinstance(condition, torch.Tensor):
        return bool(condition.all())
    return bool(condition)


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() == 1:
            return repr(float(value.detach()))
        return f"tensor of shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return _all(torch.isfinite(value.detach()))
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False
    except TypeError as exc:
        raise ConfigError(f"expected a number, got {value!r}") from exc


def check_number(
    field: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = False,
    high_inclusive: bool = False,
) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number inside the given bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float | torch.Tensor):
        raise ConfigError(f"{field}: expected a number (int, float or scalar tensor), "
                          f"got {_show_type(value)}")
    if isinstance(value, torch.Tensor) and (
        value.numel() != 1 or value.dtype == torch.bool or value.is_complex()
    ):
        # Comparisons below would fail (complex) or mean something else (shapes, bools).
        raise ConfigError(f"{field}: expected a real scalar tensor, got dtype {value.dtype} "
                          f"and shape {tuple(value.shape)}")
    if not _is_finite(value):
        raise ConfigError(f"{field} = {_show(value)} is not finite; give a finite number")
    below = low is not None and not _all(value >= low if low_inclusive else value > low)
    above = high is not None and not _all(value <= high if high_inclusive else value < high)
    if below or above:
        raise ConfigError(
            f"{field} = {_show(value)} is out of range; valid: "
            f"{describe_range(low, high, low_inclusive, high_inclusive)}"
        )


def _show_type(value: Any) -> str:
    """A short repr naming the type too, cut so that the message stays one readable line."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_int(field: str, value: Any, low: int, high: int | None = None) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an int in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{field}: expected an integer, got {_show_type(value)}")
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and <= {high}"
        raise ConfigError(f"{field} = {_show(value)} is out of range; valid: an integer >= "
                          f"{low}{upper}")


def check_bool(field: str, value: Any) -> None:
    """Raise :class:`ConfigError` unless ``value`` is True or False (a string would be truthy)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{field}: expected True or False, got {_show_type(value)}")


def check_vector(field: str, value: Any) -> None:
    """Raise :class:`ConfigError` unless ``value`` is three finite numbers, not all zero."""
    if not isinstance(value, tuple | list) or len(value) != 3:
        raise ConfigError(f"{field}: expected three numbers (x, y, z), got {_show_type(value)}")
    for component in value:
        check_number(field, component)
    if all(float(c) == 0.0 for c in value):
        raise ConfigError(f"{field} = {tuple(value)} is the zero vector; give a direction")


def describe_range(
    low: float | None, high: float | None, low_inclusive: bool = False, high_inclusive: bool = False
) -> str:
    """Human-readable interval, e.g. ``> 0`` or ``[0, 1]``."""
    if low is None and high is None:
        return "any finite number"
    if high is None:
        return f"{'>=' if low_inclusive else '>'} {low:g}"
    if low is None:
        return f"{'<=' if high_inclusive else '<'} {high:g}"
    return f"{'[' if low_inclusive else '('}{low:g}, {high:g}{']' if high_inclusive else ')'}"


def as_float(value: float | torch.Tensor) -> float:
    """A plain float for bookkeeping outside the differentiable path (validation, auto rules)."""
    if isinstance(value, torch.Tensor):
        return float(value.detach())
    return float(value)
