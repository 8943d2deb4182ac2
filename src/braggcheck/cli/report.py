"""``braggcheck report``: run the Tier-2 gradient table and write the dated report.

Writes ``<out>/<date>-tier2.md``, its JSON twin ``<date>-tier2.json``, ``<out>/coverage.md`` and,
with matplotlib (``braggcheck[plots]``), four PNGs the Markdown embeds (``--no-plots`` skips them),
each through the one file writer (``--coverage-only`` writes just the audit). ``--pytest`` also runs
``pytest tests/gradcheck`` in a subprocess and records its wall time. Exit status 0 when every
check passed, 1 when one failed (the report says which), 2 for bad arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from braggcheck.cli.main import argument_parser
from braggcheck.cli.progress import Progress
from braggcheck.sim.compilation import DISABLE_VARIABLES
from braggcheck.testing.framework.derivatives import taylor_run
from braggcheck.testing.framework.table import run_case
from braggcheck.testing.nanobragg.plots import pyplot
from braggcheck.testing.nanobragg.tier2.plots import panel_count, write_tier2_pictures
from braggcheck.testing.nanobragg.tier2.report import (
    Tier2Run,
    coverage_markdown,
    environment,
    markdown_report,
    run_record,
)
from braggcheck.testing.nanobragg.tier2.table import (
    CASES,
    TAYLOR_SEED,
    joint_direction,
    joint_probe,
)
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output

DEFAULT_OUT = Path("reports") / "gradients"
DEFAULT_TESTS = Path("tests") / "gradcheck"


def _parse(args: list[str]):
    parser = argument_parser("report", "Run the Tier-2 gradient table and write a report.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the report files (default {DEFAULT_OUT})")
    parser.add_argument("--date", default=None,
                        help="date in the file names, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--pytest", action="store_true",
                        help="also run pytest on --tests and record its wall time")
    parser.add_argument("--tests", type=Path, default=DEFAULT_TESTS,
                        help=f"the Tier-2 test folder for --pytest (default {DEFAULT_TESTS})")
    parser.add_argument("--cases", default=None, metavar="SUBSTRING",
                        help="only the cases whose id contains SUBSTRING")
    parser.add_argument("--coverage-only", action="store_true",
                        help="only rewrite coverage.md (instant; no checks are run)")
    parser.add_argument("--no-plots", action="store_true",
                        help="skip the PNG pictures (they need braggcheck[plots])")
    return parser.parse_args(args)


def _date(text: str | None) -> str:
    if text is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ConfigError(f"--date = {text!r}: expected YYYY-MM-DD") from None


def _check_out(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out: {str(folder)!r} is not a folder")
    if not folder.exists() and folder != DEFAULT_OUT and not folder.parent.is_dir():
        raise ConfigError(f"--out: parent folder of {str(folder)!r} does not exist")


def run_pytest(tests: Path) -> dict[str, Any]:
    """``pytest -q tests`` in a subprocess: its summary line and wall time."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(tests)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    summaries = [line for line in result.stdout.splitlines()
                 if re.search(r"\d+ (passed|failed)", line)]
    summary = summaries[-1].strip("= ") if summaries else "no summary (see exit status)"
    return {"path": str(tests), "returncode": result.returncode, "summary": summary,
            "wall_seconds": wall}


def _pictures(run: Tier2Run, stem: Path) -> list[str]:
    """The report's PNGs (names relative to its folder), or none, saying how to get them."""
    try:
        pyplot()
    except ConfigError as missing:
        print(f"pictures skipped: {missing}", file=sys.stderr)
        return []
    with Progress(panel_count(run), "tier-2 pictures", unit="panel") as bar:
        paths = write_tier2_pictures(run, stem, bar.advance)
    return [path.name for path in paths]


def main(args: list[str]) -> int:
    options = _parse(args)
    date = _date(options.date)
    _check_out(options.out)
    if options.pytest and not options.tests.is_dir():
        raise ConfigError(f"--tests: {str(options.tests)!r} is not a folder (run from the "
                          "repository root or pass --tests)")
    cases = [c for c in CASES if options.cases is None or options.cases in c.id]
    if not cases:
        raise ConfigError(f"--cases {options.cases!r} matches no case id")
    # The audit depends only on the table; written first, so --pytest sees it current.
    options.out.mkdir(parents=options.out == DEFAULT_OUT, exist_ok=True)
    write_output(options.out / "coverage.md", coverage_markdown().encode())
    if options.coverage_only:
        print(f"wrote {options.out / 'coverage.md'}")
        return 0
    os.environ[DISABLE_VARIABLES[0]] = "1"  # check the eager code, as the tests do
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 24x24 images: threads cost more than they save
    try:
        start = time.perf_counter()
        outcomes = []
        with Progress(len(cases), "tier-2 cases", unit="case") as bar:
            for case in cases:
                outcomes.append(run_case(case))
                bar.advance(case.id)
                if not outcomes[-1].passed:  # every number needed to act on it
                    print(outcomes[-1].report(), file=sys.stderr)
        probe = joint_probe()
        direction = joint_direction(probe, TAYLOR_SEED)
        taylor = taylor_run(probe, direction)
        self_test = taylor_run(probe, direction, gradient_scale=1.01)
        wall = time.perf_counter() - start
        env = environment()
    finally:
        torch.set_num_threads(threads)
    run = Tier2Run(date=date, outcomes=outcomes, taylor=taylor, taylor_self_test=self_test,
                   wall_seconds=wall, environment=env)
    if options.pytest:
        run.pytest = run_pytest(options.tests)
    stem = options.out / f"{date}-tier2"
    if not options.no_plots:
        run.pictures = _pictures(run, stem)
    write_output(stem.with_suffix(".json"),
                     (json.dumps(run_record(run), indent=2) + "\n").encode())
    write_output(stem.with_suffix(".md"), markdown_report(run).encode())
    print(f"{'PASS' if run.passed else 'FAIL'}: wrote {stem}.md, {stem}.json and "
          f"{options.out / 'coverage.md'}")
    return 0 if run.passed else 1
