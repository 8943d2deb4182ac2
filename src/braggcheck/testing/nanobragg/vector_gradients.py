"""Gradient checks of a vector parameter (``structure_factors``) along drawn directions.

A vector of R amplitudes cannot be checked entry by entry by finite differences (2R images),
and a single random direction can hide a wrong entry among many right ones. So the check is
made along a few directions in the scaled space (x = F / registry scale): a random one, and
one-hot directions on reflections whose spots reach the detector (:func:`reflections_on_detector`,
found from the geometry and the image, not from the gradient under test). For each direction:

- reverse mode (grad . d) against central differences of t -> L(x + t d), with the project's
  error estimate (:func:`braggcheck.testing.framework.differences.central_differences`: the spread
  of steps h
  and 2h plus 10x the measured rounding noise). The image is quadratic in every F, so the
  differences have no truncation error and the bound is rounding only;
- forward mode (a dual tangent d through the fused node's jvp) against reverse mode, to
  rounding (``AD_RTOL``);
- the second derivative along d (double backward) against the exact second difference.

Every check first proves it can fail: the image must hold Bragg signal and the derivative must
stand ``NOISE_MARGIN`` above the differences' rounding noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.autograd.forward_ad as fw

from braggcheck.sim.amplitudes import STRUCTURE_FACTORS
from braggcheck.sim.config import Config
from braggcheck.sim.registry import VECTOR_PARAMETERS
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import build_state
from braggcheck.testing.framework.derivatives import has_bragg_signal
from braggcheck.testing.framework.differences import central_differences
from braggcheck.testing.framework.probe import pixel_weights
from braggcheck.testing.framework.tolerances import NOISE_MARGIN, STEP

AD_RTOL = 1e-9
"""Forward vs reverse mode: the same derivative in another order, so only rounding differs."""
SPOT_SHARE = 1e-3
"""A reflection's spot is on the detector when some pixel it is nearest to holds this share of
the image maximum."""
SECOND_RTOL = 1e-6
"""Double backward vs the exact second difference of a quadratic: rounding of four images over
h^2 (h = 1e-3 in scaled units) is ~1e-10 of the term size; 1e-6 leaves margin."""
SECOND_STEP = 1e-3


@dataclass(frozen=True)
class VectorProbe:
    """A scalar loss through the image as a function of the scaled amplitude vector."""

    config: Config
    weight_seed: int = 0
    weights: torch.Tensor | None = field(default=None, compare=False, repr=False)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def scale(self) -> float:
        return VECTOR_PARAMETERS[STRUCTURE_FACTORS].scale

    def point(self) -> torch.Tensor:
        table = self.config.crystal.hkl
        values = torch.tensor(table.reflection_amplitudes(), dtype=torch.float64)
        return values / self.scale

    def image(self, x: torch.Tensor) -> torch.Tensor:
        return simulate(self.config, {STRUCTURE_FACTORS: x * self.scale})

    def baseline_image(self) -> torch.Tensor:
        if "baseline" not in self._cache:
            with torch.no_grad():
                self._cache["baseline"] = self.image(self.point())
        return self._cache["baseline"]

    def _weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        if "weights" not in self._cache:
            baseline = self.baseline_image()
            weights = self.weights
            if weights is None:
                weights = pixel_weights(tuple(baseline.shape), self.weight_seed)
            self._cache["weights"] = weights
            self._cache["norm"] = (weights.abs() * baseline).sum().clamp_min(1e-300)
        return self._cache["weights"], self._cache["norm"]

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        weights, norm = self._weights()
        return (weights * self.image(x)).sum() / norm

    def magnitude(self, x: torch.Tensor) -> float:
        """sum |w| I / norm: the size of the terms the loss sums (its rounding scale)."""
        weights, norm = self._weights()
        with torch.no_grad():
            return float((weights.abs() * self.image(x)).sum() / norm)


def bright_indices(config: Config, image: torch.Tensor) -> set[tuple[int, int, int]]:
    """Miller indices (h, k, l) nearest to the centre of a pixel holding at least
    ``SPOT_SHARE`` of the image maximum (first source and orientation)."""
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state)
        det = scene.detector
        slow, fast = torch.meshgrid(
            torch.arange(config.detector.spixels, dtype=torch.float64) + 0.5,
            torch.arange(config.detector.fpixels, dtype=torch.float64) + 0.5, indexing="ij")
        position = (det.pix0[:, None] + det.fdet[:, None] * (fast.reshape(-1) * det.pixel)
                    + det.sdet[:, None] * (slow.reshape(-1) * det.pixel))
        unit = position / torch.linalg.norm(position, dim=0)
        rows = scene.projection.shape[0] // 3  # axis-major: h, k, l of the first block
        first = [0, rows, 2 * rows]
        hkl = (scene.projection[first] @ unit - scene.projection_offset[first]).T
    bright = (image.reshape(-1) >= SPOT_SHARE * float(image.max())).numpy()
    nearest = np.ceil(hkl.numpy() - 0.5).astype(np.int64)[bright]
    return {tuple(row) for row in nearest.tolist()}


def reflections_on_detector(config: Config, image: torch.Tensor | None = None) -> list[int]:
    """Positions (in the table's order) of reflections that are the nearest reflection of a
    pixel centre holding at least ``SPOT_SHARE`` of the image maximum (``image``: the image,
    if already computed)."""
    table = config.crystal.hkl
    if table is None:
        return []
    if image is None:
        with torch.no_grad():
            image = simulate(config)
    order = {tuple(int(v) for v in row): i for i, row in enumerate(
        table.reflection_indices() + np.asarray(table.origin))}
    return sorted(order[index] for index in bright_indices(config, image) if index in order)


@dataclass(frozen=True)
class DirectionalResult:
    """One direction's reverse, forward and numerical derivatives and what they showed."""

    label: str
    reverse: float
    forward: float
    numerical: float
    tolerance: float
    rounding: float
    """The rounding noise of D(h) (the project's measured estimate)."""
    value_noise: float
    """The rounding noise of one loss value."""
    second: float
    second_numerical: float
    vacuity: str | None

    @property
    def problems(self) -> list[str]:
        found = [] if self.vacuity is None else [self.vacuity]
        if not abs(self.reverse - self.numerical) <= self.tolerance:
            found.append(f"{self.label}: reverse mode {self.reverse:.9e} differs from the "
                         f"differences {self.numerical:.9e} by more than their error "
                         f"{self.tolerance:.1e}")
        if not abs(self.forward - self.reverse) <= AD_RTOL * abs(self.reverse) + 1e-300:
            found.append(f"{self.label}: forward mode {self.forward:.12e} differs from reverse "
                         f"mode {self.reverse:.12e}")
        # The second difference of a quadratic is exact but for the rounding of its three
        # values (4 sigma / h^2 at most, times the usual margin of 10).
        second_noise = 40 * self.value_noise / SECOND_STEP**2
        if math.isfinite(self.second_numerical) and not abs(
                self.second - self.second_numerical) <= (
                SECOND_RTOL * abs(self.second_numerical) + second_noise):
            found.append(f"{self.label}: d2L/dt2 {self.second:.9e} (double backward) differs "
                         f"from the second difference {self.second_numerical:.9e}")
        return found


def forward_derivative(probe: VectorProbe, x: torch.Tensor, direction: torch.Tensor) -> float:
    with fw.dual_level():
        value = probe.loss(fw.make_dual(x, direction))
        tangent = fw.unpack_dual(value).tangent
    return 0.0 if tangent is None else float(tangent)


def check_direction(probe: VectorProbe, direction: torch.Tensor, label: str,
                    gradient: torch.Tensor, curvature: float | None = None,
                    eps: float = STEP) -> DirectionalResult:
    """Every check of the derivative along ``direction`` (scaled space), given the
    reverse-mode ``gradient`` at the point and, to check it too, the double-backward
    ``curvature`` d^T H d (None: not checked)."""
    x = probe.point()
    second = curvature is not None
    reverse = float((gradient * direction).sum())
    base = float(probe.loss(x).detach()) if "base" not in probe._cache else probe._cache["base"]
    probe._cache["base"] = base
    magnitude = probe._cache.setdefault("magnitude", probe.magnitude(x))
    floor = torch.finfo(torch.float64).eps * magnitude

    def along(t: torch.Tensor) -> float:
        if float(t[0]) == 0:
            return base
        with torch.no_grad():
            return float(probe.loss(x + t[0] * direction))

    error = central_differences(along, torch.zeros(1, dtype=torch.float64),
                                torch.ones(1, dtype=torch.float64), eps, floor)
    second_numerical = float("nan")
    if second:
        values = [along(torch.tensor([k * SECOND_STEP])) for k in (-1, 0, 1)]
        second_numerical = (values[0] - 2 * values[1] + values[2]) / SECOND_STEP**2
    vacuity = None
    if not has_bragg_signal(probe.baseline_image()):
        vacuity = f"{label}: the image has no Bragg signal (a check of 0 against 0)"
    elif not abs(error.single) > NOISE_MARGIN * error.rounding:
        vacuity = (f"{label}: dL/dt = {error.single:.3e} is within {NOISE_MARGIN:g}x the "
                   f"differences' rounding noise {error.rounding:.1e}")
    return DirectionalResult(label, reverse, forward_derivative(probe, x, direction),
                             error.single, error.tolerance, error.rounding,
                             error.rounding * math.sqrt(2) * eps,
                             float("nan") if curvature is None else curvature,
                             second_numerical, vacuity)


def random_direction(size: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    direction = torch.randn(size, generator=generator, dtype=torch.float64)
    return direction / torch.linalg.norm(direction)


def one_hot(size: int, index: int) -> torch.Tensor:
    direction = torch.zeros(size, dtype=torch.float64)
    direction[index] = 1.0
    return direction


def check_structure_factors(probe: VectorProbe, seed: int, reflections: list[int],
                            second: bool = True) -> list[DirectionalResult]:
    """A random direction (``seed``) and one-hot directions on ``reflections``; one
    reverse-mode gradient serves them all unless ``second`` (double backward per direction)."""
    x = probe.point()
    leaf = x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(probe.loss(leaf), leaf, create_graph=second)
    directions = [(random_direction(x.shape[0], seed), f"random(seed={seed})")]
    directions += [(one_hot(x.shape[0], i), f"one-hot[{i}]") for i in reflections]
    results = []
    for direction, label in directions:
        curvature = None
        if second:  # a Hessian-vector product on the one double-backward graph
            (product,) = torch.autograd.grad((gradient * direction).sum(), leaf,
                                             retain_graph=True)
            curvature = float((product * direction).sum())
        results.append(check_direction(probe, direction, label, gradient.detach(), curvature))
    return results


def noise_ratio(result: DirectionalResult) -> float:
    """How far the derivative stands above the rounding noise (for reports)."""
    return abs(result.numerical) / max(result.rounding, 1e-300) if math.isfinite(
        result.numerical) else float("nan")
