"""The file-input and cut-off flags of a :class:`Config`, for ``to_nanobragg_args``.

A configuration's matrix, sources and mask live in memory; the reference program reads them
from files. They are written, content-addressed (the file name is the SHA-1 of the bytes, so
equal contents share one file and a written file never changes), into ``input_dir``
(default: ``braggcheck_inputs`` in the system's temporary folder), so that a printed flag list
reproduces the case later too.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path

from braggcheck.nanobragg.input_files import mask_file_bytes, matrix_file_text, source_file_text
from braggcheck.sim.config import Config
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output

Solve = Callable[..., float]


def default_input_dir() -> Path:
    return Path(tempfile.gettempdir()) / "braggcheck_inputs"


def _stored(data: bytes, suffix: str, folder: Path) -> str:
    """The path of a file holding ``data`` in ``folder`` (written once, atomically)."""
    path = folder / f"{hashlib.sha1(data).hexdigest()}{suffix}"
    text = str(path)
    if "-" in text or any(ch.isspace() for ch in text):
        # The reference program matches flags by substring in every word, values too.
        raise ConfigError(f"input_dir {str(folder)!r}: valid: a folder path without '-' or "
                          "spaces (the reference program would read a flag in it)")
    if not path.is_file():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"input_dir {str(folder)!r}: cannot create it: "
                              f"{exc.strerror}") from None
        write_output(path, data)  # atomic; a failure is a one-line ConfigError naming it
    return text


def input_file_flags(config: Config, solve: Solve, input_dir: str | Path | None = None
                     ) -> list[str]:
    """``-mat``, ``-sourcefile``, ``-mask`` (files written into ``input_dir``) and ``-dmin``."""
    folder = Path(input_dir) if input_dir is not None else default_input_dir()
    crystal, beam, det = config.crystal, config.beam, config.detector
    lambda_A = float(beam.lambda_A)
    words: list[str] = []
    if crystal.reciprocal_matrix is not None:
        text = matrix_file_text(crystal.reciprocal_matrix, lambda_A, solve)
        words += ["-mat", _stored(text.encode(), ".mat", folder)]
    if beam.sources is not None:
        text = source_file_text(beam.sources, solve)
        words += ["-sourcefile", _stored(text.encode(), ".txt", folder)]
    if det.mask is not None:
        words += ["-mask", _stored(mask_file_bytes(det.mask.kept), ".img", folder)]
    if det.dmin_A > 0:
        words += ["-dmin", repr(float(det.dmin_A))]
    return words
