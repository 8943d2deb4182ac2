"""braggcheck's pytest plugin (entry point ``pytest11``): inert unless a project opts in.

Installing braggcheck changes nothing in another project's pytest run: this module imports
only pytest, sets no environment variable, imports no torch, and registers or loads no
Hypothesis profile. A project opts in with the ini option ``braggcheck_profiles = true``
(braggcheck's own pyproject does): braggcheck's Hypothesis profiles (``dev`` loaded by default,
``ci``, ``nightly``; :mod:`braggcheck.testing.framework.profiles`) are then registered before
Hypothesis's own plugin applies ``--hypothesis-profile``.
"""

from __future__ import annotations

from importlib import import_module

import pytest

OPT_IN = "braggcheck_profiles"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(OPT_IN, type="bool", default=False,
                  help="register braggcheck's Hypothesis profiles (dev by default, ci, nightly)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getini(OPT_IN):
        # Imported only on opt-in: the profiles module imports Hypothesis, which a project
        # that never asked for braggcheck's profiles should not pay for or be changed by.
        import_module("braggcheck.testing.framework.profiles").register_profiles()
