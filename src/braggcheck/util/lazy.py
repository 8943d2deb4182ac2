"""Facade modules whose names are imported on first use (PEP 562).

The facades ``braggcheck`` and ``braggcheck.testing`` name what lives in heavy modules (torch,
the simulator); loading them only when a name is used keeps ``import braggcheck.testing.framework``
free of the simulator and the pytest plugin free of torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_attributes(module: str, homes: Mapping[str, str], public: Iterable[str]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(``__getattr__``, ``__dir__``) for ``module``: each name of ``homes`` is imported from
    its home module on first use and kept in ``module``'s namespace."""
    names = tuple(public)

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[module], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[module]), *names})

    return getattr_, dir_
