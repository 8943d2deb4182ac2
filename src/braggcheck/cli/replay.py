"""``braggcheck replay FILE``: rerun a stored failing (or example) case outside pytest.

Prints, per parameter, the analytic and numerical derivative and their error, for the check
named in the file (or for every check when the file names none). Exit status 1 when a check
fails, 0 when all pass (an inconclusive check is reported but is not a failure).
"""

from __future__ import annotations

import torch

from braggcheck.cli.main import argument_parser
from braggcheck.nanobragg.output_files import check_output_path
from braggcheck.nanobragg.reference import reference_program
from braggcheck.nanobragg.serialization import config_to_json
from braggcheck.testing.checks import CHECKS
from braggcheck.testing.example_store import read_case_file
from braggcheck.testing.harness import run_check
from braggcheck.testing.plots import case_figure, pyplot, save
from braggcheck.util.errors import ConfigError


def main(args: list[str]) -> int:
    parser = argument_parser("replay", __doc__.strip().splitlines()[0])
    parser.add_argument("file", help="a JSON case file (reports/failures/*.json or an example)")
    parser.add_argument("--check", choices=sorted(CHECKS),
                        help="run this check instead of the one the file names")
    parser.add_argument("--plot", metavar="OUT.png",
                        help="also draw the case: image, analytic and numerical directional "
                             "derivative maps and their difference (needs braggcheck[plots])")
    options = parser.parse_args(args)
    if options.plot:
        check_output_path("--plot", options.plot)
        pyplot()  # a missing extra is a one-line error before any work
    stored, case, description = read_case_file(options.file)
    chosen = options.check or stored
    if chosen is not None and chosen not in CHECKS:
        raise ConfigError(f"replay: unknown check {chosen!r} in {options.file}; valid: "
                          f"{', '.join(sorted(CHECKS))}")
    names = [chosen] if chosen else list(CHECKS)
    if chosen == "reference":  # the program comes from $NANOBRAGG_REFERENCE: exit 2 without

        reference_program()
    torch.set_num_threads(1)  # tiny images: one thread is faster and deterministic in timing
    print(f"replaying {options.file}" + (f": {description}" if description else ""))
    print(f"parameters: {', '.join(case.names)}; projection: {case.projection.kind}")
    if case.pixels_per_chunk is not None:
        stored = "default" if case.stored_chunks is None else case.stored_chunks
        print(f"pixels per chunk: {case.pixels_per_chunk}; chunks keeping their autograd "
              f"state: {stored}")
    print("configuration (differences from the defaults):")
    print("  " + config_to_json(case.config).replace("\n", "\n  "))
    if options.plot:
        save(case_figure(case), options.plot)
        print(f"wrote {options.plot}")
    failed = []
    for name in names:
        result = run_check(name, case)
        print(result.report())
        if not result.passed and not result.inconclusive:
            failed.append(name)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("all checks passed" if len(names) > 1 else "check passed")
    return 0
