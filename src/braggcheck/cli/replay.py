"""``braggcheck replay FILE``: rerun a stored failing (or example) case outside pytest.

Prints, per parameter, the analytic and numerical derivative and their error, for the check
named in the file (or for every check when the file names none). Exit status 1 when a check
fails, 0 when all pass (an inconclusive check is reported but is not a failure). A case of
another target replays with ``--target MODULE:NAME`` (or ``path/to/file.py:NAME``), the
object the failure message names.
"""

from __future__ import annotations

from typing import cast

import torch

from braggcheck.cli.main import argument_parser
from braggcheck.nanobragg.output_files import check_output_path
from braggcheck.nanobragg.reference import reference_program
from braggcheck.nanobragg.serialization import config_to_json
from braggcheck.testing.framework.harness import TARGET_CHECKS, read_target_case, replay
from braggcheck.testing.framework.loader import load_target
from braggcheck.testing.framework.store import read_document
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.harness import NANOBRAGG_CHECKS
from braggcheck.testing.nanobragg.plots import case_figure, pyplot, save
from braggcheck.testing.nanobragg.target import NANOBRAGG
from braggcheck.util.errors import ConfigError


def main(args: list[str]) -> int:
    parser = argument_parser("replay", __doc__.strip().splitlines()[0])
    parser.add_argument("file", help="a JSON case file (reports/failures/*.json or an example)")
    parser.add_argument("--check", metavar="CHECK",
                        help="run this check instead of the one the file names (nanoBragg: "
                             f"{', '.join(sorted(NANOBRAGG_CHECKS))}; another target: "
                             f"{', '.join(TARGET_CHECKS)})")
    parser.add_argument("--target", metavar="MODULE:NAME",
                        help="the target the file's case belongs to, when it is not braggcheck's "
                             "simulator (e.g. examples/toy_target.py:TOY)")
    parser.add_argument("--plot", metavar="OUT.png",
                        help="also draw the case: image, analytic and numerical directional "
                             "derivative maps and their difference (needs braggcheck[plots])")
    options = parser.parse_args(args)
    target = NANOBRAGG if options.target is None else load_target(options.target)
    own = target is NANOBRAGG
    registry = NANOBRAGG_CHECKS if own else TARGET_CHECKS
    stored_target = read_document(options.file).get("target", target.name)
    if stored_target != target.name:
        raise ConfigError(f"replay: {options.file} holds a case of target {stored_target!r}; "
                          "name it with --target MODULE:NAME (e.g. examples/toy_target.py:TOY)")
    if options.plot:
        if not own:
            raise ConfigError("replay: --plot draws nanoBragg cases only; drop it with --target")
        check_output_path("--plot", options.plot)
        pyplot()  # a missing extra is a one-line error before any work
    stored, case, description = read_target_case(target, options.file, registry)
    chosen = options.check or stored
    if chosen is not None and chosen not in registry:
        what = "in " + options.file if options.check is None else "(--check)"
        raise ConfigError(f"replay: unknown check {chosen!r} {what}; valid: "
                          f"{', '.join(sorted(registry))}")
    if chosen == "reference":  # the program comes from $NANOBRAGG_REFERENCE: exit 2 without
        reference_program()
    torch.set_num_threads(1)  # tiny images: one thread is faster and deterministic in timing
    print(f"replaying {options.file}" + ("" if own else f" (target {target.name})")
          + (f": {description}" if description else ""))
    if own:
        _describe(cast(Case, case), options.plot)
    else:
        print(f"parameters: {', '.join(case.names)}")
    failed = []
    for result in replay(target, options.file, chosen, registry):
        print(result.report())
        if result.failed:  # inconclusive and NOT APPLICABLE are reported, not failures
            failed.append(result.check)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("check passed" if chosen else "all checks passed")
    return 0


def _describe(case: Case, plot: str | None) -> None:
    """What a nanoBragg case holds: parameters, chunking, configuration (and its picture)."""
    print(f"parameters: {', '.join(case.names)}; projection: {case.projection.kind}")
    if case.pixels_per_chunk is not None:
        stored = "default" if case.stored_chunks is None else case.stored_chunks
        print(f"pixels per chunk: {case.pixels_per_chunk}; chunks keeping their autograd "
              f"state: {stored}")
    print("configuration (differences from the defaults):")
    print("  " + config_to_json(case.config).replace("\n", "\n  "))
    if plot:
        save(case_figure(case), plot)
        print(f"wrote {plot}")
