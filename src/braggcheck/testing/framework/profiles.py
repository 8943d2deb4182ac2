"""Hypothesis settings profiles shipped with braggcheck: ``dev``, ``ci`` and ``nightly``.

The pytest plugin registers them when pytest starts, so they work from a clean clone:
``pytest --hypothesis-profile ci``. ``dev`` is loaded by default. Hypothesis itself loads a
profile named ``ci`` whenever it detects a CI environment (``CI=true``); ours is registered
under that very name with every setting given explicitly (re-registering the loaded profile
reloads it), so ``CI=true pytest`` and ``pytest --hypothesis-profile ci`` mean the same run.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from braggcheck.util.errors import ConfigError

DATABASE_VARIABLE = "BRAGGCHECK_EXAMPLE_DATABASE"
"""Where the dev and nightly profiles (and HypoFuzz, which uses them) keep Hypothesis's example
database: a folder (shared storage: several machines, one database) or ``redis://host:port/n``.
Unset: Hypothesis's own ``.hypothesis/examples``. The ci profile never uses one (reproducible)."""


def shared_database(value: str | None = None) -> ExampleDatabase | None:
    """The database ``BRAGGCHECK_EXAMPLE_DATABASE`` names, or None for Hypothesis's default."""
    value = os.environ.get(DATABASE_VARIABLE) if value is None else value
    if not value:
        return None
    if value.startswith(("redis://", "rediss://")):
        try:
            from hypothesis.extra.redis import RedisExampleDatabase
            from redis import Redis
        except ImportError:
            raise ConfigError(f"{DATABASE_VARIABLE} = {value!r}: a Redis database needs "
                              "pip install 'hypothesis[redis]'") from None
        return RedisExampleDatabase(Redis.from_url(value))
    return DirectoryBasedExampleDatabase(value)

ALL_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink,
              Phase.explain)

PROFILES: dict[str, dict[str, Any]] = {
    # Fast local runs: few examples, Hypothesis's example database on (failures replay first).
    "dev": {
        "max_examples": 8,
        "deadline": None,  # first calls pay one-off torch start-up costs; timing is not tested
        "suppress_health_check": [HealthCheck.too_slow],
    },
    # CI: reproducible. Every setting explicit so that it does not matter which path loaded it.
    "ci": {
        "backend": "hypothesis",
        "database": None,
        "deadline": None,
        "derandomize": True,
        "max_examples": 40,
        "phases": ALL_PHASES,
        "print_blob": True,
        "report_multiple_bugs": True,
        "stateful_step_count": 50,
        "suppress_health_check": [HealthCheck.too_slow],
        "verbosity": Verbosity.normal,
    },
    # Thorough scheduled runs: many random examples.
    "nightly": {
        "max_examples": 500,
        "deadline": None,
        "print_blob": True,
        "suppress_health_check": [HealthCheck.too_slow],
    },
}
DEFAULT_PROFILE = "dev"


def register_profiles() -> None:
    """Register every profile; keep a CI-selected ``ci`` profile, else load ``dev``."""
    database = shared_database()
    for name, values in PROFILES.items():
        if database is not None and "database" not in values:
            values = {**values, "database": database}
        settings.register_profile(name, **values)
    current = getattr(settings, "_current_profile", None)
    in_ci = current == "ci" if current is not None else bool(os.environ.get("CI"))
    if not in_ci and current in (None, "default"):
        settings.load_profile(DEFAULT_PROFILE)
