"""The differentiable nanoBragg image: photons per pixel, as ``-floatfile`` writes them.

``simulate`` is a pure function of a :class:`Config` and optional tensor overrides of registry
parameters. Everything that does not depend on pixels (cell, orientations, sources, detector
placement) is built once; pixels are then evaluated in chunks to bound memory, and, when a
gradient is wanted and there are several chunks, each chunk is recomputed during the backward
pass instead of storing its intermediates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch.utils.checkpoint import checkpoint

from .compilation import maybe_compile
from .config import Config, _as_float, _check_cell_angles, resolved_default
from .constants import R_E_SQUARED_M2
from .crystal import cell_basis, mosaic_matrices, orientations, phi_angles
from .detector import FRAMES, DetectorGeometry, detector_geometry
from .errors import ConfigError
from .physics import (
    gauss_lattice_factor,
    nearest_integer,
    polarization_factor,
    round_lattice_factor,
    square_lattice_factor,
    tophat_lattice_factor,
)
from .registry import PARAMETERS
from .sensor import Sensor, capture_fraction, layer_positions, sensor_model
from .sources import Sources, source_grid
from .validation import check_int

ELEMENTS_PER_CHUNK = 1 << 21
"""Samples (subpixel x source x orientation) evaluated at once; bounds the working memory."""
MAX_OVERSAMPLE = 64
"""The largest subpixel count per pixel edge, explicit or automatic (DetectorConfig's limit)."""
MIN_CLOSE_FRACTION = 1e-6
"""The detector plane must stay this fraction of the given distance away from the sample."""


def build_state(
    config: Config,
    params: Mapping[str, torch.Tensor] | None,
    dtype: torch.dtype,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """Every registry parameter as a scalar tensor: from ``params`` if given, else the config.

    Tensors keep their graph (``.to`` is differentiable); plain numbers become constants.
    """
    if params is not None and not isinstance(params, Mapping):
        raise ConfigError(f"params: expected a dict of parameter name -> tensor, "
                          f"got {type(params).__name__}")
    params = dict(params or {})
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ConfigError(
            f"params: unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(PARAMETERS)}"
        )
    state = {}
    for name, parameter in PARAMETERS.items():
        if name in params:
            value = params[name]
            parameter.validate(value)
        else:
            value = getattr(getattr(config, parameter.section), parameter.field)
            if value is None:  # a default that depends on other fields (beam centre, divergence)
                value = resolved_default(config, name)
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise ConfigError(f"params[{name!r}]: expected a scalar tensor, got shape "
                                  f"{tuple(value.shape)}")
            state[name] = value.to(dtype=dtype, device=device).reshape(())
        else:
            state[name] = torch.tensor(float(value), dtype=dtype, device=device)
    _check_cell_angles(state["cell_alpha"], state["cell_beta"], state["cell_gamma"])
    return state


@dataclass(frozen=True)
class Scene:
    """Everything the per-pixel kernel needs, already on the right device and dtype."""

    detector: DetectorGeometry
    sources: Sources
    orientations: torch.Tensor  # (O, 3, 3): real basis vectors (m) per phi step x domain
    reciprocal: torch.Tensor  # (3, 3): unrotated reciprocal basis (1/A), for GAUSS/TOPHAT
    cells: tuple[int, int, int]
    amplitudes: torch.Tensor | None  # dense F grid or None when every F is default_F
    hkl_origin: tuple[int, int, int]
    default_F: float
    shape: str
    fudge: float
    oversample: int
    kahn: torch.Tensor
    nopolar: bool
    point_pixel: bool
    scale: torch.Tensor  # r_e^2 * fluence / steps
    sensor: Sensor | None = None  # detector thickness layers; None for a thin detector


def build_scene(config: Config, state: dict[str, torch.Tensor]) -> Scene:
    crystal, beam, det = config.crystal, config.beam, config.detector
    frame = FRAMES[det.convention]
    geometry = detector_geometry(det, state, beam.beam_vector, beam.polar_vector)
    _check_geometry(config, geometry, state)
    basis = cell_basis(state)
    like = state["cell_a"]
    spindle = torch.tensor(
        [float(x) for x in (crystal.spindle_axis or frame.spindle)],
        dtype=like.dtype, device=like.device,
    )
    phis = phi_angles(state, crystal.phi_step_deg, crystal.phi_steps)
    mosaic = mosaic_matrices(state["mosaic_spread_deg"], crystal.mosaic_domains,
                             crystal.mosaic_seed)
    sources = source_grid(beam, geometry.beam, geometry.polar, state["lambda_A"],
                          state["divergence_mrad"], state["dispersion"])
    oversample = det.oversample or auto_oversample(config, geometry)
    steps = sources.wavelength.shape[0] * crystal.mosaic_domains * crystal.phi_steps
    steps *= oversample * oversample
    table = crystal.hkl
    return Scene(
        detector=geometry,
        sources=sources,
        orientations=orientations(basis.real, spindle, phis, mosaic),
        reciprocal=basis.reciprocal,
        cells=(crystal.n_a, crystal.n_b, crystal.n_c),
        amplitudes=None if table is None else torch.as_tensor(
            table.amplitudes, dtype=like.dtype, device=like.device),
        hkl_origin=(0, 0, 0) if table is None else table.origin,
        default_F=float(crystal.default_F),
        shape=crystal.shape,
        fudge=float(crystal.fudge),
        oversample=oversample,
        kahn=state["polarization"],
        nopolar=beam.nopolar,
        point_pixel=det.point_pixel,
        scale=R_E_SQUARED_M2 * state["fluence"] / steps,
        sensor=sensor_model(det),
    )


def auto_oversample(config: Config, geometry: DetectorGeometry) -> int:
    """The reference program's choice: enough subpixels to resolve the crystal's spot size."""
    crystal = config.crystal
    xtal_max = max(
        float(crystal.cell_a) * crystal.n_a,
        float(crystal.cell_b) * crystal.n_b,
        float(crystal.cell_c) * crystal.n_c,
    ) * 1e-10
    wavelength = float(config.beam.lambda_A) * 1e-10
    distance = float(geometry.distance.detach())  # negative facing away: then 1 subpixel
    wanted = 3 * xtal_max * geometry.pixel / (wavelength * distance)
    if not (wanted <= MAX_OVERSAMPLE and math.isfinite(wanted)):  # inf, nan: extreme geometry
        raise ConfigError(
            f"oversample: the automatic choice would be {wanted:.3g} subpixels per pixel edge "
            f"(crystal {xtal_max * 1e10:g} A, lambda {wavelength * 1e10:g} A, distance "
            f"{distance * 1e3:g} mm); valid: <= {MAX_OVERSAMPLE}; give oversample explicitly"
        )
    return max(1, math.ceil(wanted))


def _check_geometry(config: Config, geometry: DetectorGeometry,
                    state: dict[str, torch.Tensor]) -> None:
    """Refuse a detector plane through the sample and an impossible automatic oversample."""
    det = config.detector
    given = det.close_distance_mm if det.close_distance_mm is not None else state["distance_mm"]
    given_mm = abs(_as_float(given))
    close_mm = float(geometry.close.detach()) * 1e3
    if not abs(close_mm) >= MIN_CLOSE_FRACTION * given_mm:
        raise ConfigError(
            f"detector placement: the detector plane passes through the sample (perpendicular "
            f"distance {close_mm:.3g} mm for distance {given_mm:g} mm, rotations x/y/z "
            f"{_deg(state['detector_rotx_deg'])}/{_deg(state['detector_roty_deg'])}/"
            f"{_deg(state['detector_rotz_deg'])} deg, two-theta {_deg(state['twotheta_deg'])} "
            "deg); "
            f"valid: a perpendicular distance >= {MIN_CLOSE_FRACTION:g} x the distance"
        )
    if det.oversample is None:
        auto_oversample(config, geometry)


def _deg(value: float | torch.Tensor) -> str:
    return f"{_as_float(value):g}"


def check_placement(config: Config) -> None:
    """Validate what needs the placed detector (Config construction runs this, in float64)."""
    with torch.no_grad():  # a check only: build no graph through the config's tensors
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        geometry = detector_geometry(config.detector, state, config.beam.beam_vector,
                                     config.beam.polar_vector)
        _check_geometry(config, geometry, state)


def structure_amplitude(scene: Scene, hkl: torch.Tensor) -> torch.Tensor | float:
    """F_cell at the nearest reflection (no gradient: it is piecewise constant in h, k, l)."""
    if scene.amplitudes is None:
        return scene.default_F
    grid = scene.amplitudes
    index = nearest_integer(hkl.detach()).long() - torch.tensor(scene.hkl_origin,
                                                                 device=hkl.device)
    size = torch.tensor(grid.shape, device=hkl.device)
    inside = ((index >= 0) & (index < size)).all(-1)
    index = torch.where(inside[..., None], index, 0)
    flat = (index[..., 0] * size[1] + index[..., 1]) * size[2] + index[..., 2]
    values = grid.reshape(-1)[flat]
    return torch.where(inside, values, torch.full_like(values, scene.default_F))


def lattice_factor(scene: Scene, hkl: torch.Tensor) -> torch.Tensor:
    if scene.shape == "square":
        return square_lattice_factor(hkl, scene.cells)
    if scene.shape == "round":
        return round_lattice_factor(hkl, scene.cells, scene.fudge)
    if scene.shape == "gauss":
        return gauss_lattice_factor(hkl, scene.reciprocal, scene.cells, scene.fudge)
    return tophat_lattice_factor(hkl, scene.reciprocal, scene.cells, scene.fudge)


def subpixel_offsets(oversample: int, like: torch.Tensor) -> torch.Tensor:
    """(O*O, 2) offsets (slow, fast) in units of a subpixel, slow index outer."""
    grid = torch.arange(oversample, dtype=like.dtype, device=like.device) + 0.5
    slow, fast = torch.meshgrid(grid, grid, indexing="ij")
    return torch.stack((slow.reshape(-1), fast.reshape(-1)), dim=-1)


def pixel_values(scene: Scene, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
    """Photons for the pixels at integer indices ``slow``, ``fast`` (both shape (P,))."""
    det = scene.detector
    o = scene.oversample
    sub = subpixel_offsets(o, det.pix0)
    step = det.pixel / o
    s_pos = (slow[:, None] * o + sub[None, :, 0]) * step  # (P, O*O)
    f_pos = (fast[:, None] * o + sub[None, :, 1]) * step
    position = det.pix0 + f_pos[..., None] * det.fdet + s_pos[..., None] * det.sdet
    if scene.sensor is not None:  # thick sensor: every subpixel again at each depth (layer outer)
        position = layer_positions(position, det.odet, scene.sensor)
    distance = torch.linalg.norm(position, dim=-1)  # > 0: the detector never holds the sample
    diffracted = position / distance[..., None]

    incident = scene.sources.incident  # (S, 3)
    wavelength = scene.sources.wavelength  # (S,)
    scattering = (diffracted[:, :, None, :] - incident) / wavelength[:, None]  # (P, U, S, 3)
    hkl = torch.einsum("pusk,oik->pusoi", scattering, scene.orientations)
    amplitude = structure_amplitude(scene, hkl)
    intensity = (amplitude * amplitude * lattice_factor(scene, hkl) ** 2).sum((1, 2, 3))

    first = distance[:, 0]
    if scene.point_pixel:
        omega = 1 / first**2
    else:
        omega = det.pixel**2 * det.close / first**3
    if scene.nopolar:
        polar = 1.0
    else:
        polar = polarization_factor(incident[0], diffracted[:, 0], det.polar, scene.kahn)
    value = scene.scale * intensity * polar * omega
    if scene.sensor is not None:
        value = value * capture_fraction(diffracted, det.odet, scene.sensor)
    return value


def _chunked_pixels(scene: Scene, roi: tuple[int, int, int, int], like: torch.Tensor,
                    pixels_per_chunk: int) -> torch.Tensor:
    fmin, fmax, smin, smax = roi
    slow, fast = torch.meshgrid(
        torch.arange(smin, smax + 1, dtype=like.dtype, device=like.device),
        torch.arange(fmin, fmax + 1, dtype=like.dtype, device=like.device),
        indexing="ij",
    )
    slow, fast = slow.reshape(-1), fast.reshape(-1)
    kernel = maybe_compile(pixel_values, like.device)
    pieces = []
    several = slow.numel() > pixels_per_chunk
    recompute = several and torch.is_grad_enabled()
    for start in range(0, slow.numel(), pixels_per_chunk):
        s = slow[start:start + pixels_per_chunk]
        f = fast[start:start + pixels_per_chunk]
        if recompute:
            pieces.append(checkpoint(kernel, scene, s, f, use_reentrant=False))
        else:
            pieces.append(kernel(scene, s, f))
    return torch.cat(pieces).reshape(smax - smin + 1, fmax - fmin + 1)


def _checked_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a torch.device that exists here, or a one-line ConfigError."""
    if device is None:
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device = {device!r}: valid: 'cpu', 'cuda', 'cuda:N' or a "
                          "torch.device") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device = {device!r}: no CUDA device is available; valid: 'cpu'")
    return chosen


def simulate(
    config: Config,
    params: Mapping[str, torch.Tensor] | None = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    pixels_per_chunk: int | None = None,
) -> torch.Tensor:
    """The image (spixels, fpixels) in photons per pixel, differentiable in ``params``.

    ``params`` maps registry parameter names to tensors that replace the configuration's values;
    the result has a gradient with respect to each. Pixels outside the ROI are 0.
    """
    if not isinstance(config, Config):
        raise ConfigError(f"config: expected a braggcheck.Config, got {type(config).__name__}")
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype = {dtype}: valid: torch.float32 or torch.float64")
    device = _checked_device(device)
    if pixels_per_chunk is not None:
        check_int("pixels_per_chunk", pixels_per_chunk, 1)
    state = build_state(config, params, dtype, device)
    scene = build_scene(config, state)
    det = config.detector
    roi = det.roi_bounds
    if pixels_per_chunk is None:
        per_pixel = scene.oversample**2 * scene.sources.wavelength.shape[0]
        per_pixel *= scene.orientations.shape[0]
        per_pixel *= scene.sensor.layers if scene.sensor is not None else 1
        pixels_per_chunk = max(1, ELEMENTS_PER_CHUNK // per_pixel)
    values = _chunked_pixels(scene, roi, state["cell_a"], pixels_per_chunk)
    fmin, fmax, smin, smax = roi
    return torch.nn.functional.pad(
        values, (fmin, det.fpixels - 1 - fmax, smin, det.spixels - 1 - smax)
    )
