"""A second, plain-numpy model of the simplest images, written from the physics brief.

The relation checks compare the simulator with values computed here, so nothing here may call
the simulator's torch code (a bug shared by both sides would pass unseen): detector placement
(brief 6.4-6.6), the cell basis (2.1, 2.3, 2.5), the scattering vector and Miller indices (7.4),
the lattice factors (3), the polarization factor (5.5) and the solid angle (7.3). Only plain
configuration data is shared: the convention frames (the brief's table 6.2), the resolved beam
centre (the convention's default when none is given) and the registry values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from braggcheck.sim.config import Config
from braggcheck.sim.detector import FRAMES
from braggcheck.sim.state import baseline_value

R_E_SQUARED = 7.94079248018965e-30
"""r_e^2 in m^2 (brief section 1), written out here rather than imported."""
ROUND_SCALE = 0.723601254558268
"""The ROUND crystal's normalisation (brief section 3), written out here rather than imported."""
TOPHAT_EDGE = 0.3969


def _unit(v: np.ndarray) -> np.ndarray:
    """v / |v|; a zero vector stays zero (the reference's unitize, and the simulator's)."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norm > 0, norm, 1.0)


def rotation_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    """Rz Ry Rx (angles in degrees): the misset's and detector's x-then-y-then-z rotation."""
    x, y, z = (math.radians(a) for a in (rx, ry, rz))
    mx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    my = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    mz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    return mz @ my @ mx


def rodrigues(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """The matrix of R(u, t) x = x cos t + (u x x) sin t + u (u . x)(1 - cos t); ``axis`` is
    used as given (the two-theta axis is not normalised, brief 6.4)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    ux, uy, uz = axis
    cross = np.array([[0, -uz, uy], [uz, 0, -ux], [-uy, ux, 0]])
    return c * np.eye(3) + s * cross + (1 - c) * np.outer(axis, axis)


def euler_xyz(matrix: np.ndarray) -> tuple[float, float, float]:
    """Misset angles (degrees) whose rotation Rz Ry Rx is ``matrix`` (brief 2.3's formulas)."""
    rx = math.atan2(matrix[2, 1], matrix[2, 2])
    ry = math.atan2(-matrix[2, 0], math.hypot(matrix[2, 1], matrix[2, 2]))
    rz = math.atan2(matrix[1, 0], matrix[0, 0])
    return math.degrees(rx), math.degrees(ry), math.degrees(rz)


@dataclass(frozen=True)
class Placement:
    """The placed detector (metres): pix0, rotated axes and the perpendicular distance."""

    pix0: np.ndarray
    fdet: np.ndarray
    sdet: np.ndarray
    odet: np.ndarray
    close: float
    beam: np.ndarray
    polar: np.ndarray


def _vector(value: object, default: tuple[float, float, float]) -> np.ndarray:
    chosen = default if value is None else value
    return np.array([float(x) for x in chosen])  # type: ignore[union-attr]


def placement(config: Config) -> Placement:
    """Detector placement by the brief's 6.4-6.5 rules."""
    det = config.detector
    frame = FRAMES[det.convention]
    f0 = _unit(_vector(det.fdet_vector, frame.fdet))
    s0 = _unit(_vector(det.sdet_vector, frame.sdet))
    o0 = _vector(det.odet_vector, frame.odet)
    if abs(np.linalg.norm(o0) - 1.0) > 0:
        o0 = _unit(np.cross(f0, s0))
    axis = _vector(det.twotheta_axis, frame.twotheta_axis)
    beam = _unit(_vector(config.beam.beam_vector, frame.beam))
    polar = _unit(_vector(config.beam.polar_vector, frame.polar))
    tilt = rotation_xyz(*(baseline_value(config, f"detector_rot{a}_deg") for a in "xyz"))
    swing = rodrigues(axis, math.radians(baseline_value(config, "twotheta_deg")))
    f1, s1, o1 = (swing @ tilt @ v for v in (f0, s0, o0))
    rho = float(beam @ (tilt @ o0)) or np.finfo(float).tiny
    if det.close_distance_mm is not None:
        close_in = det.close_distance_mm * 1e-3
    else:
        close_in = abs(rho * baseline_value(config, "distance_mm") * 1e-3)
    pivot = det.pivot or frame.pivot
    if pivot == "sample":
        size_f, size_s = det.fpixels * det.pixel_mm, det.spixels * det.pixel_mm
        close_f = size_f / 2 if det.close_f_mm is None else det.close_f_mm
        close_s = size_s / 2 if det.close_s_mm is None else det.close_s_mm
        pix0 = swing @ tilt @ (-close_f * 1e-3 * f0 - close_s * 1e-3 * s0 + close_in * o0)
    else:
        pix0 = (-baseline_value(config, "beam_center_f_mm") * 1e-3 * f1
                - baseline_value(config, "beam_center_s_mm") * 1e-3 * s1
                + close_in / rho * beam)
    return Placement(pix0, f1, s1, o1, float(pix0 @ o1), beam, polar)


def first_subpixels(config: Config, place: Placement, oversample: int) -> np.ndarray:
    """(spixels, fpixels, 3): position of every pixel's first subpixel (brief 6.6)."""
    det = config.detector
    sub = det.pixel_mm * 1e-3 / oversample
    fast = sub * (np.arange(det.fpixels) * oversample + 0.5)
    slow = sub * (np.arange(det.spixels) * oversample + 0.5)
    return (place.pix0 + slow[:, None, None] * place.sdet + fast[None, :, None] * place.fdet)


def solid_angle(config: Config, place: Placement, positions: np.ndarray) -> np.ndarray:
    """omega = px^2 close / R^3, or 1 / R^2 for a point pixel (brief 7.3)."""
    distance = np.linalg.norm(positions, axis=-1)
    if config.detector.point_pixel:
        return 1.0 / distance**2
    return (config.detector.pixel_mm * 1e-3) ** 2 * place.close / distance**3


def polarization(incident: np.ndarray, diffracted: np.ndarray, polar: np.ndarray,
                 kahn: float) -> np.ndarray:
    """P = (1 + c^2 - K cos(2 psi) (1 - c^2)) / 2 with psi from atan2 (brief 5.5)."""
    c = diffracted @ incident
    if kahn == 0:
        return 0.5 * (1 + c * c)
    b_axis = _unit(np.cross(polar, incident))
    e_axis = _unit(np.cross(incident, b_axis))
    psi = -np.arctan2(diffracted @ b_axis, diffracted @ e_axis)
    return 0.5 * (1 + c * c - kahn * np.cos(2 * psi) * (1 - c * c))


def cell_vectors(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """(real rows a, b, c in metres after misset and phi; reciprocal rows in 1/A after the
    misset only), by the brief's 2.1 steps, 2.3 and 2.5 (the first phi step)."""
    a, b, c = (baseline_value(config, f"cell_{x}") for x in "abc")
    al, be, ga = (math.radians(baseline_value(config, f"cell_{x}"))
                  for x in ("alpha", "beta", "gamma"))
    s = (al + be + ga) / 2
    volume = 2 * a * b * c * math.sqrt(abs(math.sin(s) * math.sin(s - al) * math.sin(s - be)
                                           * math.sin(s - ga)))
    a_len, b_len, c_len = (b * c * math.sin(al) / volume, c * a * math.sin(be) / volume,
                           a * b * math.sin(ga) / volume)

    def clamp(cosine: float) -> float:
        return 1.0 if cosine * cosine > 1 else cosine

    ca = clamp((math.cos(be) * math.cos(ga) - math.cos(al)) / (math.sin(be) * math.sin(ga)))
    cb = clamp((math.cos(ga) * math.cos(al) - math.cos(be)) / (math.sin(ga) * math.sin(al)))
    cg = clamp((math.cos(al) * math.cos(be) - math.cos(ga)) / (math.sin(al) * math.sin(be)))
    sg = min(c / (volume * a_len * b_len), 1.0)
    recip = np.array([
        [a_len, 0.0, 0.0],
        [b_len * cg, b_len * sg, 0.0],
        [c_len * cb, c_len * (ca - cb * cg) / sg, c_len * volume / (a * b * c * sg)],
    ])
    if config.crystal.reciprocal_matrix is not None:  # -mat: its directions, the cell's lengths
        recip = np.array(config.crystal.reciprocal_matrix, dtype=float)
    misset = rotation_xyz(*(baseline_value(config, f"misset_rot_{x}") for x in "xyz"))
    recip = recip @ misset.T
    real = np.array([length * _unit(np.cross(recip[(i + 1) % 3], recip[(i + 2) % 3]))
                     for i, length in enumerate((a, b, c))])
    recip = np.array([np.cross(real[(i + 1) % 3], real[(i + 2) % 3]) / volume
                      for i in range(3)])
    frame = FRAMES[config.detector.convention]
    spindle = _unit(_vector(config.crystal.spindle_axis, frame.spindle))
    turn = rodrigues(spindle, math.radians(baseline_value(config, "phi_start_deg")))
    return real @ turn.T * 1e-10, recip


def spherical_transform(x2: np.ndarray) -> np.ndarray:
    """j(x) = 3 (sin x / x - cos x) / x^2 of x^2; its series below x^2 = 1e-2, where the
    closed form loses digits to cancellation (the series' next term is below 1e-16 there)."""
    x = np.sqrt(np.where(x2 < 1e-2, 1.0, x2))
    exact = 3 * (np.sin(x) / x - np.cos(x)) / x**2
    series = 1 - x2 / 10 + x2**2 / 280 - x2**3 / 15120
    return np.where(x2 < 1e-2, series, exact)


def lattice_factor(shape: str, hkl: np.ndarray, reciprocal: np.ndarray,
                   cells: tuple[int, int, int], fudge: float) -> np.ndarray:
    """F_latt of fractional indices (..., 3) for each crystal shape (brief section 3)."""
    nearest = np.ceil(hkl - 0.5)
    volume = cells[0] * cells[1] * cells[2]
    if shape == "square":
        value = np.ones(hkl.shape[:-1])
        for axis, n in enumerate(cells):
            if n > 1:
                x = math.pi * hkl[..., axis]
                safe = np.where(x == 0, 1.0, np.sin(x))
                value = value * np.where(x == 0, n, np.sin(n * x) / safe)
        return value
    offset = hkl - nearest
    if shape == "round":
        q = ((offset * np.array(cells)) ** 2).sum(-1)
        return volume * ROUND_SCALE * spherical_transform(math.pi**2 * q * fudge)
    delta = offset @ reciprocal
    rho = (delta * delta).sum(-1) * volume**2
    if shape == "gauss":
        return volume * np.exp(-rho * fudge / 0.63)
    return volume * (rho * fudge < TOPHAT_EDGE)


def tophat_margin(hkl: np.ndarray, reciprocal: np.ndarray, cells: tuple[int, int, int],
                  fudge: float) -> np.ndarray:
    """|rho fudge / 0.3969 - 1|: how far each sample is from the TOPHAT edge (relative)."""
    offset = hkl - np.ceil(hkl - 0.5)
    delta = offset @ reciprocal
    rho = (delta * delta).sum(-1) * (cells[0] * cells[1] * cells[2]) ** 2
    return np.abs(rho * fudge / TOPHAT_EDGE - 1)


@dataclass(frozen=True)
class Model:
    """The independent image of a one-source, one-step, one-domain, oversample-1 config."""

    image: np.ndarray
    hkl: np.ndarray
    reciprocal: np.ndarray


def simple_image(config: Config) -> Model:
    """Photons per pixel: r_e^2 fluence F^2 F_latt^2 P omega at each pixel centre."""
    crystal = config.crystal
    place = placement(config)
    positions = first_subpixels(config, place, 1)
    diffracted = _unit(positions)
    wavelength = baseline_value(config, "lambda_A") * 1e-10
    scattering = (diffracted - place.beam) / wavelength
    real, reciprocal = cell_vectors(config)
    hkl = scattering @ real.T
    cells = (crystal.n_a, crystal.n_b, crystal.n_c)
    lattice = lattice_factor(crystal.shape, hkl, reciprocal, cells, crystal.fudge)
    factor = np.ones(lattice.shape) if config.beam.nopolar else polarization(
        place.beam, diffracted, place.polar, baseline_value(config, "polarization"))
    omega = solid_angle(config, place, positions)
    value = (R_E_SQUARED * baseline_value(config, "fluence") * crystal.default_F**2
             * lattice**2 * factor * omega)
    return Model(value, hkl, reciprocal)
