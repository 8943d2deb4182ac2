"""braggcheck's pytest plugin (entry point ``pytest11``): inert unless a project opts in.

Installing braggcheck changes nothing in another project's pytest run: this module imports
only pytest, sets no environment variable, imports no torch, and registers or loads no
Hypothesis profile. A project opts in with the ini option ``braggcheck_profiles = true``
(braggcheck's own pyproject does): braggcheck's Hypothesis profiles (``dev`` loaded by default,
``ci``, ``nightly``; :mod:`braggcheck.testing.framework.profiles`) are then registered before
Hypothesis's own plugin applies ``--hypothesis-profile``.

Whatever the opt-in, a property test that ``property_tests`` marked ``braggcheck_not_applicable``
(a check its target cannot run) is deselected and listed with its reason at the end of the run:
never a pass, never a failure, never silent. A project without such tests sees nothing.
"""

from __future__ import annotations

from importlib import import_module

import pytest

OPT_IN = "braggcheck_profiles"
NOT_APPLICABLE = "braggcheck_not_applicable"
"""The mark of a property test its target cannot run (harness.NOT_APPLICABLE_MARK)."""
_NOT_APPLICABLE = pytest.StashKey[list[tuple[str, str]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(OPT_IN, type="bool", default=False,
                  help="register braggcheck's Hypothesis profiles (dev by default, ci, nightly)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{NOT_APPLICABLE}(reason): a check the target cannot "
                            "run; deselected and listed with its reason by braggcheck")
    if config.getini(OPT_IN):
        # Imported only on opt-in: the profiles module imports Hypothesis, which a project
        # that never asked for braggcheck's profiles should not pay for or be changed by.
        import_module("braggcheck.testing.framework.profiles").register_profiles()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [(item, mark) for item in items
              if (mark := item.get_closest_marker(NOT_APPLICABLE)) is not None]
    if not marked:
        return
    config.stash[_NOT_APPLICABLE] = [(item.nodeid, str(mark.args[0] if mark.args else ""))
                                     for item, mark in marked]
    chosen = {id(item) for item, _ in marked}
    config.hook.pytest_deselected(items=[item for item, _ in marked])
    items[:] = [item for item in items if id(item) not in chosen]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    listed = config.stash.get(_NOT_APPLICABLE, [])
    if listed:
        terminalreporter.section("braggcheck: NOT APPLICABLE (deselected)")
        for nodeid, reason in listed:
            terminalreporter.line(f"NOT APPLICABLE {nodeid}: {reason}")
