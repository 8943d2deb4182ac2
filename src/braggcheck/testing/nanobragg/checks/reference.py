"""The differential check: braggcheck's image equals a reference program's (the oracle).

The program comes from $NANOBRAGG_REFERENCE (inconclusive without one; ``braggcheck replay`` of
a reference failure refuses to run without it). A case in a documented deliberate deviation
(``reference_exclusions.EXCLUDED``) or one no flag list expresses is inconclusive, never passed;
so is a blank image (nothing to compare). A failure's message holds the flag list that
reproduces it with the reference program alone.
"""

from __future__ import annotations

from braggcheck.nanobragg.reference import ReferenceError, compare, reference_program
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.oracle.exclusions import excluded_region
from braggcheck.testing.nanobragg.oracle.strategies import oracle_regions
from braggcheck.util.errors import ConfigError


def check_reference(case: Case) -> CheckResult:
    config = case.config
    try:
        program = reference_program()
    except ReferenceError as exc:  # replaying every check of a file without a reference
        return CheckResult("reference", passed=False, inconclusive=True, message=str(exc))
    excluded = excluded_region(config)
    if excluded is not None:
        return CheckResult("reference", passed=False, inconclusive=True,
                           message=f"excluded deliberate deviation: {excluded}")
    try:
        result = compare(config, program)
    except ReferenceError:
        raise
    except ConfigError as exc:  # the configuration has no flag list
        return CheckResult("reference", passed=False, inconclusive=True,
                           message=f"not expressible as nanoBragg flags: {exc}")
    events = [str(region) for region in oracle_regions(config)]
    if not result.resolvable and result.max_difference <= result.image_max:
        # Blank, or fainter than float32's normal range: the reference file cannot hold it.
        return CheckResult("reference", passed=False, inconclusive=True, events=events,
                           message=f"image maximum {result.image_max:.3g} is below float32's "
                                   "normal range (nothing the reference file can resolve)")
    row = Row("max|diff| / max", result.relative, 0.0, 1e-5,
              "ok" if result.passed else "FAIL")
    flags = " ".join(result.flags)
    message = result.summary() + f"\n  reproduce with the reference alone: {program} {flags}"
    return CheckResult("reference", passed=result.passed, rows=[row], events=events,
                       worst=result.relative,
                       message=message if not result.passed else f"flags: {flags}")
