"""The reference program's random numbers and mosaic-domain draws, reproduced exactly.

nanoBragg uses Numerical Recipes' ``ran1`` (Park-Miller minimal standard generator with a
Bays-Durham shuffle) and returns its result as float32; a negative seed re-initialises it.
The draws are constants of a configuration (they do not depend on any refinable parameter), so
this module is plain Python; the rotation angle stays differentiable in the spread elsewhere.
"""

from __future__ import annotations

import math
import struct

import numpy as np

_IA = 16807
_IM = 2147483647
_IQ = 127773
_IR = 2836
_NTAB = 32
_NDIV = 1 + (_IM - 1) // _NTAB
_AM = 1.0 / _IM
_RNMX = 1.0 - 1.2e-7
_FLOAT32 = struct.Struct("f")


def float32(value: float) -> float:
    """``value`` rounded to single precision (a C ``float``); faster than numpy for scalars."""
    return _FLOAT32.unpack(_FLOAT32.pack(value))[0]


_RNMX32 = float32(_RNMX)


def _lcg(state: int) -> int:
    """One Schrage step of the minimal standard generator."""
    k = state // _IQ  # state is positive here, so floor division equals C's truncation
    state = _IA * (state - k * _IQ) - _IR * k
    return state + _IM if state < 0 else state


class Ran1:
    """``ran1`` seeded as the reference program seeds it: ``Ran1(-N)`` for a flag value ``N``."""

    def __init__(self, seed: int) -> None:
        self._idum = seed
        self._iy = 0
        self._iv = [0] * _NTAB

    def _initialise(self) -> None:
        self._idum = max(1, -self._idum)
        for j in range(_NTAB + 7, -1, -1):
            self._idum = _lcg(self._idum)
            if j < _NTAB:
                self._iv[j] = self._idum
        self._iy = self._iv[0]

    def __call__(self) -> float:
        if self._idum <= 0 or self._iy == 0:
            self._initialise()
        self._idum = _lcg(self._idum)
        j = self._iy // _NDIV
        self._iy = self._iv[j]
        self._iv[j] = self._idum
        value = float32(_AM * self._iy)
        return value if value < _RNMX32 else _RNMX32


def mosaic_draws(seed: int, domains: int) -> tuple[np.ndarray, np.ndarray]:
    """Axes (M, 3) and angle factors (M,) of the mosaic domains for ``-mosaic_seed seed``.

    Domain m rotates by ``spread * factor[m]`` (radians) about ``axes[m]``. Domain 0 is the
    identity (factor 0) but its draw is still consumed, as in the reference program. The factor
    ``(1 - r^2)^(1/3)`` is computed in single precision, as the reference program does.
    """
    rng = Ran1(-abs(seed))
    axes = np.zeros((domains, 3))
    factors = np.zeros(domains)
    for m in range(domains):
        r1, r2, r3 = (2.0 * rng() - 1.0 for _ in range(3))
        radial = math.sqrt(1.0 - r2 * r2)
        axes[m] = (radial * math.sin(math.pi * r1), radial * math.cos(math.pi * r1), r2)
        factors[m] = float(np.float32(np.float32(1.0 - r3 * r3) ** np.float32(1.0 / 3.0)))
    factors[0] = 0.0
    axes[0] = (0.0, 0.0, 1.0)
    return axes, factors
