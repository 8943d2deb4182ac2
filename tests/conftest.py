"""Shared fixtures: the golden reference cases copied from the C program's runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "data" / "golden"


@pytest.fixture(scope="session")
def golden_cases() -> dict[str, dict]:
    return json.loads((GOLDEN / "cases.json").read_text())
