"""A ``-dmin`` cut that no finite-difference step of the gradient check moves a sample across.

The cut is a step: a sample is kept while |S|^2 dmin^2 <= 1 (S its scattering vector), and
under it each pixel's polarization is taken at its first kept sample. Both are constant
(detached 0/1 choices) as long as no sample changes side, and the image is then a smooth
function whose derivative autograd gives. So the gradient checks can differentiate a ``-dmin``
case, detector geometry included, if every point they evaluate keeps every sample on its side:

- The finite-difference check (:func:`braggcheck.testing.framework.checks.check_gradient`)
  evaluates the loss at x + k h u, k in {+-1, +-2}, h in STEP x (1, RETRY_FACTORS), u a unit
  coordinate or the drawn direction (largest entry 1), moving only the drawn names: every
  point lies in the box |x_i - x0_i| <= :data:`REACH` (scaled units) of the drawn names.
- For each sample s, q_s = |S_s|^2 is measured at x0 and at x0 +- REACH along each drawn
  name (:func:`sample_resolutions`, the simulator's own geometry code); its largest move over
  the box is then at most B_s = sum_i max |q_s(x0 +- REACH e_i) - q_s(x0)| to first order
  (a direction step moves each name by at most REACH). The cut is kept :data:`MARGIN` x B_s
  (plus :data:`ROUNDING` x q_s) away from q_s for every sample: the second-order terms over
  a box of 2e-4 scaled units are far inside a factor of 4, and the rounding term covers the
  two code paths that compute q (Miller indices through the cell's metric, and directions).
- Forward vs reverse mode compare two derivatives at the same point (both on the same side of
  the cut, by the same detached comparison); their nearby points move every parameter by
  3 x STEP, and a sample that changed side there changes both modes alike: no margin needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from braggcheck.sim.amplitudes import structure_factor_values
from braggcheck.sim.config import Config
from braggcheck.sim.constants import ANGSTROM
from braggcheck.sim.pixel_features import curved_positions
from braggcheck.sim.pixel_mask import kept_pixels
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.scene import Scene, build_scene
from braggcheck.sim.simulator import detector_plane, plane_offsets
from braggcheck.sim.state import baseline_value, build_state
from braggcheck.testing.framework.tolerances import RETRY_FACTORS, STEP

REACH = 2 * STEP * max(RETRY_FACTORS)
"""The farthest a finite-difference point of the gradient check moves a drawn name (scaled
units): two steps of the largest retry."""
MARGIN = 4.0
"""The cut keeps this many times each sample's largest first-order move over the check's box
away from the sample."""
ROUNDING = 1e-9
"""Relative distance of the cut from every q_s besides: q is computed by two code paths."""
GEOMETRY = ("distance_mm", "beam_center_f_mm", "beam_center_s_mm", "detector_rotx_deg",
            "detector_roty_deg", "detector_rotz_deg", "twotheta_deg")
"""Parameters that move every pixel's diffracted direction: under -dmin the polarization is
taken at the first kept sample's direction, and only these reach its derivative there."""


def sample_positions(config: Config, values: dict[str, float] | None = None
                     ) -> tuple[Scene, list[torch.Tensor]]:
    """The scene and the positions (3, M) of every (subpixel, sensor layer) sample of the
    evaluated pixels (ROI, unmasked), pixel-major, as the simulator places them: flat and, with
    -curved_det, curved too; at the parameter ``values`` (default: the config's)."""
    params = {n: torch.tensor(v, dtype=torch.float64) for n, v in (values or {}).items()}
    with torch.no_grad():
        state = build_state(config, params, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state, None,
                            structure_factor_values(params, config.crystal.hkl))
        fmin, fmax, smin, smax = config.detector.roi_bounds
        slow, fast = torch.meshgrid(torch.arange(smin, smax + 1, dtype=torch.float64),
                                    torch.arange(fmin, fmax + 1, dtype=torch.float64),
                                    indexing="ij")
        slow, fast, _ = kept_pixels(scene.mask, slow.reshape(-1), fast.reshape(-1))
        det = scene.detector
        flat = det.pix0[:, None] + detector_plane(scene) @ plane_offsets(scene)(slow, fast)
        placed = [flat]
        if scene.features is not None and scene.features.curved:
            placed.append(curved_positions(flat, det))
    return scene, placed


def sample_resolutions(config: Config, values: dict[str, float] | None = None) -> torch.Tensor:
    """q = |S|^2 (m^-2) of every (sample, source) of :func:`sample_positions` at ``values``,
    flat (M, S) (M: each placement's samples in turn)."""
    scene, placed = sample_positions(config, values)
    incident, wavelength = scene.sources.incident, scene.sources.wavelength
    resolutions = []
    for position in placed:
        direction = position / position.norm(dim=0, keepdim=True)
        scattering = (direction.T[:, None, :] - incident[None]) / wavelength[None, :, None]
        resolutions.append((scattering * scattering).sum(-1))
    return torch.cat(resolutions)


def moves(config: Config, names: Sequence[str], reach: float = REACH,
          centre: torch.Tensor | None = None) -> torch.Tensor:
    """B_s: the largest first-order move of each sample's q over the box +-``reach`` (scaled
    units) of ``names``, shaped as :func:`sample_resolutions` (``centre``: its value at the
    config's point, when the caller has it)."""
    centre = sample_resolutions(config) if centre is None else centre
    bound = torch.zeros_like(centre)
    for name in names:
        value, scale = float(baseline_value(config, name)), PARAMETERS[name].scale
        bound += torch.stack([(sample_resolutions(config, {name: value + k * reach * scale})
                               - centre).abs() for k in (-1, 1)]).amax(0)
    return bound


def safe_gaps(config: Config, names: Sequence[str]) -> list[tuple[float, float, float]]:
    """(low, high, kept share): the open intervals (low, high) of q where a cut keeps every
    sample MARGIN x its move away (:func:`moves`) and has samples on both sides, and the share
    of samples it keeps (those below)."""
    at = sample_resolutions(config)
    centre = at.reshape(-1)
    width = MARGIN * moves(config, names, centre=at).reshape(-1) + ROUNDING * centre
    order = torch.argsort(centre - width)
    low, high = (centre - width)[order].tolist(), (centre + width)[order].tolist()
    gaps, covered = [], high[0]
    for start, end in zip(low[1:], high[1:], strict=True):
        if start > covered:  # every sample's interval so far ends below this start
            gaps.append((covered, start))
        covered = max(covered, end)
    return [(low, high, float((centre < low).double().mean())) for low, high in gaps]


def dmin_for(q: float) -> float:
    """The -dmin (A) whose cut lies at |S|^2 = ``q`` (m^-2): kept while |S|^2 dmin^2 <= 1."""
    return 1.0 / (q ** 0.5 * ANGSTROM)
