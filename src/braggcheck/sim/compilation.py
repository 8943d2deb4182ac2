"""When to use ``torch.compile``: optional speed, never needed for correctness.

Decision (docs/compile.md): compilation is off on CPU unless ``NANOBRAGG_COMPILE=1`` asks for
it, because on a 2-core machine its start-up cost exceeds what it saves for one image; on CUDA
it is on by default. ``NANOBRAGG_DISABLE_COMPILE=1`` (canonical) or its old alias
``NB_DISABLE_COMPILE=1`` turns it off everywhere and wins over everything else. The gradient
tests set the canonical switch themselves (braggcheck's pytest plugin).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import torch

from braggcheck.sim import fused_pixels

DISABLE_VARIABLES = ("NANOBRAGG_DISABLE_COMPILE", "NB_DISABLE_COMPILE")
ENABLE_VARIABLE = "NANOBRAGG_COMPILE"
F = TypeVar("F", bound=Callable)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def compile_disabled() -> bool:
    """True when either disable switch is set."""
    return any(_truthy(name) for name in DISABLE_VARIABLES)


def compile_wanted(device: torch.device) -> bool:
    if compile_disabled():
        return False
    if _truthy(ENABLE_VARIABLE):
        return True
    return device.type == "cuda"


@cache
def _compiled(function: Callable) -> Callable:
    fused_pixels.prepare_for_compile()
    return torch.compile(function, dynamic=True)


def maybe_compile(function: F, device: torch.device) -> F:
    """``function`` compiled when :func:`compile_wanted` says so, else itself."""
    return _compiled(function) if compile_wanted(device) else function
