"""braggcheck's property-based gradient testing framework, for any differentiable target.

The public API (``__all__``): declare a :class:`Target` (docs/targets.md,
``examples/toy_target.py``) and get the property suite (:func:`property_tests`), a Tier-2 table
(:class:`TableCase`, :func:`run_case`), stored failures and :func:`replay`. Everything here
comes from :mod:`braggcheck.testing.framework`, which works on any target and loads none of
braggcheck's simulator; the tolerances are in :mod:`braggcheck.testing.framework.tolerances`.
braggcheck's own simulator is target number one, in :mod:`braggcheck.testing.nanobragg`
(``braggcheck.testing.nanobragg.target.NANOBRAGG``).

The names are loaded on first use (PEP 562), so importing this package, e.g. for the pytest
plugin below it, costs nothing until a name is used.
"""

from __future__ import annotations

import typing as _typing

from braggcheck.util.lazy import lazy_attributes as _lazy_attributes

if _typing.TYPE_CHECKING:
    from braggcheck.testing.framework.case import TargetCase, case_from_json, case_to_json
    from braggcheck.testing.framework.checks import (
        check_forward_reverse,
        check_gradient,
        check_taylor,
    )
    from braggcheck.testing.framework.derivatives import (
        TaylorResult,
        convergence_rates,
        taylor_remainders,
    )
    from braggcheck.testing.framework.differences import Differences, central_differences
    from braggcheck.testing.framework.harness import (
        TARGET_CHECKS,
        PropertyFailure,
        TargetCheck,
        default_cases,
        property_tests,
        read_target_case,
        replay,
        stored_cases,
    )
    from braggcheck.testing.framework.invariants import (
        check_finite,
        check_linearity,
        check_periodicity,
        check_repeatable,
    )
    from braggcheck.testing.framework.loader import load_target, target_spec
    from braggcheck.testing.framework.probe import Probe
    from braggcheck.testing.framework.profiles import register_profiles
    from braggcheck.testing.framework.projection import Projection
    from braggcheck.testing.framework.results import CheckResult, Row
    from braggcheck.testing.framework.strategies import (
        parameter_values,
        projections,
        target_cases,
    )
    from braggcheck.testing.framework.table import (
        CaseOutcome,
        TableCase,
        default_table,
        missing_parameters,
        run_case,
    )
    from braggcheck.testing.framework.target import (
        Capabilities,
        ParameterSpec,
        Target,
        applicable,
        linear,
        periodic,
        steppable,
    )

_HOMES = {
    "TARGET_CHECKS": "braggcheck.testing.framework.harness",
    "Capabilities": "braggcheck.testing.framework.target",
    "CaseOutcome": "braggcheck.testing.framework.table",
    "CheckResult": "braggcheck.testing.framework.results",
    "Differences": "braggcheck.testing.framework.differences",
    "ParameterSpec": "braggcheck.testing.framework.target",
    "Probe": "braggcheck.testing.framework.probe",
    "Projection": "braggcheck.testing.framework.projection",
    "PropertyFailure": "braggcheck.testing.framework.harness",
    "Row": "braggcheck.testing.framework.results",
    "TableCase": "braggcheck.testing.framework.table",
    "Target": "braggcheck.testing.framework.target",
    "TargetCase": "braggcheck.testing.framework.case",
    "TargetCheck": "braggcheck.testing.framework.harness",
    "TaylorResult": "braggcheck.testing.framework.derivatives",
    "applicable": "braggcheck.testing.framework.target",
    "case_from_json": "braggcheck.testing.framework.case",
    "case_to_json": "braggcheck.testing.framework.case",
    "central_differences": "braggcheck.testing.framework.differences",
    "check_finite": "braggcheck.testing.framework.invariants",
    "check_forward_reverse": "braggcheck.testing.framework.checks",
    "check_gradient": "braggcheck.testing.framework.checks",
    "check_linearity": "braggcheck.testing.framework.invariants",
    "check_periodicity": "braggcheck.testing.framework.invariants",
    "check_repeatable": "braggcheck.testing.framework.invariants",
    "check_taylor": "braggcheck.testing.framework.checks",
    "convergence_rates": "braggcheck.testing.framework.derivatives",
    "default_cases": "braggcheck.testing.framework.harness",
    "default_table": "braggcheck.testing.framework.table",
    "linear": "braggcheck.testing.framework.target",
    "load_target": "braggcheck.testing.framework.loader",
    "missing_parameters": "braggcheck.testing.framework.table",
    "parameter_values": "braggcheck.testing.framework.strategies",
    "periodic": "braggcheck.testing.framework.target",
    "projections": "braggcheck.testing.framework.strategies",
    "property_tests": "braggcheck.testing.framework.harness",
    "read_target_case": "braggcheck.testing.framework.harness",
    "register_profiles": "braggcheck.testing.framework.profiles",
    "replay": "braggcheck.testing.framework.harness",
    "run_case": "braggcheck.testing.framework.table",
    "steppable": "braggcheck.testing.framework.target",
    "stored_cases": "braggcheck.testing.framework.harness",
    "target_cases": "braggcheck.testing.framework.strategies",
    "target_spec": "braggcheck.testing.framework.loader",
    "taylor_remainders": "braggcheck.testing.framework.derivatives",
}

__all__ = [
    "TARGET_CHECKS",
    "Capabilities",
    "CaseOutcome",
    "CheckResult",
    "Differences",
    "ParameterSpec",
    "Probe",
    "Projection",
    "PropertyFailure",
    "Row",
    "TableCase",
    "Target",
    "TargetCase",
    "TargetCheck",
    "TaylorResult",
    "applicable",
    "case_from_json",
    "case_to_json",
    "central_differences",
    "check_finite",
    "check_forward_reverse",
    "check_gradient",
    "check_linearity",
    "check_periodicity",
    "check_repeatable",
    "check_taylor",
    "convergence_rates",
    "default_cases",
    "default_table",
    "linear",
    "load_target",
    "missing_parameters",
    "parameter_values",
    "periodic",
    "projections",
    "property_tests",
    "read_target_case",
    "register_profiles",
    "replay",
    "run_case",
    "steppable",
    "stored_cases",
    "target_cases",
    "target_spec",
    "taylor_remainders",
]

__getattr__, __dir__ = _lazy_attributes(__name__, _HOMES, __all__)
