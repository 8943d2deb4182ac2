"""nanoBragg's input files: ``-mat`` (A matrix), ``-sourcefile`` (sources) and SMV headers.

Each reader names the flag and the file in a one-line ConfigError for anything it cannot use
(missing, unreadable, malformed, too short). Where the reference program reads a file by a rule
that looks like a slip, the rule is matched and listed in docs/geometry.md ("Input files").
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from braggcheck.sim.orientation import Matrix, check_matrix
from braggcheck.sim.source_list import SourceList
from braggcheck.util.errors import ConfigError

SOURCE_DISTANCE_M = 10.0
"""Where a source file's missing position columns put the source: -10 m along the beam."""
SOURCE_DELIMITERS = re.compile(r"[ \t,;:!]+")
"""The reference program's field separators in text tables."""
SMV_MAGIC = b"{\nHEADER_BYT"
"""The 12 bytes the reference program checks before it reads an SMV header."""
_LEADING_NUMBER = re.compile(r"\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)")


def _read_bytes(flag: str, path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{flag}: file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{flag}: {str(path)!r} is a directory; valid: a file") from None
    except OSError as exc:
        raise ConfigError(f"{flag}: cannot read {str(path)!r}: {exc.strerror}") from None


def _read_text(flag: str, path: str | Path, what: str) -> str:
    data = _read_bytes(flag, path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        raise ConfigError(f"{flag}: {str(path)!r} is not a text file of {what}")
    return text


def read_matrix_file(path: str | Path, wavelength_A: float) -> Matrix:
    """The reciprocal vectors (rows a*, b*, c*, 1/A) of a MOSFLM A-matrix file.

    The first nine numbers are read, three per line as MOSFLM writes them: line i holds the
    i-th component of a*, b*, c* (the matrix's columns are the vectors). Anything after them
    (MOSFLM's U matrix, cell, missets) is ignored, as in the reference program, which also
    divides by the run's wavelength: an A matrix is in units of the wavelength.
    """
    text = _read_text("-mat", path, "numbers (a MOSFLM A matrix)")
    words = text.split()[:9]
    try:
        values = [float(word) for word in words]
    except ValueError:
        raise ConfigError(f"-mat: {str(path)!r}: not a number among the first nine words "
                          f"{' '.join(words)!r}; valid: a MOSFLM A matrix (3 lines of 3 "
                          "numbers)") from None
    if len(values) < 9 or not all(math.isfinite(v) for v in values):
        raise ConfigError(f"-mat: {str(path)!r} holds {len(values)} finite numbers before its "
                          "end; valid: a MOSFLM A matrix (3 lines of 3 numbers)")
    columns = np.array(values).reshape(3, 3)  # row i: component i of a*, b*, c*
    matrix = tuple(tuple(float(x) / wavelength_A for x in columns[:, j]) for j in range(3))
    check_matrix(f"-mat {str(path)!r}", matrix)
    return matrix  # type: ignore[return-value]


def matrix_file_text(matrix: Matrix, wavelength_A: float, solve) -> str:
    """The A-matrix file that reads back as ``matrix`` at ``wavelength_A`` (``solve`` finds
    each written value whose division by the wavelength is exactly the stored one)."""
    lines = []
    for i in range(3):
        row = [solve(matrix[j][i], lambda x: x / wavelength_A, matrix[j][i] * wavelength_A,
                     "reciprocal_matrix") for j in range(3)]
        lines.append(" ".join(repr(float(x)) for x in row))
    return "\n".join(lines) + "\n"


def read_source_file(path: str | Path, beam_direction: tuple[float, float, float]
                     ) -> SourceList:
    """Sources from lines of up to five numbers ``X Y Z I lambda``.

    X, Y, Z (any length unit): the source position seen from the sample; only the direction
    matters. I is read and not used, as in the reference program. lambda is in metres. Missing
    columns take the reference program's defaults: the position -10 m along the beam
    (per component), lambda the run's wavelength (stored as None). Blank lines are skipped;
    fields may be separated by spaces, tabs or any of ``,;:!``.
    """
    text = _read_text("-sourcefile", path, "sources (X Y Z I lambda per line)")
    positions, wavelengths = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        words = [w for w in SOURCE_DELIMITERS.split(line.strip()) if w]
        if not words:
            continue
        where = f"-sourcefile: {str(path)!r} line {number}"
        if len(words) > 5:
            raise ConfigError(f"{where}: {len(words)} numbers; valid: at most 5 (X Y Z I "
                              "lambda)")
        try:
            values = [float(w) for w in words]
        except ValueError:
            raise ConfigError(f"{where}: not a number in {line.strip()[:60]!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise ConfigError(f"{where}: values must be finite, got {line.strip()[:60]!r}")
        position = tuple(values[i] if i < len(values) else -SOURCE_DISTANCE_M
                         * beam_direction[i] for i in range(3))
        wavelength = values[4] * 1e10 if len(values) == 5 else None
        if wavelength is not None and not wavelength > 0:
            raise ConfigError(f"{where}: lambda = {values[4]:g} m; valid: > 0 (metres)")
        if not any(position):
            raise ConfigError(f"{where}: the source position is (0, 0, 0), which has no "
                              "direction; valid: a nonzero X Y Z")
        positions.append(position)
        wavelengths.append(wavelength)
    if not positions:
        raise ConfigError(f"-sourcefile: {str(path)!r} holds no sources (expected lines of "
                          "'X Y Z I lambda')")
    return SourceList(positions=tuple(positions), wavelengths_A=tuple(wavelengths))


def source_file_text(sources: SourceList, solve) -> str:
    """Lines ``X Y Z 1 lambda`` (lambda in metres, solved to read back exactly; a source on the
    run's wavelength is written without one, three columns)."""
    lines = []
    for position, wavelength in zip(sources.positions, sources.wavelengths_A, strict=True):
        words = [repr(float(x)) for x in position]
        if wavelength is not None:
            metres = solve(wavelength, lambda m: m * 1e10, wavelength * 1e-10,
                           "sources wavelength")
            words += ["1", repr(metres)]
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def header_value(header: str, key: str) -> float | None:
    """The reference program's SMV lookup: after the *last* occurrence of ``key`` (a substring
    anywhere, so DISTANCE finds CLOSE_DISTANCE=, ORGX finds XDS_ORGX=), the number after the
    next ``=``, read like C's atof (0 when none). None where the key does not occur."""
    at = header.rfind(key)
    if at < 0:
        return None
    equals = header.find("=", at + len(key))
    if equals < 0:
        return 0.0
    match = _LEADING_NUMBER.match(header, equals + 1)
    return float(match.group(1)) if match else 0.0


def _header_bytes(flag: str, path: str | Path, data: bytes) -> int:
    """HEADER_BYTES, looked up in the first 512 bytes as the reference does (its last
    occurrence there). Only a whole, even number of bytes within the file is accepted: the
    reference reads an unparseable value as 0 and fails, a fraction truncated, and the pixels
    of an odd-sized header one byte early (it indexes them in 16-bit words)."""
    first = data[:512].split(b"\0", 1)[0].decode("latin-1")
    at = first.rfind("HEADER_BYTES")
    equals = first.find("=", at + len("HEADER_BYTES")) if at >= 0 else -1
    raw = re.split(r"[;\n]", first[equals + 1:], maxsplit=1)[0].strip() if equals >= 0 else ""
    size = int(raw) if re.fullmatch(r"[0-9]+", raw) else -1
    if size % 2 or not 12 <= size <= len(data):
        shown = repr(raw) if raw else "(no value)" if at >= 0 else "(missing)"
        raise ConfigError(f"{flag}: {str(path)!r}: HEADER_BYTES = {shown}; valid: an even "
                          f"whole number of bytes from 12 to the file's {len(data)}")
    return size


def read_smv(flag: str, path: str | Path) -> tuple[str, np.ndarray]:
    """(header text, pixel values (height, width) as unsigned 16-bit) of an SMV image.

    Like the reference program: the header is HEADER_BYTES long, the size is SIZE1 (fast) x
    SIZE2 (slow), or DETECTOR_DIMENSIONS squared when SIZE1 is 0 or absent, and the pixels are
    read little-endian whatever BYTE_ORDER says (the reference never swaps them).
    """
    data = _read_bytes(flag, path)
    if not data.startswith(SMV_MAGIC):
        raise ConfigError(f"{flag}: {str(path)!r} is not an SMV (ADSC) image; valid: a file "
                          "starting '{\\nHEADER_BYTES='")
    size = _header_bytes(flag, path, data)
    header = data[:size].split(b"\0", 1)[0].decode("latin-1")
    width = int(header_value(header, "SIZE1") or 0)
    height = int(header_value(header, "SIZE2") or 0)
    if width == 0:
        width = height = int(header_value(header, "DETECTOR_DIMENSIONS") or 0)
    if width < 1 or height < 1:
        raise ConfigError(f"{flag}: {str(path)!r}: image size SIZE1 x SIZE2 = {width} x "
                          f"{height}; valid: at least 1 x 1 pixels")
    needed = size + 2 * width * height
    if len(data) < needed:
        raise ConfigError(f"{flag}: {str(path)!r} holds {len(data)} bytes; its header "
                          f"promises {needed} ({width} x {height} 16-bit pixels)")
    pixels = np.frombuffer(data, dtype="<u2", count=width * height, offset=size)
    return header, pixels.reshape(height, width)


def mask_file_bytes(mask: np.ndarray) -> bytes:
    """A minimal SMV image of ``mask`` (1 kept, 0 skipped): a header with the size only, so
    that reading it back sets no geometry."""
    height, width = mask.shape
    text = (f"{{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER=little_endian;\nTYPE=unsigned_short;\n"
            f"SIZE1={width};\nSIZE2={height};\n}}\f").encode()
    return text.ljust(512, b" ") + mask.astype("<u2").tobytes()
