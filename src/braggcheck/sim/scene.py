"""The scene: everything per image that does not depend on pixels (cell, orientations,
sources, detector placement, the Miller-index projection), built once per ``simulate``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from braggcheck.sim.amplitudes import amplitude_grid
from braggcheck.sim.config import Config
from braggcheck.sim.constants import R_E_SQUARED_M2
from braggcheck.sim.crystal import cell_basis, mosaic_matrices, orientations, phi_angles
from braggcheck.sim.crystal_size import (
    continuous_sizes,
)
from braggcheck.sim.detector import FRAMES, DetectorGeometry, detector_geometry
from braggcheck.sim.geometry_checks import check_geometry
from braggcheck.sim.orientation import crystal_matrix
from braggcheck.sim.pixel_features import PixelFeatures, pixel_features
from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.sim.resolution import (
    ResolutionCut,
    resolution_cut,
)
from braggcheck.sim.sensor import Sensor, sensor_model
from braggcheck.sim.sources import Sources, source_grid


@dataclass(frozen=True)
class Scene:
    """Everything the per-pixel kernel needs, already on the right device and dtype."""

    detector: DetectorGeometry
    sources: Sources
    orientations: torch.Tensor  # (O, 3, 3): real basis vectors (m) per phi step x domain
    projection: torch.Tensor  # (3*S*O, 3): rows a_i / lambda_s, ordered (axis i, source, orient.)
    projection_offset: torch.Tensor  # (3*S*O, 1): incident_s . a_i / lambda_s, same order
    reciprocal: torch.Tensor  # (3, 3): unrotated reciprocal basis (1/A), for GAUSS/TOPHAT
    cells: tuple[int, int, int]
    amplitudes: torch.Tensor | None  # dense F grid or None when every F is default_F
    hkl_origin: tuple[int, int, int]
    default_F: float
    shape: str
    fudge: float
    oversample: int
    kahn: torch.Tensor
    sample_dtype: torch.dtype  # per-sample lattice math; geometry stays in the scene's dtype
    nopolar: bool
    point_pixel: bool
    scale: torch.Tensor  # r_e^2 * fluence / steps
    sensor: Sensor | None = None  # detector thickness layers; None for a thin detector
    mask: PixelMask | None = None  # -mask: pixels evaluated (braggcheck.sim.pixel_mask)
    resolution: ResolutionCut | None = None  # -dmin (braggcheck.sim.resolution)
    features: PixelFeatures | None = None  # water, curved detector, per-subpixel factors
    sizes: torch.Tensor | None = None  # (3,) real cell counts; None: the integers (crystal_size)
    interpolate: bool = False  # tricubic F between reflections (braggcheck.sim.amplitudes)


def build_scene(config: Config, state: dict[str, torch.Tensor],
                sample_dtype: torch.dtype | None = None,
                structure_factors: torch.Tensor | None = None) -> Scene:
    crystal, beam, det = config.crystal, config.beam, config.detector
    frame = FRAMES[det.convention]
    geometry = detector_geometry(det, state, beam.beam_vector, beam.polar_vector)
    check_geometry(config, geometry, state)
    like = state["cell_a"]
    basis = cell_basis(state, crystal_matrix(crystal, like))
    spindle = torch.tensor(
        [float(x) for x in (crystal.spindle_axis or frame.spindle)],
        dtype=like.dtype, device=like.device,
    )
    phis = phi_angles(state, crystal.phi_step_deg, crystal.phi_steps)
    mosaic = mosaic_matrices(state["mosaic_spread_deg"], crystal.mosaic_domains,
                             crystal.mosaic_seed)
    sources = source_grid(beam, geometry.beam, geometry.polar, state["lambda_A"],
                          state["divergence_mrad"], state["dispersion"])
    oversample = config.oversample
    steps = sources.wavelength.shape[0] * crystal.mosaic_domains * crystal.phi_steps
    steps *= oversample * oversample
    table = crystal.hkl
    oriented = orientations(basis.real, spindle, phis, mosaic)
    projection, projection_offset = hkl_projection(sources, oriented)
    return Scene(
        detector=geometry,
        sources=sources,
        orientations=oriented,
        projection=projection,
        projection_offset=projection_offset,
        reciprocal=basis.reciprocal,
        cells=(crystal.n_a, crystal.n_b, crystal.n_c),
        amplitudes=None if table is None else amplitude_grid(
            table, structure_factors, sample_dtype or like.dtype, like.device),
        hkl_origin=(0, 0, 0) if table is None else table.origin,
        default_F=float(crystal.default_F),
        shape=crystal.shape,
        fudge=float(crystal.fudge),
        oversample=oversample,
        kahn=state["polarization"],
        sample_dtype=sample_dtype or like.dtype,
        nopolar=beam.nopolar,
        point_pixel=det.point_pixel,
        scale=R_E_SQUARED_M2 * state["fluence"] / steps,
        sensor=sensor_model(det, state),
        mask=det.mask,
        resolution=resolution_cut(det.dmin_A, basis.real),
        features=pixel_features(state, det.curved_detector, det.oversample_thick,
                                det.oversample_polar, det.oversample_omega),
        sizes=continuous_sizes((crystal.n_a, crystal.n_b, crystal.n_c), state),
        interpolate=table is not None and crystal.interpolate,
    )


def hkl_projection(sources: Sources, oriented: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold wavelength and incident direction into the Miller-index projection, once per image.

    h_i = a_i . (d - i_s) / lambda_s = d . (a_i / lambda_s) - i_s . (a_i / lambda_s), so one
    matrix product of the unit diffracted directions with ``projection`` minus ``offset`` gives
    every (axis, source, orientation) index with no per-sample scattering vector.
    """
    scaled = oriented[None] / sources.wavelength[:, None, None, None]  # (S, O, 3 axes, 3)
    offset = torch.einsum("sk,soik->iso", sources.incident, scaled)
    return scaled.permute(2, 0, 1, 3).reshape(-1, 3), offset.reshape(-1, 1)
