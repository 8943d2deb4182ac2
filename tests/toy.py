"""``examples/toy_target.py``, imported by path (examples/ is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TOY_EXAMPLES = EXAMPLES / "toy_examples"
"""The toy's stored examples, replayed by every toy property first."""


def load_toy():
    if "toy_target" not in sys.modules:
        spec = importlib.util.spec_from_file_location("toy_target", EXAMPLES / "toy_target.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["toy_target"] = module  # dataclasses look their module up while defined
        spec.loader.exec_module(module)
    return sys.modules["toy_target"]
