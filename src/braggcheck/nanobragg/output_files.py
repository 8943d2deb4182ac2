"""Output paths checked before any work, and raw float32 images like ``-floatfile``.

Writing itself goes through :func:`braggcheck.util.file_writer.write_output` (atomic for files,
streamed for pipes and devices, through symbolic links).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import torch

from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import STANDARD_OUTPUT, STREAM_NAMES, write_output


def check_output_path(flag: str, path: str | Path) -> Path:
    """Refuse, before any work is done, a path whose folder is missing or is not writable."""
    if not isinstance(path, str | Path) or "\0" in str(path) or not str(path):
        raise ConfigError(f"{flag}: {path!r} is not a usable file name")
    if str(path) == STANDARD_OUTPUT or str(path).startswith(STREAM_NAMES):
        return Path(path)
    try:
        mode = os.stat(path).st_mode  # follows symbolic links
    except OSError:
        mode = None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        return Path(path)  # streamed in place: its folder is not written
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ConfigError(f"{flag}: {str(path)!r} is neither a regular file, a FIFO nor a "
                          "character device")
    given = Path(path)
    path = Path(os.path.realpath(given)) if given.is_symlink() else given
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{flag}: folder {str(folder)!r} of {str(path)!r} does not exist")
    if path.is_dir():
        raise ConfigError(f"{flag}: {str(path)!r} is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{flag}: folder {str(folder)!r} is not writable")
    return given


def float_image_bytes(image: torch.Tensor) -> bytes:
    """Little-endian float32, slow index outer, as the reference program's ``-floatfile``."""
    return image.detach().cpu().numpy().astype("<f4").tobytes()


def write_float_image(path: str | Path, image: torch.Tensor) -> None:
    write_output(path, float_image_bytes(image))


def read_float_image(path: str | Path, spixels: int, fpixels: int) -> np.ndarray:
    return np.fromfile(path, dtype="<f4").reshape(spixels, fpixels)
