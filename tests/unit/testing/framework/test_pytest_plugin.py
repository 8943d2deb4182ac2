"""Installing braggcheck changes nothing in another project's pytest run (issue 20, item 4).

A scratch project with no braggcheck settings runs pytest in a fresh interpreter of this
environment, where braggcheck's ``pytest11`` entry point is installed. Its one test asserts the
plugin was loaded and left everything alone: no torch imported, no environment variable set, no
braggcheck profile registered or loaded (Hypothesis's own ``ci`` profile untouched under CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from braggcheck.testing.framework.profiles import PROFILES

SCRATCH_TEST = '''
import os, sys
import pytest
from hypothesis import settings
from hypothesis.errors import InvalidArgument

def test_braggcheck_left_this_session_alone(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("braggcheck"), "plugin not loaded at all"
    assert "torch" not in sys.modules
    assert not [m for m in sys.modules if m.startswith("braggcheck.sim")]
    assert "NANOBRAGG_DISABLE_COMPILE" not in os.environ
    assert settings.get_current_profile_name() in ("default", "ci")
    with pytest.raises(InvalidArgument):
        settings.get_profile("dev")
    if os.environ.get("CI"):
        assert settings.get_profile("ci").max_examples != {ci_examples}
'''


def _run_scratch(tmp_path: Path, ini: str, extra_env: dict[str, str]
                 ) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}")
    (tmp_path / "test_scratch.py").write_text(
        SCRATCH_TEST.replace("{ci_examples}", str(PROFILES["ci"]["max_examples"])))
    env = {k: v for k, v in os.environ.items()
           if k not in ("NANOBRAGG_DISABLE_COMPILE", "PYTEST_ADDOPTS", "CI")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, env={**env, **extra_env},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("extra_env", [{}, {"CI": "true"}], ids=["local", "ci"])
def test_another_project_is_not_changed(tmp_path, extra_env):
    result = _run_scratch(tmp_path, "", extra_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scratch_project_sees_a_project_that_opts_in(tmp_path):
    """The scratch test can fail: with the opt-in the profiles are registered and it says so."""
    result = _run_scratch(tmp_path, "braggcheck_profiles = true\n", {})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "get_current_profile_name" in result.stdout and "'dev'" in result.stdout


NOT_APPLICABLE_TEST = '''
import pytest

@pytest.mark.braggcheck_not_applicable("target scratch declares forward_mode = False")
def test_scratch_forward_reverse():
    raise AssertionError("a check the target cannot run must not run")

def test_other():
    pass
'''


def test_a_not_applicable_test_is_deselected_and_listed_with_its_reason(tmp_path):
    """Whatever the opt-in: never a pass, never a failure, never silent."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_na.py").write_text(NOT_APPLICABLE_TEST)
    result = subprocess.run([sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider",
                             str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 deselected" in result.stdout
    assert ("NOT APPLICABLE test_na.py::test_scratch_forward_reverse: target scratch declares "
            "forward_mode = False") in result.stdout
