"""``braggcheck mutants``: plant each catalogued bug in a copy of the tree and run the suite.

Prints one line per mutant as it finishes (killed / survived / timeout / equivalent, the time,
the test that killed it) and, with ``--report``, writes a Markdown report and its JSON beside
it. The property suite (ci profile) is the default; ``--suite all`` runs ``pytest -q``;
``--suite commands`` runs the four commands a developer runs (properties ci, gradcheck, the
rest of tests/, ``braggcheck check``), each only while the mutant lives, and with
``--per-command`` all four on every mutant so the report has a score per command.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import NoReturn

from braggcheck.cli.progress import Progress
from braggcheck.nanobragg.output_files import check_output_path
from braggcheck.testing.nanobragg.mutation.catalogue import catalogue, select
from braggcheck.testing.nanobragg.mutation.report import score, write_report
from braggcheck.testing.nanobragg.mutation.runner import COMMANDS, SUITES, MutantResult, Runner
from braggcheck.util.errors import ConfigError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line through the CLI, exit status 2
        raise ConfigError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="braggcheck mutants", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the catalogue and stop")
    parser.add_argument("--only", metavar="ID,...", help="run only these mutants")
    parser.add_argument("--suite", default="properties",
                        help="properties (default), gradcheck, rest, check, all, commands (the "
                             "first four in turn), or a comma-separated list of them")
    parser.add_argument("--per-command", action="store_true",
                        help="run every command of the suite on every mutant (default: stop "
                             "at the first that kills it)")
    parser.add_argument("--reference", metavar="PROGRAM",
                        help="nanoBragg program: sets NANOBRAGG_REFERENCE for the runs")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S",
                        help="seconds per mutant (default 600)")
    parser.add_argument("--report", type=Path, metavar="PATH",
                        help="write a Markdown report here and its JSON beside it")
    parser.add_argument("--root", type=Path, help="the tree to mutate (default: the one "
                        "braggcheck is imported from)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="mutants run at once (default 1); each property suite uses one "
                             "core, so --jobs 2 on two cores halves the wall time")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running the suite on the unmutated tree first")
    return parser


def default_root() -> Path:
    return Path(__file__).resolve().parents[3]


def _checked_root(root: Path) -> Path:
    if not (root / "src" / "braggcheck").is_dir() or not (root / "tests").is_dir():
        raise ConfigError(f"--root: {str(root)!r} holds no src/braggcheck and tests/ "
                          "(valid: a braggcheck source tree)")
    return root


def suite_commands(suite: str) -> dict[str, tuple[str, ...]]:
    """The commands of ``--suite`` by name, in order."""
    names = [name.strip() for name in suite.split(",") if name.strip()]
    names = [part for name in names for part in (COMMANDS if name == "commands" else (name,))]
    unknown = [name for name in names if name not in SUITES]
    if not names or unknown or len(set(names)) != len(names):
        raise ConfigError(f"--suite = {suite!r}; valid: {', '.join(SUITES)}, commands, or a "
                          "comma-separated list of them without repeats")
    return {name: SUITES[name] for name in names}


def _checked(options: argparse.Namespace) -> None:
    suite_commands(options.suite)
    if not 1 <= options.jobs <= 64:
        raise ConfigError(f"--jobs = {options.jobs}; valid: 1 to 64")
    if not options.timeout > 0:
        raise ConfigError(f"--timeout = {options.timeout:g}; valid: > 0 seconds")
    reference = options.reference
    if reference is not None and not (os.path.isfile(reference)
                                      and os.access(reference, os.X_OK)):
        raise ConfigError(f"--reference: {reference!r} is not an executable file")
    if options.report is not None:
        check_output_path("--report", options.report)


def _list() -> int:
    for m in catalogue():
        mark = " (equivalent)" if m.equivalent else ""
        print(f"{m.id:<34} {m.file:<17} {m.category:<13} {m.description}{mark}")
    return 0


def main(args: list[str]) -> int:
    options = _parser().parse_args(args)
    if options.list:
        return _list()
    _checked(options)
    mutants = select(options.only)
    root = _checked_root((options.root or default_root()).resolve())
    commands = suite_commands(options.suite)
    command = "; ".join("python " + shlex.join(argv) for argv in commands.values())
    reference = os.path.abspath(options.reference) if options.reference else None
    runner = Runner(root, commands if len(commands) > 1 else next(iter(commands.values())),
                    options.timeout, reference, per_command=options.per_command)
    meta = {"suite": options.suite, "suite_command": command, "timeout_s": options.timeout,
            "reference": reference, "root": str(root), "selected": len(mutants),
            "commands": {name: "python " + shlex.join(argv) for name, argv in commands.items()},
            "per_command": options.per_command}
    if not options.no_baseline:
        returncode, output, seconds = runner.baseline()
        if returncode != 0:
            tail = output.strip().splitlines()[-1:] or ["(no output)"]
            print(f"braggcheck mutants: the unmutated suite does not pass (exit status "
                  f"{returncode}, {seconds:.0f} s): {tail[0]}", file=sys.stderr)
            return 1
        meta["baseline"] = f"passed in {seconds:.0f} s"
        print(f"baseline: the unmutated suite passed in {seconds:.1f} s", flush=True)
    meta["jobs"] = options.jobs
    finished: dict[int, MutantResult] = {}
    bar = Progress(len(mutants), "mutants", unit="mutant", summary=False)
    with bar, ThreadPoolExecutor(max_workers=options.jobs) as pool:  # each run: a subprocess
        running = {pool.submit(runner.run, mutant): index for index, mutant in enumerate(mutants)}
        for future in as_completed(running):
            result = future.result()
            bar.advance(result.id)
            finished[running[future]] = result
            by = ",".join(name for name, status, _ in result.commands if status == "killed")
            by = f"[{by}] " if by else ""
            print(f"{result.id:<34} {result.status:<14} {result.seconds:7.1f} s  "
                  f"{by}{result.killer or ''}", flush=True)
            if options.report is not None:  # in catalogue order, whatever finished first
                write_report(options.report, [finished[i] for i in sorted(finished)], meta)
    results = [finished[i] for i in sorted(finished)]
    killed, counted = score(results)
    print(f"mutation score: {killed} / {counted} killed", flush=True)
    return 0
