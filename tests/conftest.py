"""Shared fixtures: the golden reference cases copied from the C program's runs."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import torch

from braggcheck.sim.compilation import DISABLE_VARIABLES

# This repository's own tests check the eager code (and compiling costs minutes on a 2-core
# CPU): torch.compile is off for this test session only, set here and not by the installed
# plugin, so another project's pytest run never inherits it.
os.environ[DISABLE_VARIABLES[0]] = "1"

GOLDEN = Path(__file__).parent / "data" / "golden"


@pytest.fixture(scope="session")
def golden_cases() -> dict[str, dict]:
    return json.loads((GOLDEN / "cases.json").read_text())


def _deselect(config: pytest.Config, items: list[pytest.Item], marker: str) -> None:
    deselected = [item for item in items if item.get_closest_marker(marker)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(marker)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without $NANOBRAGG_REFERENCE the ``reference`` tests are deselected, without a CUDA
    device the ``cuda`` tests (tests/cuda), and without the caustics package
    (``pip install '.[interop]'``) the ``interop`` tests: reported as deselected, never
    skipped, since there is nothing to run them against and a skip would read as a pass. Where
    CUDA is available the ``cuda`` tests run by default."""
    if not os.environ.get("NANOBRAGG_REFERENCE"):
        _deselect(config, items, "reference")
    if not torch.cuda.is_available():
        _deselect(config, items, "cuda")
    if importlib.util.find_spec("caustics") is None:
        _deselect(config, items, "interop")
