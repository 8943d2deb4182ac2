"""``braggcheck diff --reference PROGRAM``: differential property test against a reference.

Draws configurations over the whole forward space (``reference_strategies.oracle_configs``,
after the stored examples), renders each with PROGRAM (any nanoBragg-compatible program that
writes -floatfile) and with braggcheck, and requires max|diff| <= 1e-5 x the image maximum.
Prints the regions of the forward space reached; on a mismatch, Hypothesis shrinks it to a
minimal configuration, stored in reports/failures/ like every property failure, and the command
prints its flag list and the replay command, exit status 1. A program that cannot run: exit 2.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption

from braggcheck.cli.main import argument_parser
from braggcheck.cli.progress import Progress
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.export import to_nanobragg_args
from braggcheck.nanobragg.reference import compare, reference_program, using_reference
from braggcheck.testing.framework.harness import PropertyFailure, run_outside_pytest
from braggcheck.testing.framework.store import FAILURES_DIR
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.harness import run_property, stored_examples
from braggcheck.testing.nanobragg.oracle.strategies import oracle_configs
from braggcheck.util.errors import ConfigError

FAILURE_NAME = "diff_reference"


@dataclass
class DiffOutcome:
    examples: int = 0
    inconclusive: int = 0
    worst: float = 0.0
    worst_flags: str = ""
    """The flag list of the configuration that agreed least (still within the tolerance)."""
    regions: Counter[str] = field(default_factory=Counter)
    failure: str | None = None
    """The failure report (with the replay command), None when every example agreed."""
    flags: list[str] | None = None
    """The shrunk configuration's flag list, on a failure."""
    seconds: float = 0.0


def run_differential(program: str, examples: int, seed_value: int = 0,
                     failures_dir: str | Path = FAILURES_DIR,
                     settings_overrides: dict[str, Any] | None = None,
                     stored: bool = True) -> DiffOutcome:
    """Run the differential property outside pytest (as ``braggcheck check`` drives its own).

    ``stored=False`` leaves out the stored examples: Hypothesis replays those as they are,
    unshrunk, so a test of how far a generated failure shrinks must not start from one."""
    chosen = str(reference_program(program))
    # A program that cannot render the baseline is a bad program (exit 2), not a mismatch.
    compare(from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 100 -N 5 "
                                       "-detpixels 8"), chosen)
    outcome = DiffOutcome()
    failing: list[Case] = []

    def test(case: Case) -> None:
        bar.advance("reference")
        outcome.examples += 1
        try:
            result = run_property("reference", case, FAILURE_NAME, failures_dir)
        except UnsatisfiedAssumption:
            outcome.inconclusive += 1
            raise
        except PropertyFailure:
            failing.append(case)  # Hypothesis replays the minimal example last
            raise
        outcome.regions.update(result.events)
        if result.worst > outcome.worst:
            outcome.worst, outcome.worst_flags = result.worst, result.message.removeprefix(
                "flags: ")

    explicit = [case for _, case in stored_examples("reference")] if stored else []
    start = time.perf_counter()
    bar = Progress(examples + len(explicit), "diff", unit="example", summary=False)
    try:
        with bar, using_reference(chosen):  # the check's program, passed down explicitly
            outcome.failure = run_outside_pytest(
                test, st.builds(Case, config=oracle_configs()), examples, seed_value,
                explicit, settings_overrides)
    finally:
        outcome.seconds = time.perf_counter() - start
    if outcome.failure is not None:
        outcome.flags = to_nanobragg_args(failing[-1].config)
    return outcome


def print_outcome(outcome: DiffOutcome, program: str) -> None:
    print(f"reference: {program}")
    print(f"configurations compared: {outcome.examples - outcome.inconclusive} (inconclusive, "
          f"rejected: {outcome.inconclusive}); worst max|diff|/max: {outcome.worst:.2e} "
          f"(tolerance 1e-05); time: {outcome.seconds:.1f} s")
    if outcome.worst_flags:
        print(f"least agreement at: {outcome.worst_flags}")
    print("regions reached: " + ", ".join(f"{name} {count}" for name, count in
                                          sorted(outcome.regions.items())))
    if outcome.failure is not None:
        print(f"\nMISMATCH (shrunk):\n{outcome.failure}")
        print(f"\nminimal flag list: {' '.join(outcome.flags or [])}")


def main(args: list[str]) -> int:
    parser = argument_parser("diff", __doc__.strip().splitlines()[0])
    parser.add_argument("--reference", required=True,
                        help="a nanoBragg-compatible program (e.g. the C nanoBragg)")
    parser.add_argument("--examples", type=int, default=100,
                        help="generated configurations (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    parser.add_argument("--no-stored", action="store_true",
                        help="generated configurations only (stored examples are replayed "
                             "as they are, never shrunk)")
    options = parser.parse_args(args)
    if options.examples < 1:
        raise ConfigError(f"--examples = {options.examples}: must be >= 1")
    import torch

    torch.set_num_threads(1)  # many tiny images: one thread is faster
    outcome = run_differential(options.reference, options.examples, options.seed,
                               stored=not options.no_stored)
    print_outcome(outcome, options.reference)
    return 1 if outcome.failure is not None else 0
