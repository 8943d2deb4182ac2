"""Shared fixtures: the golden reference cases copied from the C program's runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from braggcheck.sim.compilation import DISABLE_VARIABLES

# This repository's own tests check the eager code (and compiling costs minutes on a 2-core
# CPU): torch.compile is off for this test session only, set here and not by the installed
# plugin, so another project's pytest run never inherits it.
os.environ[DISABLE_VARIABLES[0]] = "1"

GOLDEN = Path(__file__).parent / "data" / "golden"


@pytest.fixture(scope="session")
def golden_cases() -> dict[str, dict]:
    return json.loads((GOLDEN / "cases.json").read_text())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without $NANOBRAGG_REFERENCE the ``reference`` tests are deselected (reported as such),
    never skipped: there is nothing to compare against, and a skip would read as a pass."""
    if os.environ.get("NANOBRAGG_REFERENCE"):
        return
    deselected = [item for item in items if item.get_closest_marker("reference")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("reference")]
