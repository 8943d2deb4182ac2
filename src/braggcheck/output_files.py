"""Writing images: raw float32 like ``-floatfile``, always atomically.

A file is written to a temporary name in the destination folder and renamed into place, so an
interrupted or failed run never leaves a truncated image behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError


def check_output_path(flag: str, path: str | Path) -> Path:
    """Refuse, before any work is done, a path whose folder is missing or is not writable."""
    if not isinstance(path, str | Path) or "\0" in str(path) or not str(path):
        raise ConfigError(f"{flag}: {path!r} is not a usable file name")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{flag}: folder {str(folder)!r} of {str(path)!r} does not exist")
    if path.is_dir():
        raise ConfigError(f"{flag}: {str(path)!r} is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{flag}: folder {str(folder)!r} is not writable")
    return path


def write_atomically(path: str | Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                         dir=path.parent if str(path.parent) else ".")
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (0666 - umask).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def float_image_bytes(image: torch.Tensor) -> bytes:
    """Little-endian float32, slow index outer, as the reference program's ``-floatfile``."""
    return image.detach().cpu().numpy().astype("<f4").tobytes()


def write_float_image(path: str | Path, image: torch.Tensor) -> None:
    write_atomically(path, float_image_bytes(image))


def read_float_image(path: str | Path, spixels: int, fpixels: int) -> np.ndarray:
    return np.fromfile(path, dtype="<f4").reshape(spixels, fpixels)
