"""Rendering the Tier-2 run: the dated Markdown report, its JSON twin and the coverage audit."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any

import torch

from braggcheck.sim.registry import PARAMETERS, VECTOR_PARAMETERS
from braggcheck.testing.framework.derivatives import TaylorResult, taylor_failure
from braggcheck.testing.framework.results import relative_cell
from braggcheck.testing.framework.table import CaseOutcome
from braggcheck.testing.framework.tolerances import MAX_MEASURED_RTOL, STEP, TAYLOR_MIN_RATE
from braggcheck.testing.nanobragg.tier2.table import (
    CANONICAL_PINS,
    CASES,
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    SETUPS,
    GradcheckCase,
    joint_probe,
)
from braggcheck.testing.nanobragg.tier2.vectors import VECTOR_CASES
from braggcheck.util.version import VERSION

TEST_MODULE = "tests/gradcheck/test_tier2.py"


@dataclass
class Tier2Run:
    """Everything one ``braggcheck report`` run measured."""

    date: str
    outcomes: list[CaseOutcome]
    taylor: TaylorResult
    taylor_self_test: TaylorResult
    wall_seconds: float
    pytest: dict[str, Any] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    pictures: list[str] = field(default_factory=list)
    """PNG file names beside the Markdown report (empty without matplotlib or --no-plots)."""

    @property
    def passed(self) -> bool:
        return (all(o.passed for o in self.outcomes) and taylor_failure(self.taylor) is None
                and taylor_failure(self.taylor_self_test) is not None
                and (self.pytest is None or self.pytest["returncode"] == 0))


def environment() -> dict[str, str]:
    return {"braggcheck": VERSION, "torch": torch.__version__,
            "python": platform.python_version(), "machine": platform.machine(),
            "threads": str(torch.get_num_threads()), "dtype": "float64", "device": "cpu"}


def node_ids(case: GradcheckCase) -> list[str]:
    """The pytest node ids that check ``case`` (the tests parametrize with ``case.id``)."""
    tests = ["test_gradcheck", "test_forward_mode"] + (["test_gradgradcheck"] if case.gradgrad
                                                       else [])
    return [f"{TEST_MODULE}::{test}[{case.id}]" for test in tests]


def _checks(case: GradcheckCase) -> str:
    return "gradcheck, forward AD, jvp" + (", gradgradcheck" if case.gradgrad else "")


def outcome_record(outcome: CaseOutcome) -> dict[str, Any]:
    case, d, second = outcome.case, outcome.derivative, outcome.second
    record: dict[str, Any] = {
        "case": case.id, "parameters": list(case.parameters), "setup": case.setup,
        "tests": node_ids(case), "checks": _checks(case),
        "analytic": d.analytic, "numerical": d.numerical,
        "max_abs_error": d.error, "max_rel_error": d.relative_error,
        "noise_floor": d.noise_floor, "eps": case.eps, "atol": outcome.atol, "rtol": 0.0,
        "second_atol": outcome.second_atol,
        "why": case.why, "weight_seed": case.weight_seed,
        "jvp": outcome.jvp, "vjp": outcome.vjp,
        "forward_reverse_rel_gap": outcome.forward_reverse_rel_gap,
        "seconds": outcome.seconds, "passed": outcome.passed, "problems": outcome.problems,
    }
    if second is not None:
        record["second_derivative"] = {
            "analytic": second.analytic, "numerical": second.numerical,
            "abs_error": second.error, "rel_error": second.relative_error,
            "noise_floor": second.noise_floor,
        }
    return record


def _taylor_record(result: TaylorResult) -> dict[str, Any]:
    return {"steps": result.steps, "remainders": result.remainders, "rates": result.rates,
            "slope": result.slope, "failure": taylor_failure(result)}


def run_record(run: Tier2Run) -> dict[str, Any]:
    """The JSON twin of the Markdown report."""
    return {
        "date": run.date, "passed": run.passed, "environment": run.environment,
        "defaults": {"eps": STEP, "eps_is_relative_to": "the registry scale of each "
                     "parameter", "tolerances": "measured per case: spread of D(h), D(2h) + 10 "
                     "x the measured rounding noise; rtol 0",
                     "torch_atol_rtol_replaced": [DEFAULT_ATOL, DEFAULT_RTOL],
                     "max_measured_rtol": MAX_MEASURED_RTOL},
        "wall_seconds": run.wall_seconds, "pytest": run.pytest,
        "cases": [outcome_record(o) for o in run.outcomes],
        "taylor": {"setup": "joint", "parameters": [*PARAMETERS, *VECTOR_PARAMETERS],
                   "structure_factors": joint_probe().vector_size(),
                   "min_rate": TAYLOR_MIN_RATE, "exact": _taylor_record(run.taylor),
                   "gradient_x_1.01": _taylor_record(run.taylor_self_test)},
    }


def _rates(result: TaylorResult) -> str:
    return ", ".join(f"{rate:.3f}" for rate in result.rates)


def markdown_report(run: Tier2Run) -> str:
    passed = sum(o.passed for o in run.outcomes)
    env = run.environment
    lines = [
        f"# Tier-2 gradient report, {run.date}",
        "",
        f"Generated by `braggcheck report` (braggcheck {env.get('braggcheck')}, torch "
        f"{env.get('torch')}, Python {env.get('python')}, {env.get('device')}, "
        f"{env.get('threads')} thread(s), float64, torch.compile off). Do not edit by hand: "
        "rerun the command.",
        "",
        f"- **Result: {'PASS' if run.passed else 'FAIL'}**: {passed}/{len(run.outcomes)} cases "
        f"passed; Taylor test over all {len(PARAMETERS)} scalar parameters and the "
        f"{joint_probe().vector_size()} structure factors of its table jointly: rates "
        f"{_rates(run.taylor)} (need >= {TAYLOR_MIN_RATE}); self-test with the gradient x 1.01: "
        f"rates {_rates(run.taylor_self_test)} "
        f"({'fails, as it must' if taylor_failure(run.taylor_self_test) else 'PASSES: broken'}).",
        f"- Wall time of this report run: {run.wall_seconds:.1f} s.",
    ]
    if run.pytest is not None:
        lines.append(f"- `pytest {run.pytest['path']}`: {run.pytest['summary']} "
                     f"({run.pytest['wall_seconds']:.1f} s wall, exit {run.pytest['returncode']}).")
    lines += [
        "",
        "Each case is a scalar loss through the full image (fixed random pixel weights, "
        "normalised by the baseline image) as a function of x = parameter / registry scale, so "
        f"eps = {STEP:g} is a relative step. Tolerances are measured, not chosen: atol "
        "is the spread between the central differences at steps h and 2h plus 10x their "
        "measured rounding noise (rtol 0), for gradgradcheck the same of the gradient's "
        f"differences; each must stay below {MAX_MEASURED_RTOL:g} of its derivative (torch's "
        f"atol {DEFAULT_ATOL:g} and rtol {DEFAULT_RTOL:g} would pass a gradient 6e-4 off). "
        "dL/dx: analytic (reverse mode) and numerical (central differences); errors are "
        "|analytic - numerical| and that over |numerical|. fwd/rev: relative gap between "
        "forward mode (jvp) and reverse mode.",
        "",
        "| case | checks | dL/dx analytic | dL/dx numerical | abs err | rel err | eps | atol "
        "(share of dL/dx) | fwd/rev | d2L/dx2 analytic / numerical (rel err) | d2 atol | time s "
        "| result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in run.outcomes:
        c, d, s = o.case, o.derivative, o.second
        second = "" if s is None else (
            f"{s.analytic:.6e} / {s.numerical:.6e} "
            f"({relative_cell(s.error, s.numerical, '.1e')})")
        lines.append(
            f"| `{c.id}` | {_checks(c)} | {d.analytic:.9e} | {d.numerical:.9e} | "
            f"{d.error:.1e} | {relative_cell(d.error, d.numerical, '.1e')} | {c.eps:g} | "
            f"{o.atol:.1e} ({relative_cell(o.atol, d.numerical, '.0e')}) | "
            f"{o.forward_reverse_rel_gap:.1e} | {second} | "
            f"{'' if o.second_atol is None else f'{o.second_atol:.1e}'} | {o.seconds:.2f} | "
            f"{'pass' if o.passed else 'FAIL: ' + '; '.join(o.problems)} |")
    custom = [c for c in CASES if c.why]
    lines += ["", "## Steps that differ from torch's default eps", ""]
    lines += [f"- `{c.id}`: eps {c.eps:g}. {c.why}." for c in custom] or ["None."]
    lines += ["", "## Taylor test (all parameters at once, setup `joint` with a table and "
              "-interpolate)", "",
              "| h | remainder (exact gradient) | h (gradient x 1.01) | remainder |",
              "|---|---|---|---|"]
    for i in range(len(run.taylor.steps)):
        lines.append(f"| {run.taylor.steps[i]:.3e} | {run.taylor.remainders[i]:.3e} | "
                     f"{run.taylor_self_test.steps[i]:.3e} | "
                     f"{run.taylor_self_test.remainders[i]:.3e} |")
    lines += ["", "## Setups (24x24-pixel windows of the spec baseline)", ""]
    lines += [f"- `{s.name}`: {s.summary}. Flags `{s.flags}`"
              + (f", then {', '.join(f'{k} = {v}' for k, v in s.values)}" if s.values else "")
              + "." for s in SETUPS.values()]
    if run.pictures:
        lines += ["", "## Pictures", ""]
        lines += [f"![{name}]({name})" for name in run.pictures]
    return "\n".join(lines) + "\n"


def coverage_markdown() -> str:
    """Which tests cover which registry parameter (derived from the table, like the tests)."""
    lines = [
        "# Tier-2 coverage audit",
        "",
        "Generated by `braggcheck report` from `braggcheck.testing.nanobragg.tier2.table.CASES` "
        "and the registry; "
        "`tests/gradcheck/test_table.py::test_every_registry_parameter_has_a_deterministic_"
        "gradcheck` fails naming any parameter without a case. Every parameter is also moved "
        "by `tests/gradcheck/test_tier2.py::test_taylor_remainder_falls_at_second_order_for_"
        "all_parameters_jointly` (setup `joint`).",
        "",
        "| parameter | units | pin | cases (setup) | tests |",
        "|---|---|---|---|---|",
    ]
    for name, parameter in PARAMETERS.items():
        cases = [c for c in CASES if name in c.parameters]
        tests = sorted({t.split("::")[1].split("[")[0] for c in cases for t in node_ids(c)})
        pin = f"yes (`{name}@{CANONICAL_PINS[name]}`)" if name in CANONICAL_PINS else ""
        listed = ", ".join(f"`{c.id}`" for c in cases) or "**NONE**"
        lines.append(f"| `{name}` | {parameter.units} | {pin} | {listed} | "
                     f"{', '.join(tests) or '**NONE**'}, Taylor (joint) |")
    for name, parameter in VECTOR_PARAMETERS.items():
        rows = ", ".join(f"`{c.id}`" for c in VECTOR_CASES if c.parameter == name) or "**NONE**"
        lines.append(f"| `{name}` (one per {parameter.vector}) | {parameter.units} | | {rows} | "
                     "test_the_vector_rows_pass, Taylor (joint) |")
    lines += ["", f"{len(PARAMETERS)} registry parameters, {len(CASES)} cases; "
              "test ids are `tests/gradcheck/test_tier2.py::TEST[case]`."]
    return "\n".join(lines) + "\n"
