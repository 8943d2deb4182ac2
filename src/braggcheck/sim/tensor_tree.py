"""The tensors of a nested dataclass (such as a scene), read out and put back in field
order, so a chunk recomputed in the backward pass can run on fresh aliases of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass, replace
from typing import TypeVar

import torch

T = TypeVar("T")


def dataclass_tensors(node: object) -> list[torch.Tensor]:
    """The tensors of a (nested) dataclass such as :class:`Scene`, in field order."""
    found = []
    for field in fields(node):
        value = getattr(node, field.name)
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif is_dataclass(value):
            found.extend(dataclass_tensors(value))
    return found


def with_tensors(node: T, tensors: Iterator[torch.Tensor]) -> T:
    """``node`` with its tensors replaced, in :func:`dataclass_tensors` order."""
    changes = {}
    for field in fields(node):
        value = getattr(node, field.name)
        if isinstance(value, torch.Tensor):
            changes[field.name] = next(tensors)
        elif is_dataclass(value):
            changes[field.name] = with_tensors(value, tensors)
    return replace(node, **changes)
