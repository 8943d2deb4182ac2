"""``braggcheck replay FILE``: rerun a stored failing (or example) case outside pytest.

Prints, per parameter, the analytic and numerical derivative and their error, for the check
named in the file (or for every check when the file names none). Exit status 1 when a check
fails, 0 when all pass (an inconclusive check is reported but is not a failure).
"""

from __future__ import annotations

import torch

from ..checks import CHECKS
from ..cli import argument_parser
from ..errors import ConfigError
from ..example_store import read_case_file
from ..serialization import config_to_json


def main(args: list[str]) -> int:
    parser = argument_parser("replay", __doc__.strip().splitlines()[0])
    parser.add_argument("file", help="a JSON case file (reports/failures/*.json or an example)")
    parser.add_argument("--check", choices=sorted(CHECKS),
                        help="run this check instead of the one the file names")
    options = parser.parse_args(args)
    stored, case, description = read_case_file(options.file)
    chosen = options.check or stored
    if chosen is not None and chosen not in CHECKS:
        raise ConfigError(f"replay: unknown check {chosen!r} in {options.file}; valid: "
                          f"{', '.join(sorted(CHECKS))}")
    names = [chosen] if chosen else list(CHECKS)
    if chosen == "reference":  # the program comes from $NANOBRAGG_REFERENCE: exit 2 without
        from ..reference import reference_program

        reference_program()
    torch.set_num_threads(1)  # tiny images: one thread is faster and deterministic in timing
    print(f"replaying {options.file}" + (f": {description}" if description else ""))
    print(f"parameters: {', '.join(case.names)}; projection: {case.projection.kind}")
    print("configuration (differences from the defaults):")
    print("  " + config_to_json(case.config).replace("\n", "\n  "))
    failed = []
    for name in names:
        result = CHECKS[name](case)
        print(result.report())
        if not result.passed and not result.inconclusive:
            failed.append(name)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("all checks passed" if len(names) > 1 else "check passed")
    return 0
