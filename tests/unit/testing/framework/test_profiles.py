"""The Hypothesis profiles shipped with braggcheck and registered by its pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import settings

from braggcheck.testing.framework.profiles import PROFILES

EVERY_SETTING = {"backend", "database", "deadline", "derandomize", "max_examples", "phases",
                 "print_blob", "report_multiple_bugs", "stateful_step_count",
                 "suppress_health_check", "verbosity"}


def test_profiles_are_registered_by_the_plugin_on_this_projects_opt_in():
    for name in ("dev", "ci", "nightly"):
        settings.get_profile(name)  # raises InvalidArgument if the plugin did not register it


def test_ci_profile_gives_every_setting_explicitly():
    assert set(PROFILES["ci"]) == EVERY_SETTING
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None and ci.deadline is None and ci.print_blob


def _loaded_profile(env: dict, *args: str) -> str:
    code = ("from braggcheck.testing.framework.profiles import register_profiles\n"
            "register_profiles()\nfrom hypothesis import settings\n"
            "s = settings.default\nprint(s.max_examples, s.derandomize, s.database is None)")
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_ci_environment_and_explicit_profile_mean_the_same():
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD")}
    ci = PROFILES["ci"]
    expected = f"{ci['max_examples']} True True"
    assert _loaded_profile({**env, "CI": "true"}) == expected
    dev = _loaded_profile(env)
    assert dev.split()[0] == str(PROFILES["dev"]["max_examples"])
