"""``braggcheck check``: a short property-based gradient check of the built-in simulator.

Draws random valid configurations, parameter subsets, pixel weights and directions with
Hypothesis (after replaying the stored edge cases), and checks reverse-mode gradients against
finite differences, forward mode against reverse mode, and that images and gradients are
finite. Registry parameters the gradient check's draws did not resolve then get a few focused
cases each (configurations whose image depends on them, differentiating them first), so every
parameter's derivative is checked. Prints what was covered and the worst relative error; on a
failure, the shrunk case is written to reports/failures/ with the command that replays it, and
the exit status is 1. With a reference program ($NANOBRAGG_REFERENCE or --reference), the
differential check against it runs too (``braggcheck diff``); without one, a line says so.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import torch
from hypothesis.errors import UnsatisfiedAssumption

from braggcheck.cli.diff import run_differential
from braggcheck.cli.main import argument_parser
from braggcheck.cli.progress import Progress
from braggcheck.nanobragg.reference import ENVIRONMENT_VARIABLE
from braggcheck.sim.registry import PARAMETERS
from braggcheck.testing.framework.harness import run_outside_pytest
from braggcheck.testing.framework.results import CheckResult
from braggcheck.testing.nanobragg.checks import CHECKS
from braggcheck.testing.nanobragg.coverage import coverage_labels
from braggcheck.testing.nanobragg.harness import run_property, stored_examples
from braggcheck.testing.nanobragg.strategies.cases import cases
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES, GRADIENT_SHAPES
from braggcheck.util.errors import ConfigError

DEFAULT_CHECKS = ("gradient", "forward_reverse", "finite")
FOCUS_EXAMPLES = 10
"""Most focused cases per parameter left unresolved by the gradient check's random draws."""


class _Tally:
    def __init__(self) -> None:
        self.configs = 0
        self.inconclusive = 0
        self.parameters: Counter[str] = Counter()
        self.comparisons = 0
        self.worst = 0.0
        self.events: Counter[str] = Counter()

    def add(self, result: CheckResult) -> None:
        for row in result.rows:
            if row.status == "ok" and not row.name.startswith("("):
                self.parameters[row.name.removeprefix("d/d ")] += 1
            if row.status == "ok":
                self.comparisons += 1
        self.worst = max(self.worst, result.worst)


def _run(check: str, examples: int, seed_value: int, tally: _Tally,
         focus: str | None = None) -> str | None:
    """Run one check over generated cases (stored ones first), or, with ``focus``, over cases
    that differentiate that parameter first, until its derivative has been resolved once."""
    shapes = ALL_SHAPES if check == "finite" else GRADIENT_SHAPES
    strategy = cases(shapes=shapes, focus=focus)

    def test(case):
        if focus is not None and tally.parameters[focus]:
            return  # resolved: the remaining draws cost nothing
        bar.advance(check if focus is None else f"{check} ({focus})")
        tally.configs += 1
        tally.events.update(coverage_labels(case))
        try:
            result = run_property(check, case, f"check_{check}")
        except UnsatisfiedAssumption:  # inconclusive: rejected
            tally.inconclusive += 1
            raise
        # Counted only once passed: a failing case is replayed while shrinking, and must not
        # have marked its parameter resolved (the early return above would make it flaky).
        if check in ("gradient", "forward_reverse"):
            tally.add(result)

    explicit = [] if focus is not None else [case for _, case in stored_examples(check)]
    bar = Progress(len(explicit) + examples, f"check {check}", unit="example", summary=False)
    with bar:
        return run_outside_pytest(test, strategy, examples, seed_value, explicit)


def main(args: list[str]) -> int:
    parser = argument_parser("check", __doc__.strip().splitlines()[0])
    parser.add_argument("--examples", type=int, default=20,
                        help="generated examples per check (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    parser.add_argument("--checks", default=",".join(DEFAULT_CHECKS),
                        help=f"comma-separated checks (default {','.join(DEFAULT_CHECKS)})")
    parser.add_argument("--reference", default=None,
                        help="a nanoBragg-compatible program for the differential check "
                             "(default: $NANOBRAGG_REFERENCE)")
    options = parser.parse_args(args)

    chosen = [c.strip() for c in options.checks.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in CHECKS]
    if unknown or not chosen:
        raise ConfigError(f"--checks: unknown {', '.join(unknown) or '(none given)'}; valid: "
                          f"{', '.join(CHECKS)}")
    if options.examples < 1:
        raise ConfigError(f"--examples = {options.examples}: must be >= 1")
    torch.set_num_threads(1)  # many tiny images: one thread is faster
    start = time.perf_counter()
    tally = _Tally()
    failures = []
    for check in chosen:
        message = _run(check, options.examples, options.seed, tally)
        status = "FAIL" if message else "ok"
        print(f"{check:<16} {status}")
        if message:
            failures.append((check, message))
        elif check == "gradient":
            # Parameters the random draws did not resolve (rarely drawn, or their derivative
            # is often below the finite-difference noise): a few focused cases each.
            for name in PARAMETERS:
                if not tally.parameters[name] and not failures:
                    message = _run(check, FOCUS_EXAMPLES, options.seed, tally, focus=name)
                    if message:
                        print(f"{'  ' + name:<16} FAIL")
                        failures.append((f"{check} ({name})", message))
    program = options.reference or os.environ.get(ENVIRONMENT_VARIABLE)
    if program:
        outcome = run_differential(program, options.examples, options.seed)
        print(f"{'reference':<16} {'FAIL' if outcome.failure else 'ok'} ({program}: "
              f"{outcome.examples - outcome.inconclusive} configurations, worst max|diff|/max "
              f"{outcome.worst:.2e}, {len(outcome.regions)} regions reached)")
        if outcome.failure:
            failures.append(("reference", f"{outcome.failure}\nminimal flag list: "
                                          f"{' '.join(outcome.flags or [])}"))
    else:
        print(f"{'reference':<16} not run: no reference program configured (set "
              f"{ENVIRONMENT_VARIABLE} or pass --reference PROGRAM)")
    elapsed = time.perf_counter() - start
    print(f"\nconfigurations tried: {tally.configs} (seed {options.seed}, "
          f"{options.examples} generated per check, stored edge cases first, then "
          f"focused cases for parameters not yet resolved); "
          f"inconclusive (rejected): {tally.inconclusive}")
    params = ", ".join(f"{n} x{c}" for n, c in sorted(tally.parameters.items()))
    print(f"derivative comparisons resolved: {tally.comparisons}; parameters checked: "
          f"{len(tally.parameters)} ({params})")
    unresolved = [n for n in PARAMETERS if not tally.parameters[n]]
    if "gradient" in chosen and unresolved:
        print(f"parameters not resolved: {', '.join(unresolved)}")
    print(f"worst relative error (resolved derivatives): {tally.worst:.2e}")
    print("coverage: " + ", ".join(f"{label} {count}" for label, count in
                                   tally.events.most_common()))
    print(f"time: {elapsed:.1f} s")
    for check, message in failures:
        print(f"\n{check} failed (shrunk case):\n{message}")
    return 1 if failures else 0
