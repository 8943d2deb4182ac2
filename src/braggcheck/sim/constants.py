"""Physical constants and unit conversions used by the nanoBragg model."""

import math

R_E_SQUARED_M2 = 7.94079248018965e-30
"""Classical electron radius squared (m^2), the value the reference program uses."""

DEFAULT_FLUENCE = 1.25932015286227086e29
"""Default fluence (photons/m^2); r_e^2 times this is 1 to double precision."""

HC_EV_ANGSTROM = 12398.42
"""Photon energy (eV) times wavelength (Angstrom), as used by ``-energy``."""

DEG = math.pi / 180.0
ANGSTROM = 1e-10
MM = 1e-3
