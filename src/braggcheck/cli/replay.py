"""``braggcheck replay FILE``: rerun a stored failing (or example) case outside pytest.

Prints, per parameter, the analytic and numerical derivative and their error, for the check
named in the file (or for every check when the file names none). Exit status 1 when a check
fails, 0 when all pass (an inconclusive or NOT APPLICABLE check is reported but is not a
failure). A case of another target replays with ``--target MODULE:NAME`` (or
``/path/to/file.py:NAME``), the object the failure message names.
"""

from __future__ import annotations

import torch

from braggcheck.cli.main import argument_parser
from braggcheck.nanobragg.output_files import check_output_path
from braggcheck.nanobragg.reference import reference_program
from braggcheck.nanobragg.serialization import config_to_json
from braggcheck.testing.framework.harness import TARGET_CHECKS, read_target_case, replay
from braggcheck.testing.framework.loader import load_target
from braggcheck.testing.framework.store import read_document
from braggcheck.testing.nanobragg.checks import CHECKS
from braggcheck.testing.nanobragg.harness import run_check
from braggcheck.testing.nanobragg.plots import case_figure, pyplot, save
from braggcheck.testing.nanobragg.store import read_case_file
from braggcheck.testing.nanobragg.target import NANOBRAGG
from braggcheck.util.errors import ConfigError


def main(args: list[str]) -> int:
    parser = argument_parser("replay", __doc__.strip().splitlines()[0])
    parser.add_argument("file", help="a JSON case file (reports/failures/*.json or an example)")
    parser.add_argument("--check", metavar="CHECK",
                        help="run this check instead of the one the file names (nanoBragg: "
                             f"{', '.join(sorted(CHECKS))}; another target: "
                             f"{', '.join(TARGET_CHECKS)})")
    parser.add_argument("--target", metavar="MODULE:NAME",
                        help="the target the file's case belongs to, when it is not braggcheck's "
                             "simulator (e.g. examples/toy_target.py:TOY)")
    parser.add_argument("--plot", metavar="OUT.png",
                        help="also draw the case: image, analytic and numerical directional "
                             "derivative maps and their difference (needs braggcheck[plots])")
    options = parser.parse_args(args)
    if options.target is not None:
        return _replay_target(options)
    stored_target = read_document(options.file).get("target", NANOBRAGG.name)
    if stored_target != NANOBRAGG.name:
        raise ConfigError(f"replay: {options.file} holds a case of target {stored_target!r}; "
                          "name it with --target MODULE:NAME (e.g. examples/toy_target.py:TOY)")
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


def _replay_target(options) -> int:
    """Replay a stored case of the target ``--target`` names (the generic checks)."""
    if options.plot:
        raise ConfigError("replay: --plot draws nanoBragg cases only; drop it with --target")
    target = load_target(options.target)
    if options.check is not None and options.check not in TARGET_CHECKS:
        raise ConfigError(f"replay: --check {options.check!r} is not a check of a target; "
                          f"valid: {', '.join(TARGET_CHECKS)}")
    stored, case, description = read_target_case(target, options.file)
    print(f"replaying {options.file} (target {target.name})"
          + (f": {description}" if description else ""))
    print(f"parameters: {', '.join(case.names)}")
    failed = []
    for result in replay(target, options.file, options.check):
        print(result.report())
        if result.failed:  # inconclusive and NOT APPLICABLE are reported, not failures
            failed.append(result.check)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("check passed" if (options.check or stored) else "all checks passed")
    return 0
