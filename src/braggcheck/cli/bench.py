"""``braggcheck bench``: time forward, forward+backward and peak memory for named cases.

Every (case, dtype, compile) row runs in fresh processes (see :mod:`braggcheck.cli.benchmark`), and
the table's ratios are against the first row, so comparisons hold on a busy machine.
``--device cuda`` runs the rows on the GPU (CUDA-event times, device peak memory). With
``$NANOBRAGG_REFERENCE`` set, the C program is timed on the same cases and machine too.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import torch

from braggcheck.cli.benchmark import (
    CASES,
    DEFAULT_CASES,
    gpu,
    machine,
    measure,
    reference_table,
    reference_time,
    table,
    to_json,
)
from braggcheck.cli.main import argument_parser
from braggcheck.cli.progress import Progress
from braggcheck.nanobragg.reference import ENVIRONMENT_VARIABLE
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output


def _parser():
    parser = argument_parser("bench", __doc__.strip().splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where the simulator runs (default cpu); cuda: CUDA-event times "
                        "and device peak memory")
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="case to run (repeatable; default for cpu: "
                        f"{', '.join(DEFAULT_CASES['cpu'])}; for cuda: "
                        f"{', '.join(DEFAULT_CASES['cuda'])}): "
                        + "; ".join(f"{c.name}: {c.description}, {c.detpixels}^2 pixels"
                                    for c in CASES.values()))
    parser.add_argument("--dtype", action="append", choices=["float32", "float64"],
                        help="repeatable; default: both")
    parser.add_argument("--compile", action="append", choices=["off", "on"],
                        help="torch.compile off/on (repeatable; default: off)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed calls per measurement, best kept (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="detector 1/8 the size per side and one timed call: a smoke run")
    parser.add_argument("--detpixels", type=int,
                        help="override every case's detector size (pixels per side), e.g. to "
                        "check that memory does not grow with the image")
    parser.add_argument("--threads", type=int,
                        help="torch intra-op threads in the workers (default: torch's choice); "
                        "1 is steadier on a machine shared with other jobs")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--json", type=Path, help="also write the raw numbers as JSON")
    return parser


def main(args: list[str]) -> int:
    options = _parser().parse_args(args)
    if options.repeat < 1:
        raise ConfigError(f"--repeat = {options.repeat}; valid: >= 1")
    if options.threads is not None and options.threads < 1:
        raise ConfigError(f"--threads = {options.threads}; valid: >= 1")
    if options.detpixels is not None and options.detpixels < 8:
        raise ConfigError(f"--detpixels = {options.detpixels}; valid: >= 8")
    if options.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: CUDA is not available on this machine")
    cases = [CASES[name] for name in (options.case or DEFAULT_CASES[options.device])]
    if options.detpixels is not None:
        cases = [replace(case, detpixels=options.detpixels) for case in cases]
    dtypes = options.dtype or ["float32", "float64"]
    compiles = [value == "on" for value in (options.compile or ["off"])]
    shrink, repeat = (8, 1) if options.quick else (1, options.repeat)
    notes = f"; workers use {options.threads} thread(s)" if options.threads else ""
    if options.device == "cuda":
        notes += f"; device cuda: {gpu()}"
    print(f"machine: {machine()}{notes}", flush=True)
    rows = []
    with Progress(len(cases) * len(compiles) * len(dtypes), "bench", unit="row") as bar:
        for case in cases:
            for compiled in compiles:
                for dtype in dtypes:
                    rows.append(measure(case, dtype, compiled, repeat, shrink, options.threads,
                                        options.device))
                    bar.advance(f"{case.name} {dtype} compile={'on' if compiled else 'off'}")
    text = table(rows)
    program = os.environ.get(ENVIRONMENT_VARIABLE)
    times = {}
    if program:  # the C program on the same machine, same cases
        times = {case.name: reference_time(case, program, repeat, shrink) for case in cases}
        rows = [replace(row, c_program_s=times[row.case]) for row in rows]
        text += "\n\nC program (" + program + "):\n\n" + reference_table(times, rows)
    print(text)
    if options.markdown:
        write_output(options.markdown, f"machine: {machine()}{notes}\n\n{text}\n".encode())
    if options.json:
        write_output(options.json, (to_json(rows) + "\n").encode())
    return 0
