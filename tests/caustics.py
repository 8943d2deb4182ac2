"""``examples/caustics_target.py``, imported by path (examples/ is not a package), and whether
caustics itself is installed (without it the ``interop`` tests are deselected)."""

from __future__ import annotations

import importlib.util
import sys

from .toy import EXAMPLES

CAUSTICS_EXAMPLES = EXAMPLES / "caustics_examples"
"""The caustics target's stored examples, replayed by every one of its properties first."""

CAUSTICS_INSTALLED = importlib.util.find_spec("caustics") is not None
"""Rendering needs the package (``pip install '.[interop]'``); the target module does not."""


def load_caustics_target():
    if "caustics_target" not in sys.modules:
        spec = importlib.util.spec_from_file_location("caustics_target",
                                                      EXAMPLES / "caustics_target.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["caustics_target"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules["caustics_target"]
