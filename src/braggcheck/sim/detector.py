"""Detector and beam frames per convention, detector rotations, pivots and the pix0 vector.

All lengths are metres. The rules follow the reference program (physics brief section 6),
including the ones that differ from its written spec: the convention forces the pivot, and the
distance ratio rho uses the x/y/z rotations but not two-theta.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from braggcheck.sim.constants import DEG, MM
from braggcheck.sim.rotations import rotate_axis, rotate_xyz, unit
from braggcheck.sim.sections import DetectorConfig

Vector = tuple[float, float, float]


@dataclass(frozen=True)
class Frame:
    """Unrotated detector basis, two-theta axis, beam, polarization, spindle and pivot."""

    fdet: Vector
    sdet: Vector
    odet: Vector
    twotheta_axis: Vector
    beam: Vector
    polar: Vector
    spindle: Vector
    pivot: str


FRAMES: dict[str, Frame] = {
    "mosflm": Frame((0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 0, -1), (1, 0, 0), (0, 0, 1),
                    (0, 0, 1), "beam"),
    "denzo": Frame((0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 0, -1), (1, 0, 0), (0, 0, 1),
                   (0, 0, 1), "beam"),
    "xds": Frame((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0), (0, 0, 1), (1, 0, 0),
                 (1, 0, 0), "sample"),
    "dials": Frame((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 0), (0, 0, 1), (0, 1, 0),
                   (0, 1, 0), "sample"),
    "adxv": Frame((1, 0, 0), (0, -1, 0), (0, 0, 1), (-1, 0, 0), (0, 0, 1), (1, 0, 0),
                  (1, 0, 0), "beam"),
    "custom": Frame((0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 1, 0), (1, 0, 0), (0, 0, 1),
                    (0, 0, 1), "beam"),
}


def detector_size_mm(det: DetectorConfig) -> tuple[float, float]:
    return det.fpixels * det.pixel_mm, det.spixels * det.pixel_mm


def default_beam_center_mm(convention: str, size_f: float, size_s: float, pixel: float,
                           close_f: float, close_s: float) -> tuple[float, float]:
    """(Fbeam, Sbeam) in mm when no beam centre is given (brief section 6.3)."""
    if convention == "mosflm":  # Xbeam=(Ds+px)/2 along slow, Ybeam=(Df+px)/2 along fast
        return (size_f + pixel) / 2 + pixel / 2, (size_s + pixel) / 2 + pixel / 2
    if convention == "denzo":
        return (size_f + pixel) / 2, (size_s + pixel) / 2
    if convention == "adxv":
        return (size_f + pixel) / 2, size_s - (size_s - pixel) / 2
    return close_f, close_s


def resolved_close_mm(det: DetectorConfig) -> tuple[float, float]:
    """(Fclose, Sclose) in mm: the SAMPLE pivot's origin, the detector centre by default."""
    size_f, size_s = detector_size_mm(det)
    close_f = size_f / 2 if det.close_f_mm is None else det.close_f_mm
    close_s = size_s / 2 if det.close_s_mm is None else det.close_s_mm
    return close_f, close_s


def resolved_beam_center_mm(det: DetectorConfig) -> tuple[float, float]:
    """(Fbeam, Sbeam) as floats, with the convention's defaults for unset values."""
    size_f, size_s = detector_size_mm(det)
    default_f, default_s = default_beam_center_mm(
        det.convention, size_f, size_s, det.pixel_mm, *resolved_close_mm(det)
    )
    f = default_f if det.beam_center_f_mm is None else det.beam_center_f_mm
    s = default_s if det.beam_center_s_mm is None else det.beam_center_s_mm
    return float(f), float(s)


def effective_pivot(det: DetectorConfig) -> str:
    return det.pivot if det.pivot is not None else FRAMES[det.convention].pivot


@dataclass(frozen=True)
class DetectorGeometry:
    """Rotated detector basis and the vector from the sample to pixel (0, 0)'s outer corner."""

    pix0: torch.Tensor
    fdet: torch.Tensor
    sdet: torch.Tensor
    odet: torch.Tensor
    beam: torch.Tensor
    polar: torch.Tensor
    close: torch.Tensor
    """Perpendicular sample-to-plane distance, recomputed from pix0 (enters the solid angle)."""
    distance: torch.Tensor
    """Distance along the beam, recomputed as close / rho (feeds the auto oversample rule)."""
    pixel: float


def detector_geometry(
    det: DetectorConfig,
    state: dict[str, torch.Tensor],
    beam_vector: Vector | None = None,
    polar_vector: Vector | None = None,
) -> DetectorGeometry:
    """Place the detector for registry values ``state`` (its tensors set dtype and device)."""
    like = state["distance_mm"]
    frame = FRAMES[det.convention]

    def vec(value: Vector | None, default: Vector) -> torch.Tensor:
        chosen = default if value is None else value
        return torch.tensor([float(x) for x in chosen], dtype=like.dtype, device=like.device)

    fdet = unit(vec(det.fdet_vector, frame.fdet))
    sdet = unit(vec(det.sdet_vector, frame.sdet))
    odet = vec(det.odet_vector, frame.odet)
    if abs(float(torch.linalg.norm(odet)) - 1.0) > 0:
        odet = unit(torch.linalg.cross(fdet, sdet))
    # The two-theta axis is not normalised, as in the reference program.
    twotheta_axis = vec(det.twotheta_axis, frame.twotheta_axis)
    beam = unit(vec(beam_vector, frame.beam))
    polar = unit(vec(polar_vector, frame.polar))

    rotations = tuple(state[f"detector_rot{a}_deg"] * DEG for a in "xyz")
    twotheta = state["twotheta_deg"] * DEG
    basis = torch.stack((fdet, sdet, odet))
    tilted = rotate_xyz(basis, *rotations)
    swung = rotate_axis(tilted, twotheta_axis, twotheta)
    f_rot, s_rot, o_rot = swung.unbind(0)

    rho = (beam * tilted[2]).sum()
    rho = torch.where(rho == 0, torch.finfo(rho.dtype).tiny, rho)
    if det.close_distance_mm is not None:
        close_in = torch.as_tensor(det.close_distance_mm * MM, dtype=like.dtype,
                                   device=like.device)
    else:
        close_in = torch.abs(rho * state["distance_mm"] * MM)
    distance_in = close_in / rho

    if effective_pivot(det) == "sample":
        close_f, close_s = resolved_close_mm(det)
        origin = -close_f * MM * fdet - close_s * MM * sdet + close_in * odet
        pix0 = rotate_axis(rotate_xyz(origin, *rotations), twotheta_axis, twotheta)
    else:
        pix0 = (
            -state["beam_center_f_mm"] * MM * f_rot
            - state["beam_center_s_mm"] * MM * s_rot
            + distance_in * beam
        )
    close = (pix0 * o_rot).sum()
    return DetectorGeometry(
        pix0=pix0,
        fdet=f_rot,
        sdet=s_rot,
        odet=o_rot,
        beam=beam,
        polar=polar,
        close=close,
        distance=close / rho,
        pixel=det.pixel_mm * MM,
    )
