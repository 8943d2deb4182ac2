"""The property checks, runnable inside Hypothesis, from ``braggcheck replay`` and ``check``.

Each check takes a :class:`~braggcheck.testing.nanobragg.case.Case` and returns a
:class:`CheckResult`:
pass or fail, a per-parameter table (analytic vs numerical derivative and their error, for the
gradient checks), coverage events and an ``inconclusive`` flag. A check never passes vacuously: it
needs Bragg signal in the image, and a gradient check needs at least one derivative resolved well
above the finite-difference noise; otherwise it is inconclusive (the property test rejects the
example, which Hypothesis counts, instead of passing it).
"""

from __future__ import annotations

from collections.abc import Callable

from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.checks.gradient import (
    check_finite,
    check_forward_reverse,
    check_gradient,
    check_repeatable,
    steppable,
)
from braggcheck.testing.nanobragg.checks.invariants import (
    check_brightest_spot,
    check_cell_duality,
    check_distance_scaling,
    check_fluence_linearity,
    check_misset_equivalence,
    check_rotation_periodicity,
    check_valid_config,
)
from braggcheck.testing.nanobragg.checks.reference import check_reference
from braggcheck.testing.nanobragg.checks.relations import (
    check_pixel_factors,
    check_spot_values,
    check_superposition,
)
from braggcheck.testing.nanobragg.target import bragg_signal

CHECKS: dict[str, Callable[[Case], CheckResult]] = {
    "gradient": check_gradient,
    "forward_reverse": check_forward_reverse,
    "fluence_linearity": check_fluence_linearity,
    "rotation_periodicity": check_rotation_periodicity,
    "misset_equivalence": check_misset_equivalence,
    "cell_duality": check_cell_duality,
    "brightest_spot": check_brightest_spot,
    "distance_scaling": check_distance_scaling,
    "finite": check_finite,
    "repeatable": check_repeatable,
    "valid_config": check_valid_config,
    "superposition": check_superposition,
    "pixel_factors": check_pixel_factors,
    "spot_values": check_spot_values,
    "reference": check_reference,
}
"""Every property check by name (the name stored in failure files)."""

__all__ = [
    "CHECKS",
    "CheckResult",
    "Row",
    "bragg_signal",
    "check_brightest_spot",
    "check_cell_duality",
    "check_distance_scaling",
    "check_finite",
    "check_fluence_linearity",
    "check_forward_reverse",
    "check_gradient",
    "check_misset_equivalence",
    "check_pixel_factors",
    "check_repeatable",
    "check_rotation_periodicity",
    "check_spot_values",
    "check_superposition",
    "check_valid_config",
    "steppable",
]
