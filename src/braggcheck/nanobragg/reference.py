"""Run a nanoBragg-compatible program on a flag list and compare its image with braggcheck's.

"nanoBragg-compatible": anything that takes nanoBragg's flags and writes ``-floatfile`` (the C
program, a CUDA build, another port). It runs in a fresh temporary directory (the C program
writes intimage.img, image.pgm and noiseimage.img there by default, never in the user's
folders), under a timeout. Every way it can fail (missing or non-executable, non-zero exit,
timeout, a float file of the wrong size) is one line naming the program and the reason.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from braggcheck.nanobragg.export import to_nanobragg_args
from braggcheck.sim.config import Config
from braggcheck.sim.simulator import simulate
from braggcheck.util.errors import ConfigError

ENVIRONMENT_VARIABLE = "NANOBRAGG_REFERENCE"
"""Where the reference program's path comes from (tests, ``braggcheck replay``/``check``)."""
RELATIVE_TOLERANCE = 1e-5
"""Pass when max |difference| <= this x the image maximum: the parity tolerance of issue #2
(the reference's float32 file alone rounds at ~6e-8)."""
FLOAT32_TINY = float(np.finfo(np.float32).tiny)
"""Below float32's smallest normal number the reference's file holds fewer than 24 bits (at
1e-42 about 10): such an image cannot be compared to 1e-5; the check calls it inconclusive."""
TIMEOUT_S = 60.0
QUIET_FLAGS = ("-nonoise", "-nopgm")
"""Appended to every run: the noise and PGM images cost time and are not compared."""


class ReferenceError(ConfigError):
    """The reference program could not produce an image (one line, naming the program)."""


@dataclass(frozen=True)
class Comparison:
    flags: tuple[str, ...]
    reference: np.ndarray
    braggcheck: np.ndarray
    max_difference: float
    image_max: float
    """The larger of the two images' maxima (a blank braggcheck image still fails)."""

    @property
    def relative(self) -> float:
        return self.max_difference / self.image_max if self.image_max > 0 else (
            0.0 if self.max_difference == 0 else float("inf"))

    @property
    def resolvable(self) -> bool:
        """Whether the float32 file can hold the image to the tolerance at all."""
        return self.image_max >= FLOAT32_TINY

    @property
    def passed(self) -> bool:
        return self.max_difference <= RELATIVE_TOLERANCE * self.image_max

    def summary(self) -> str:
        worst = np.unravel_index(int(np.argmax(np.abs(self.reference - self.braggcheck))),
                                 self.reference.shape)
        slow, fast = (int(x) for x in worst)
        return (f"max |reference - braggcheck| = {self.max_difference:.4g} = "
                f"{self.relative:.3g} x image max {self.image_max:.4g} (tolerance "
                f"{RELATIVE_TOLERANCE:g}) at [slow {slow}, fast {fast}]: reference "
                f"{self.reference[slow, fast]:.6g}, braggcheck {self.braggcheck[slow, fast]:.6g}")


_CHOSEN: ContextVar[str | None] = ContextVar("braggcheck_reference_program", default=None)


@contextmanager
def using_reference(program: str | os.PathLike[str]) -> Iterator[None]:
    """In this block (this thread or task only), :func:`reference_program` without a path is
    ``program``: an explicit choice passed down to the checks, never through the environment."""
    token = _CHOSEN.set(str(program))
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def reference_program(path: str | os.PathLike[str] | None = None) -> Path:
    """The program ``path`` (or the one :func:`using_reference` chose, or $NANOBRAGG_REFERENCE),
    checked to exist and be executable."""
    chosen = path if path is not None else (_CHOSEN.get()
                                            or os.environ.get(ENVIRONMENT_VARIABLE))
    if not chosen:
        raise ReferenceError(f"reference program: none given (set {ENVIRONMENT_VARIABLE} or "
                             "pass --reference PROGRAM)")
    program = Path(chosen).expanduser().absolute()
    if not program.is_file():
        raise ReferenceError(f"reference program {str(program)!r}: no such file")
    if not os.access(program, os.X_OK):
        raise ReferenceError(f"reference program {str(program)!r}: not executable")
    return program


def run_reference(program: str | os.PathLike[str], flags: list[str], fpixels: int,
                  spixels: int, timeout_s: float = TIMEOUT_S) -> np.ndarray:
    """The program's float image (spixels, fpixels) for ``flags``, run in a temporary folder."""
    program = reference_program(program)
    name = str(program)
    with tempfile.TemporaryDirectory(prefix="braggcheck_reference_") as folder:
        out = Path(folder) / "floatimage.bin"
        command = [name, *flags, *QUIET_FLAGS, "-floatfile", str(out)]
        try:
            done = subprocess.run(command, cwd=folder, capture_output=True, timeout=timeout_s,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ReferenceError(f"reference program {name!r}: timed out after "
                                 f"{timeout_s:g} s") from None
        except OSError as exc:
            raise ReferenceError(f"reference program {name!r}: cannot run it "
                                 f"({exc.strerror})") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
            last = tail[-1][:200] if tail else "no output"
            raise ReferenceError(f"reference program {name!r}: exit status {done.returncode} "
                                 f"({last})")
        if not out.is_file():
            raise ReferenceError(f"reference program {name!r}: wrote no -floatfile")
        data = out.read_bytes()
    expected = 4 * fpixels * spixels
    if len(data) != expected:
        raise ReferenceError(f"reference program {name!r}: float file of {len(data)} bytes; "
                             f"expected {expected} ({spixels} x {fpixels} float32)")
    return np.frombuffer(data, dtype="<f4").reshape(spixels, fpixels).astype(np.float64)


def compare(config: Config, program: str | os.PathLike[str],
            hkl_path: str | None = None, timeout_s: float = TIMEOUT_S) -> Comparison:
    """Render ``config`` with the program (float32 file) and with braggcheck (float64)."""
    if hkl_path is None and config.crystal.hkl is not None and config.crystal.hkl.source:
        # The program runs in a temporary folder: a relative table path would not be found.
        hkl_path = os.path.abspath(config.crystal.hkl.source)
    flags = to_nanobragg_args(config, hkl_path=hkl_path)
    det = config.detector
    reference = run_reference(program, flags, det.fpixels, det.spixels, timeout_s)
    with torch.no_grad():
        ours = simulate(config, dtype=torch.float64).numpy()
    if not np.isfinite(reference).all():
        difference = float("inf")
    else:
        difference = float(np.abs(reference - ours).max())
    largest = float(max(np.abs(ours).max(), np.abs(np.nan_to_num(reference)).max()))
    return Comparison(tuple(flags), reference, ours, difference, largest)
