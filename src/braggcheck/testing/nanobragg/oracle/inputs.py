"""Input-file flags for the differential oracle: ``-mat`` (with or without ``-cell``),
``-sourcefile``, ``-mask``, ``-img`` (a header in the reference program's own format, so its
substring and flip rules meet the reference's) and ``-dmin``, appended to a drawn flag list.

Files are written into one temporary folder, named by the hash of their content (the same
content, the same file; safe under ``pytest -n``).
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import strategies as st

from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.input_files import mask_file_bytes
from braggcheck.nanobragg.smv import header_bytes, header_fields
from braggcheck.sim.config import Config
from braggcheck.sim.crystal import cell_basis
from braggcheck.sim.detector import FRAMES
from braggcheck.sim.rotations import rotate_xyz
from braggcheck.sim.state import build_state
from braggcheck.util.file_writer import write_output

INPUT_DIR = Path(tempfile.gettempdir()) / "braggcheck_oracle_inputs"


def _written(data: bytes, suffix: str) -> str:
    path = INPUT_DIR / f"input{hashlib.sha1(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        INPUT_DIR.mkdir(parents=True, exist_ok=True)
        write_output(path, data)
    return str(path)


def _without_cell(words: list[str]) -> list[str]:
    at = words.index("-cell")
    return words[:at] + words[at + 7:]


def _matrix_text(config: Config, angles: list[float], scale: float) -> str:
    """An A matrix: the cell's reciprocal basis turned by ``angles``, times lambda and scale."""
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        for name in ("misset_rot_x", "misset_rot_y", "misset_rot_z"):
            state[name] = torch.zeros((), dtype=torch.float64)
        turned = rotate_xyz(cell_basis(state).reciprocal,
                            *(torch.tensor(math.radians(a), dtype=torch.float64)
                              for a in angles))
    columns = turned.numpy().T * float(config.beam.lambda_A) * scale
    return "".join(" ".join(repr(float(x)) for x in row) + "\n" for row in columns)


@st.composite
def input_words(draw: st.DrawFn, words: list[str], config: Config) -> list[str]:
    """``words`` with some of the input-file flags added (each shrinks away)."""
    if draw(st.booleans()):
        angles = [draw(st.floats(-180.0, 180.0)) for _ in range(3)]
        keep_cell = draw(st.booleans())
        text = _matrix_text(config, angles, draw(st.floats(0.5, 2.0)) if keep_cell else 1.0)
        words = (words if keep_cell else _without_cell(words)) + [
            "-mat", _written(text.encode(), ".mat")]
    if draw(st.booleans()):
        beam = np.array(config.beam.beam_vector or FRAMES[config.detector.convention].beam,
                        dtype=float)
        beam /= np.linalg.norm(beam)
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            offset = [draw(st.floats(-0.01, 0.01)) for _ in range(3)]
            position = -10.0 * beam + np.array(offset)
            line = " ".join(repr(float(x)) for x in position)
            if draw(st.booleans()):
                wavelength = float(config.beam.lambda_A) * (1 + draw(st.floats(-0.01, 0.01)))
                line += f" 1 {wavelength * 1e-10!r}"
            lines.append(line + "\n")
        words = [*words, "-sourcefile", _written("".join(lines).encode(), ".txt")]
    if draw(st.booleans()):
        parsed = parse_nanobragg_args(words)
        det = parsed.config.detector
        try:
            header = header_bytes(header_fields(parsed.config, parsed.header))
        except ValueError:  # a header of long numbers exceeds 512 bytes: no -img then
            header = None
        if header is not None:
            pixels = np.zeros(det.fpixels * det.spixels, dtype="<u2").tobytes()
            words = ["-img", _written(header + pixels, ".img"), *words]
    if draw(st.booleans()):
        det = parse_nanobragg_args(words).config.detector
        seed = draw(st.integers(0, 2**32 - 1))
        kept = np.random.default_rng(seed).random((det.spixels, det.fpixels)) < 0.7
        words = [*words, "-mask", _written(mask_file_bytes(kept), ".img")]
    if draw(st.booleans()):
        words = [*words, "-dmin", repr(draw(st.floats(0.8, 20.0)))]
    return words
