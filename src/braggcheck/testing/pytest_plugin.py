"""braggcheck's pytest plugin (entry point ``pytest11``), active from a clean clone.

It turns ``torch.compile`` off for every test run (gradient tests must check the eager code,
and compilation costs minutes on a 2-core CPU), so a bare ``pytest tests/gradcheck`` is correct.
It also registers braggcheck's Hypothesis profiles (``dev`` by default, ``ci``, ``nightly``)
at import, before Hypothesis's own plugin applies ``--hypothesis-profile``.
"""

from __future__ import annotations

import os

import pytest

from braggcheck.sim.compilation import DISABLE_VARIABLES
from braggcheck.testing.profiles import register_profiles

register_profiles()


def pytest_configure(config: pytest.Config) -> None:
    os.environ[DISABLE_VARIABLES[0]] = "1"
