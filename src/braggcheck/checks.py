"""The property checks, runnable inside Hypothesis, from ``braggcheck replay`` and ``check``.

Each check takes a :class:`~braggcheck.cases.Case` and returns a :class:`CheckResult`: pass or
fail, a per-parameter table (analytic vs numerical derivative and their error, for the gradient
checks), coverage events and an ``inconclusive`` flag. A check never passes vacuously: it needs
Bragg signal in the image, and a gradient check needs at least one derivative resolved well above
the finite-difference noise; otherwise it is inconclusive (the property test rejects the example,
which Hypothesis counts, instead of passing it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .cases import Case, applicable_parameters
from .config import Config, _check_cell_angles, baseline_value
from .constants import ANGSTROM
from .crystal import cell_basis, reciprocal_volume_check
from .detector import FRAMES
from .errors import ConfigError
from .gradients import GradientProbe, forward_mode_derivative, has_bragg_signal
from .registry import PARAMETERS
from .simulator import build_state, simulate

STEP = 1e-6
"""Central-difference step in scaled units (value / registry scale): relative steps."""
EPS = torch.finfo(torch.float64).eps
NOISE_MARGIN = 1e3
"""A derivative counts as resolved only if it exceeds the rounding noise by this factor..."""
RESOLVED = 1e-4
"""...and the two step sizes agree to this fraction (so the function is smooth over the step)."""
RTOL = 1e-6
"""Analytic vs Richardson-extrapolated difference, on top of the estimated truncation error."""
AD_RTOL = 1e-9
"""Forward vs reverse mode: the same chain rule in another order, so only rounding differs."""
AD_FLOOR = 1e3
"""Absolute floor for a derivative that is zero: this many ulps of the (order 1) loss."""


@dataclass
class Row:
    """One compared quantity: analytic vs numerical, the error and what it was allowed."""

    name: str
    analytic: float
    numerical: float
    tolerance: float
    status: str  # "ok", "FAIL", "unresolved" (not smooth over the step), "below noise"

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numerical)

    @property
    def relative_error(self) -> float:
        return self.error / max(abs(self.numerical), 1e-300)


@dataclass
class CheckResult:
    check: str
    passed: bool
    message: str = ""
    rows: list[Row] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    inconclusive: bool = False
    worst: float = 0.0
    """Largest relative error among resolved rows (for ``hypothesis.target``)."""

    def table(self) -> str:
        if not self.rows:
            return ""
        lines = [f"  {'quantity':<22} {'analytic':>23} {'numerical':>23} {'abs error':>10} "
                 f"{'rel error':>10} {'allowed':>10}  status"]
        for r in self.rows:
            lines.append(f"  {r.name:<22} {r.analytic:>23.16g} {r.numerical:>23.16g} "
                         f"{r.error:>10.3g} {r.relative_error:>10.3g} {r.tolerance:>10.3g}  "
                         f"{r.status}")
        return "\n".join(lines)

    def report(self) -> str:
        head = f"{self.check}: {'PASS' if self.passed else 'FAIL'}"
        if self.inconclusive:
            head = f"{self.check}: INCONCLUSIVE"
        parts = [head + (f" - {self.message}" if self.message else "")]
        table = self.table()
        if table:
            parts.append(table)
        return "\n".join(parts)


def bragg_signal(image: torch.Tensor, shape: str) -> bool:
    """Spots on the image: peaks well above the median; TOPHAT spots also have dark gaps."""
    if has_bragg_signal(image):
        return True
    return shape == "tophat" and float(image.max()) > 0 and float(image.min()) == 0


def _no_signal(check: str, config: Config) -> CheckResult:
    return CheckResult(check, passed=False, inconclusive=True,
                       message=f"no Bragg signal on the {config.detector.spixels}x"
                               f"{config.detector.fpixels} image")


def steppable(config: Config, name: str, reach: float) -> bool:
    """Whether ``name`` can move by +-``reach`` (scaled units) and stay valid."""
    parameter = PARAMETERS[name]
    value = baseline_value(config, name)
    for sign in (-1.0, 1.0):
        moved = value + sign * reach * parameter.scale
        try:
            parameter.validate(moved)
            if name.startswith("cell_") and name[5:] in ("alpha", "beta", "gamma"):
                angles = {n: float(getattr(config.crystal, f"cell_{n}"))
                          for n in ("alpha", "beta", "gamma")}
                angles[name[5:]] = moved
                _check_cell_angles(angles["alpha"], angles["beta"], angles["gamma"])
        except ConfigError:
            return False
    return True


@dataclass
class _Differences:
    """Central differences along one direction, from L(x), L(x +- h d), L(x +- 2h d)."""

    derivative: float
    """Richardson extrapolation (4 D(h) - D(2h)) / 3: truncation error O(h^4)."""
    spread: float
    """|D(h) - D(2h)|: bounds the truncation error of D(h) (and includes the noise)."""
    fourth: float
    """The fourth difference: h^4 times the fourth derivative (negligible at h = 1e-6) plus
    sqrt(70) x the rounding noise of L. It measures that noise where the loss computes it."""


def _differences(loss: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, centre: float,
                 direction: torch.Tensor, h: float) -> _Differences:
    with torch.no_grad():
        p1, m1 = float(loss(x + h * direction)), float(loss(x - h * direction))
        p2, m2 = float(loss(x + 2 * h * direction)), float(loss(x - 2 * h * direction))
    d1, d2 = (p1 - m1) / (2 * h), (p2 - m2) / (4 * h)
    return _Differences((4 * d1 - d2) / 3, abs(d1 - d2),
                        abs(p2 - 4 * p1 + 6 * centre - 4 * m1 + m2))


def _compare(name: str, analytic: float, numerical: float, spread: float,
             noise: float) -> Row:
    if not (math.isfinite(analytic) and math.isfinite(numerical)):
        return Row(name, analytic, numerical, 0.0, "FAIL")
    if abs(numerical) <= NOISE_MARGIN * noise:
        tolerance = 10 * noise + 3 * spread
        return Row(name, analytic, numerical, tolerance,
                   "below noise" if abs(analytic - numerical) <= tolerance else "FAIL")
    if spread > RESOLVED * abs(numerical):
        # Not smooth over the step (a sharp spot edge): still bounded, but not counted.
        tolerance = 3 * spread + 10 * noise + RTOL * abs(numerical)
        return Row(name, analytic, numerical, tolerance,
                   "unresolved" if abs(analytic - numerical) <= tolerance else "FAIL")
    tolerance = RTOL * abs(numerical) + spread + 10 * noise
    return Row(name, analytic, numerical, tolerance,
               "ok" if abs(analytic - numerical) <= tolerance else "FAIL")


def _gradient(value: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """d value / d leaf; zeros when the graph does not reach ``leaf`` (a detached parameter
    must show up as a wrong derivative, not as an autograd error)."""
    if not value.requires_grad:
        return torch.zeros_like(leaf)
    (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
    return torch.zeros_like(leaf) if grad is None else grad


def _envelope(probe: GradientProbe) -> float:
    """How much larger rounding errors can be than the loss itself: sum |w| max(I) / sum |w| I.

    A pixel's rounding error scales with the image's peak, not with its own value (a pixel in
    the far tail of a spot, 1e-30 of the peak, has no relative precision left), so a loss made
    of dim pixels is noisier, relative to itself, than its value suggests.
    """
    weights, _ = probe._normaliser()
    image = probe.baseline_image()
    seen = float((weights.abs() * image).sum())
    return float(weights.abs().sum() * image.max()) / max(seen, 1e-300)


MAX_ENVELOPE = 1e8
"""Beyond this the projection sees only pixels with no usable precision: inconclusive."""


def _probe(case: Case, names: tuple[str, ...]) -> GradientProbe:
    return GradientProbe(case.config, names, weights=case.weights())


def check_gradient(case: Case) -> CheckResult:
    """Reverse-mode gradient of a projection of the image vs central differences.

    Each drawn parameter is compared on its own, then the drawn direction (all at once). The
    numerical derivative is Richardson-extrapolated from steps h and 2h; their disagreement
    bounds its truncation error and decides whether the comparison counts.
    """
    names = tuple(n for n in case.names if steppable(case.config, n, 2 * STEP))
    events = [f"gradient: {n} at its valid bound, not stepped"
              for n in case.names if n not in names]
    if not names:
        return CheckResult("gradient", False, "no parameter can be stepped", events=events,
                           inconclusive=True)
    probe = _probe(case, names)
    if not bragg_signal(probe.baseline_image(), case.config.crystal.shape):
        return _no_signal("gradient", case.config)
    x = probe.point()
    leaf = x.clone().requires_grad_(True)
    value = probe.loss(leaf)
    grad = _gradient(value, leaf)
    centre = float(value.detach())
    along = []
    for i in range(len(names)):
        unit_step = torch.zeros_like(x)
        unit_step[i] = 1.0
        along.append(_differences(probe.loss, x, centre, unit_step, STEP))
    full = dict(zip(case.names, case.direction_tensor().tolist(), strict=True))
    direction = torch.tensor([full[n] for n in names], dtype=torch.float64)
    largest = float(direction.abs().max())
    # Rescaled to a largest entry of 1 again: the dropped names may have held the largest.
    direction = torch.ones_like(direction) if largest == 0 else direction / largest
    along.append(_differences(probe.loss, x, centre, direction, STEP))
    # Rounding noise of one loss evaluation: the larger of a few ulps of |L| and the measured
    # scatter (3 x the largest fourth difference / sqrt(70); dim pixels can be much noisier
    # than their value suggests). Noise in a central difference is then about noise / h.
    measured = 3 * max(d.fourth for d in along) / math.sqrt(70)
    noise = max(16 * EPS * max(1.0, abs(centre)), measured) / STEP
    rows = [_compare(name, float(grad[i]), along[i].derivative, along[i].spread, noise)
            for i, name in enumerate(names)]
    rows.append(_compare("(drawn direction)", float(grad @ direction), along[-1].derivative,
                         along[-1].spread, noise))
    return _verdict("gradient", rows, events)


def _verdict(check: str, rows: list[Row], events: list[str]) -> CheckResult:
    failed = [r.name for r in rows if r.status == "FAIL"]
    resolved = [r for r in rows if r.status in ("ok", "FAIL")]
    events = events + [f"{check}: {r.status}" for r in rows]
    worst = max((r.relative_error for r in resolved), default=0.0)
    if failed:
        return CheckResult(check, False, f"derivative mismatch for {', '.join(failed)}", rows,
                           events, worst=worst)
    if not resolved:
        return CheckResult(check, False, "no derivative resolved above the finite-difference "
                           "noise", rows, events, inconclusive=True)
    return CheckResult(check, True, f"{len(resolved)} resolved derivative(s) agree", rows,
                       events, worst=worst)


def check_forward_reverse(case: Case) -> CheckResult:
    """Forward-mode (dual numbers) vs reverse-mode directional derivative, same direction."""
    names = case.names
    probe = _probe(case, names)
    if not bragg_signal(probe.baseline_image(), case.config.crystal.shape):
        return _no_signal("forward_reverse", case.config)
    envelope = _envelope(probe)
    if envelope > MAX_ENVELOPE:
        return CheckResult("forward_reverse", False, f"the projection sees only pixels "
                           f"{envelope:.1e} times dimmer than the peak", inconclusive=True)
    direction = case.direction_tensor()
    x = probe.point()
    leaf = x.clone().requires_grad_(True)
    grad = _gradient(probe.loss(leaf), leaf)
    reverse = float(grad @ direction)
    forward = forward_mode_derivative(probe, direction, x)
    magnitude = float((grad * direction).abs().sum())
    # A derivative that is zero by symmetry comes out as rounding noise of the terms that
    # cancel (order eps x |L| per scaled unit), in either mode: an absolute floor for that.
    floor = AD_FLOOR * EPS * envelope * float(direction.abs().sum())
    tolerance = AD_RTOL * magnitude * envelope + floor
    ok = math.isfinite(forward) and abs(forward - reverse) <= tolerance
    row = Row("(drawn direction)", reverse, forward, tolerance, "ok" if ok else "FAIL")
    if ok and max(abs(forward), abs(reverse)) < 10 * floor:
        return CheckResult("forward_reverse", False, "derivative is zero (rounding noise "
                           "only)", [row], inconclusive=True)
    return CheckResult("forward_reverse", ok, "forward mode (numerical column) vs reverse mode "
                       "(analytic column)", [row], [f"forward_reverse: {row.status}"])


def _loss_and_grads(config: Config, names: tuple[str, ...], weights: torch.Tensor,
                    overrides: dict[str, float] | None = None,
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image, weighted sum, gradient of the weighted sum wrt ``names``)."""
    overrides = overrides or {}
    values = [overrides.get(n, baseline_value(config, n)) for n in names]
    leaves = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    params = {n: leaves[i] for i, n in enumerate(names)}
    image = simulate(config, params)
    total = (weights * image).sum()
    grad = _gradient(total, leaves)
    return image.detach(), total.detach(), grad


def check_fluence_linearity(case: Case) -> CheckResult:
    """image(k F) = k image(F) to float64 rounding, and d(w.image)/dF = (w.image) / F."""
    config = case.config
    k = case.factor
    fluence = baseline_value(config, "fluence")
    weights = case.weights()
    image, total, grad = _loss_and_grads(config, ("fluence",), weights)
    if not bragg_signal(image, config.crystal.shape):
        return _no_signal("fluence_linearity", config)
    with torch.no_grad():
        scaled = simulate(config.replace(fluence=k * fluence))
    # Each pixel is a product of a few rounded factors: a handful of ulps apart at most.
    excess = (scaled - k * image).abs() - 8 * EPS * (k * image).abs()
    linear = bool((excess <= 0).all())
    expected = float(total) / fluence
    row = Row("d(w.image)/d fluence", float(grad[0]), expected,
              1e-12 * abs(expected), "ok")
    # A dark projection (one unlit pixel) has expected == 0: then the gradient must be 0 too.
    row.status = "ok" if row.error <= row.tolerance else "FAIL"
    rows = [row]
    worst = float(((scaled - k * image).abs() / (k * image).abs().clamp_min(1e-300)).max())
    rows.append(Row(f"max |image(kF)/k - image(F)| (k={k:.3g})", worst, 0.0, 8 * EPS,
                    "ok" if linear else "FAIL"))
    passed = linear and row.status == "ok"
    return CheckResult("fluence_linearity", passed,
                       "" if passed else "image is not linear in fluence", rows,
                       [f"fluence_linearity: k {'>' if k > 1 else '<='} 1"])


def _image_close(a: torch.Tensor, b: torch.Tensor, rtol: float) -> tuple[bool, float]:
    scale = float(torch.maximum(a.abs().max(), b.abs().max()))
    diff = float((a - b).abs().max())
    return diff <= rtol * scale, diff / max(scale, 1e-300)


PERIOD_RTOL = 1e-9
"""Adding 360 n deg rounds the angle in radians differently (~1e-15 rad per turn): images and
gradients then differ by rounding amplified by the spot sharpness, far below this."""


def check_rotation_periodicity(case: Case) -> CheckResult:
    """Adding whole turns to a misset or phi angle leaves the image and its gradients alone."""
    config = case.config
    angle = case.angle
    turned = baseline_value(config, angle) + 360.0 * case.turns
    names = tuple(dict.fromkeys((*case.names, angle)))
    weights = case.weights()
    image, _, grad = _loss_and_grads(config, names, weights)
    if not bragg_signal(image, config.crystal.shape):
        return _no_signal("rotation_periodicity", config)
    image2, _, grad2 = _loss_and_grads(config.replace(**{angle: turned}), names, weights)
    same_image, image_error = _image_close(image, image2, PERIOD_RTOL)
    rows = [Row(f"image, {angle} {case.turns:+d} turn(s)", image_error, 0.0, PERIOD_RTOL,
                "ok" if same_image else "FAIL")]
    floors = _gradient_floors(image, weights, names)
    for i, name in enumerate(names):
        error = abs(float(grad[i] - grad2[i]))
        tolerance = PERIOD_RTOL * (abs(float(grad[i])) + floors[i])
        status = "ok" if abs(float(grad[i])) > 1e2 * PERIOD_RTOL * floors[i] else "below noise"
        rows.append(Row(f"d/d {name}", float(grad2[i]), float(grad[i]), tolerance,
                        status if error <= tolerance else "FAIL"))
    if not any(r.status == "ok" for r in rows[1:]) and all(r.status != "FAIL" for r in rows):
        return CheckResult("rotation_periodicity", False, "every gradient is below rounding "
                           "noise for this projection", rows, inconclusive=True)
    passed = all(r.status != "FAIL" for r in rows)
    return CheckResult("rotation_periodicity", passed,
                       "" if passed else f"whole turns of {angle} change the result", rows,
                       [f"rotation_periodicity: {angle}"])


def _gradient_floors(image: torch.Tensor, weights: torch.Tensor,
                     names: tuple[str, ...]) -> list[float]:
    """Per parameter, the gradient the projection would have if every weighted pixel moved by
    the image maximum per scaled unit: rounding errors scale with this envelope, not with the
    projected value (a pixel at a zero of the lattice factor has no relative precision)."""
    envelope = float(image.abs().max()) * float(weights.abs().sum())
    return [envelope / PARAMETERS[n].scale for n in names]


def _spindle_index(config: Config) -> int | None:
    axis = config.crystal.spindle_axis or FRAMES[config.detector.convention].spindle
    nonzero = [i for i, v in enumerate(axis) if v != 0]
    if len(nonzero) == 1 and axis[nonzero[0]] > 0:
        return nonzero[0]
    return None


def check_misset_equivalence(case: Case) -> CheckResult:
    """Equal rotations written differently give equal images.

    (1) Rz(g) Ry(b) Rx(a) = Rz(g + 180) Ry(180 - b) Rx(a + 180), since Rz(180) Ry(180) = Rx(180).
    (2) The spindle rotation follows the misset, so about the spindle axis an angle can move
    between misset and phi: with a z spindle, misset z + d and phi - d; for an x or y spindle
    only when the other misset angles (which sit between them) are 0.
    """
    config = case.config
    rx, ry, rz = (baseline_value(config, f"misset_rot_{a}") for a in "xyz")
    with torch.no_grad():
        image = simulate(config)
        if not bragg_signal(image, config.crystal.shape):
            return _no_signal("misset_equivalence", config)
        other = simulate(config.replace(misset_rot_x=rx + 180.0, misset_rot_y=180.0 - ry,
                                        misset_rot_z=rz + 180.0))
    same, error = _image_close(image, other, PERIOD_RTOL)
    rows = [Row("(a,b,g) vs (a+180,180-b,g+180)", error, 0.0, PERIOD_RTOL,
                "ok" if same else "FAIL")]
    events = ["misset_equivalence: Euler pair"]
    index = _spindle_index(config)
    angles = (rx, ry, rz)
    # Misset angles about axes after the spindle's (applied later) must vanish to commute.
    if index is not None and all(angles[j] == 0 for j in range(index + 1, 3)):
        axis = "xyz"[index]
        d = case.shift_deg
        moved = config.replace(**{f"misset_rot_{axis}": angles[index] + d,
                                  "phi_start_deg": baseline_value(config, "phi_start_deg") - d})
        with torch.no_grad():
            shifted = simulate(moved)
        same2, error2 = _image_close(image, shifted, PERIOD_RTOL)
        rows.append(Row(f"misset {axis} +{d:.4g} vs phi -{d:.4g}", error2, 0.0, PERIOD_RTOL,
                        "ok" if same2 else "FAIL"))
        events.append(f"misset_equivalence: misset/phi about {axis}")
    passed = all(r.status == "ok" for r in rows)
    return CheckResult("misset_equivalence", passed,
                       "" if passed else "the same rotation gives different images", rows, events)


DUALITY_TOL = 1e-12


def check_cell_duality(case: Case) -> CheckResult:
    """Real and reciprocal bases are dual, and the cell volume agrees between formulas."""
    config = case.config
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    basis = cell_basis(state)
    real = basis.real / ANGSTROM
    product = real @ basis.reciprocal.T
    duality_error = float((product - torch.eye(3, dtype=torch.float64)).abs().max())
    crystal = config.crystal
    lengths = [float(getattr(crystal, f"cell_{x}")) for x in "abc"]
    cosines = [math.cos(math.radians(float(getattr(crystal, f"cell_{x}"))))
               for x in ("alpha", "beta", "gamma")]
    ca, cb, cg = cosines
    textbook = math.prod(lengths) * math.sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg)
    formula = float(basis.volume_A3)
    triple = float(reciprocal_volume_check(basis))
    eye = torch.eye(3, dtype=torch.float64)
    # The reference program regenerates a* = (b x c) / V with the formula V, not the triple
    # product (physics brief 2.1 step 8): so a.a* = b.b* = c.c* = triple / V, and a.b* = 0.
    # The bases are dual after dividing by that common factor, and exactly dual when the
    # triple product is used.
    common = triple / formula
    true_reciprocal = basis.reciprocal * formula / triple
    length_error = max(abs(float(torch.linalg.norm(real[i])) - lengths[i]) / lengths[i]
                       for i in range(3))
    rows = [
        _tol_row("a_i . b*_j - (triple/V) I", float((product - common * eye).abs().max()),
                 DUALITY_TOL),
        _tol_row("real . (cross / triple) - I", float((real @ true_reciprocal.T - eye)
                                                       .abs().max()), DUALITY_TOL),
        _tol_row("|a|,|b|,|c| vs cell (rel)", length_error, DUALITY_TOL),
        Row("V half-angle vs textbook", formula, textbook, 1e-12 * textbook,
            "ok" if abs(formula - textbook) <= 1e-12 * textbook else "FAIL"),
    ]
    if all(math.cos(math.radians(float(getattr(crystal, f"cell_{x}")))) == math.cos(
            math.radians(90.0)) for x in ("alpha", "beta", "gamma")):
        rows.append(_tol_row("orthogonal: real . reciprocal - I", duality_error, DUALITY_TOL))
        rows.append(Row("orthogonal: V triple vs textbook", triple, textbook,
                        1e-12 * textbook,
                        "ok" if abs(triple - textbook) <= 1e-12 * textbook else "FAIL"))
    passed = all(r.status == "ok" for r in rows)
    angles = [float(getattr(crystal, f"cell_{x}")) for x in ("alpha", "beta", "gamma")]
    events = ["cell_duality: obtuse"] if max(angles) > 90 else []
    events.append(f"cell_duality: a.a* - 1 {'<' if abs(common - 1) < 1e-3 else '>='} 1e-3")
    return CheckResult("cell_duality", passed, "" if passed else "cell bases inconsistent",
                       rows, events)


def _tol_row(name: str, error: float, tolerance: float) -> Row:
    return Row(name, error, 0.0, tolerance, "ok" if error <= tolerance else "FAIL")


SPOT_WINDOW = 9
"""Edge of the detector window (pixels) around the predicted spot; spots are 8 pixels apart."""


def check_brightest_spot(case: Case) -> CheckResult:
    """The brightest pixel of a simple case is where Bragg's law and the geometry put it.

    A cubic cell (edge, N, wavelength, distance from the case; misset about the beam axis x from
    the case), MOSFLM, unrotated detector. For (0, k, l) = (0, cos t, sin t)-type first-order
    reflections, the diffracted ray is d = (sqrt(1 - (lambda/a)^2), (lambda/a) R_x(t) e), which
    meets the detector plane x = distance at f = (ray . fdet) + Fbeam, s = (ray . sdet) + Sbeam.
    The pixel is chosen so that spots are 8 pixels apart, and the beam centre so that the
    predicted spot falls in the middle of a 9x9 window; its neighbours fall outside.
    """
    crystal = case.config.crystal
    a = float(crystal.cell_a)
    wavelength = baseline_value(case.config, "lambda_A")
    distance = baseline_value(case.config, "distance_mm")
    theta = math.radians(baseline_value(case.config, "misset_rot_x"))
    n = max(3, min(crystal.n_a, crystal.n_b, crystal.n_c))
    ratio = wavelength / a
    spacing = distance * ratio / math.sqrt(1 - ratio * ratio)
    pixel = spacing / (SPOT_WINDOW - 1)
    rows = []
    for k, l in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        # Reciprocal vector k b* + l c*, rotated about x by theta (b* along y, c* along z).
        y = k * math.cos(theta) - l * math.sin(theta)
        z = k * math.sin(theta) + l * math.cos(theta)
        ray = (math.sqrt(1 - ratio * ratio), ratio * y, ratio * z)
        t = distance / ray[0]
        along_f, along_s = t * ray[2], -t * ray[1]  # MOSFLM fdet = +z, sdet = -y
        middle = (SPOT_WINDOW / 2) * pixel
        config = Config().replace(
            cell_a=a, cell_b=a, cell_c=a, n_a=n, n_b=n, n_c=n, lambda_A=wavelength,
            distance_mm=distance, misset_rot_x=math.degrees(theta), pixel_mm=pixel,
            fpixels=SPOT_WINDOW, spixels=SPOT_WINDOW, oversample=2,
            beam_center_f_mm=middle - along_f, beam_center_s_mm=middle - along_s,
            polarization=baseline_value(case.config, "polarization"),
        )
        with torch.no_grad():
            image = simulate(config)
        if not bragg_signal(image, "square"):
            return _no_signal("brightest_spot", config)
        peak = int(torch.argmax(image))
        slow, fast = divmod(peak, SPOT_WINDOW)
        centre = SPOT_WINDOW // 2
        offset = max(abs(slow - centre), abs(fast - centre))
        rows.append(Row(f"reflection (0,{k},{l}): pixel offset", float(offset), 0.0, 1.0,
                        "ok" if offset <= 1 else "FAIL"))
    passed = all(r.status == "ok" for r in rows)
    return CheckResult("brightest_spot", passed,
                       "" if passed else "brightest pixel is not at the predicted spot", rows,
                       ["brightest_spot: rotated about the beam" if theta else
                        "brightest_spot: unrotated"])


SCALING_RTOL = 1e-10


def scaled_detector(config: Config, k: float) -> Config:
    """Distance, pixel size and the in-plane beam or close positions all multiplied by ``k``."""
    det = config.detector
    changes: dict = {"distance_mm": baseline_value(config, "distance_mm") * k,
                     "pixel_mm": det.pixel_mm * k}
    for name in ("beam_center_f_mm", "beam_center_s_mm", "close_f_mm", "close_s_mm",
                 "close_distance_mm"):
        value = getattr(det, name)
        if value is not None:
            changes[name] = float(value) * k
    return config.replace(**changes)


def check_distance_scaling(case: Case) -> CheckResult:
    """Scaling the whole detector by k about the sample keeps every angle.

    With point pixels the solid angle is 1/r^2, so the image scales by exactly 1/k^2; with real
    pixels (area k^2, distance k) the solid angle and so the image are unchanged.
    """
    k = math.exp(math.log(case.factor) / 10)  # factor in [1e-3, 1e3] -> k in [0.5, 2]
    rows = []
    for point in (True, False):
        config = case.config.replace(point_pixel=point)
        with torch.no_grad():
            image = simulate(config)
            if not bragg_signal(image, config.crystal.shape):
                return _no_signal("distance_scaling", config)
            far = simulate(scaled_detector(config, k))
        expected = image / (k * k) if point else image
        same, error = _image_close(far, expected, SCALING_RTOL)
        label = "point pixel: image(kd) vs image(d)/k^2" if point else \
            "real pixel: image(kd) vs image(d)"
        rows.append(Row(f"{label} (k={k:.4g})", error, 0.0, SCALING_RTOL,
                        "ok" if same else "FAIL"))
    passed = all(r.status == "ok" for r in rows)
    return CheckResult("distance_scaling", passed,
                       "" if passed else "intensity does not scale as 1/distance^2", rows,
                       [f"distance_scaling: k {'>' if k > 1 else '<='} 1"])


def check_finite(case: Case) -> CheckResult:
    """No NaN or Inf in the image or its gradient with respect to every applicable parameter."""
    config = case.config
    names = applicable_parameters(config)
    weights = case.weights()
    image, total, grad = _loss_and_grads(config, names, weights)
    if not bragg_signal(image, config.crystal.shape):
        return _no_signal("finite", config)
    bad = [n for i, n in enumerate(names) if not math.isfinite(float(grad[i]))]
    finite_image = bool(torch.isfinite(image).all()) and math.isfinite(float(total))
    rows = [Row(f"d/d {n}", float(grad[i]), float("nan"), 0.0,
                "FAIL" if n in bad else "ok") for i, n in enumerate(names)]
    passed = finite_image and not bad
    message = "" if passed else ("image not finite" if not finite_image else
                                 f"non-finite gradient for {', '.join(bad)}")
    return CheckResult("finite", passed, message, rows, [f"finite: shape {config.crystal.shape}"])


def check_repeatable(case: Case) -> CheckResult:
    """The same configuration and seed give bit-identical images and gradients."""
    config = case.config
    weights = case.weights()
    first = _loss_and_grads(config, case.names, weights)
    if not bragg_signal(first[0], config.crystal.shape):
        return _no_signal("repeatable", config)
    second = _loss_and_grads(config, case.names, weights)
    same_image = torch.equal(first[0], second[0])
    same_grad = torch.equal(first[2], second[2])
    rows = [Row("image bits differ", float(not same_image), 0.0, 0.0,
                "ok" if same_image else "FAIL"),
            Row("gradient bits differ", float(not same_grad), 0.0, 0.0,
                "ok" if same_grad else "FAIL")]
    passed = same_image and same_grad
    return CheckResult("repeatable", passed, "" if passed else "repeat runs differ", rows)


def check_valid_config(case: Case) -> CheckResult:
    """The configuration passes its own validation and survives a JSON round trip."""
    from dataclasses import replace

    from .serialization import config_from_json, config_to_json

    config = case.config
    try:
        rebuilt = Config(crystal=replace(config.crystal), beam=replace(config.beam),
                         detector=replace(config.detector))
        round_trip = config_from_json(config_to_json(config))
    except ConfigError as exc:
        return CheckResult("valid_config", False, f"rejected: {exc}")
    same = config_to_json(round_trip) == config_to_json(rebuilt)
    return CheckResult("valid_config", same, "" if same else "JSON round trip changed it")


CHECKS: dict[str, Callable[[Case], CheckResult]] = {
    "gradient": check_gradient,
    "forward_reverse": check_forward_reverse,
    "fluence_linearity": check_fluence_linearity,
    "rotation_periodicity": check_rotation_periodicity,
    "misset_equivalence": check_misset_equivalence,
    "cell_duality": check_cell_duality,
    "brightest_spot": check_brightest_spot,
    "distance_scaling": check_distance_scaling,
    "finite": check_finite,
    "repeatable": check_repeatable,
    "valid_config": check_valid_config,
}
"""Every property check by name (the name stored in failure files)."""
