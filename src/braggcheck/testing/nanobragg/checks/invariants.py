"""Physical invariants that hold to float64 rounding: linearity in fluence, rotation
periodicity and equivalences, cell duality, Bragg's law, distance scaling, valid configurations."""

from __future__ import annotations

import math

import torch

from braggcheck.nanobragg.serialization import config_from_json, config_to_json
from braggcheck.sim.config import Config
from braggcheck.sim.constants import ANGSTROM
from braggcheck.sim.crystal import cell_basis, reciprocal_volume_check
from braggcheck.sim.detector import FRAMES
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import baseline_value, build_state
from braggcheck.testing.framework import invariants as target_invariants
from braggcheck.testing.framework.check_support import image_close, tolerance_row
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.tolerances import EPS, PERIOD_RTOL
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.checks.results import loss_and_grads, unusable
from braggcheck.testing.nanobragg.target import NANOBRAGG
from braggcheck.util.errors import ConfigError


def check_fluence_linearity(case: Case) -> CheckResult:
    """image(k F) = k image(F) to float64 rounding, and d(w.image)/dF = (w.image) / F."""
    config = case.config
    k = case.factor
    fluence = baseline_value(config, "fluence")
    weights = case.weights()
    image, total, grad = loss_and_grads(config, ("fluence",), weights)
    if (unfit := unusable("fluence_linearity", image, config)) is not None:
        return unfit
    with torch.no_grad():
        scaled = simulate(config.replace(fluence=k * fluence))
        # The water background is quadratic in fluence (r_e^2 fluence enters it twice, as in
        # the reference): image(F) = a F + b F^2, so image(kF) = k image + (k^2 - k) b F^2,
        # with b F^2 = (image(2F) - 2 image(F)) / 2. (Not image minus the image without
        # water: water also stops the reference skipping zero-lattice samples, which changes
        # the running sum of -oversample_* and so the Bragg part.)
        image = image.detach()
        background = torch.zeros_like(image)
        if baseline_value(config, "water_size_um") != 0:
            background = (simulate(config.replace(fluence=2 * fluence)) - 2 * image) / 2
        expected_scaled = k * image + (k * k - k) * background
    # Each pixel is a product of a few rounded factors: a handful of ulps apart at most. With
    # water the background comes from two images of 8 ulps each (8 + 2 x 8, halved), and
    # k^2 - k amplifies that rounding.
    allowed = 8 * EPS * expected_scaled.abs() + 16 * EPS * abs(k * k - k) * background.ne(0) \
        * image.abs()
    excess = (scaled - expected_scaled).abs() - allowed
    linear = bool((excess <= 0).all())
    expected = (float(total) + float((weights * background).sum())) / fluence
    row = Row("d(w.image)/d fluence", float(grad[0]), expected,
              1e-12 * abs(expected), "ok")
    # A dark projection (one unlit pixel) has expected == 0: then the gradient must be 0 too.
    row.status = "ok" if row.error <= row.tolerance else "FAIL"
    rows = [row]
    worst = float(((scaled - expected_scaled).abs()
                   / expected_scaled.abs().clamp_min(1e-300)).max())
    worst_allowed = float((allowed / expected_scaled.abs().clamp_min(1e-300)).max())
    rows.append(Row(f"max |image(kF)/k - image(F)| (k={k:.3g})", worst, 0.0, worst_allowed,
                    "ok" if linear else "FAIL"))
    passed = linear and row.status == "ok"
    return CheckResult("fluence_linearity", passed,
                       "" if passed else "image is not linear in fluence", rows,
                       [f"fluence_linearity: k {'>' if k > 1 else '<='} 1"])




def check_rotation_periodicity(case: Case) -> CheckResult:
    """Adding whole turns (the registry ``period``) to a periodic angle (misset, phi, detector
    rotations, two-theta) leaves the image and its gradients alone."""
    return target_invariants.check_periodicity(NANOBRAGG, case, "rotation_periodicity")


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
        if (unfit := unusable("misset_equivalence", image, config)) is not None:
            return unfit
        other = simulate(config.replace(misset_rot_x=rx + 180.0, misset_rot_y=180.0 - ry,
                                        misset_rot_z=rz + 180.0))
    same, error = image_close(image, other, PERIOD_RTOL)
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
        same2, error2 = image_close(image, shifted, PERIOD_RTOL)
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
        tolerance_row("a_i . b*_j - (triple/V) I", float((product - common * eye).abs().max()),
                 DUALITY_TOL),
        tolerance_row("real . (cross / triple) - I", float((real @ true_reciprocal.T - eye)
                                                       .abs().max()), DUALITY_TOL),
        tolerance_row("|a|,|b|,|c| vs cell (rel)", length_error, DUALITY_TOL),
        Row("V half-angle vs textbook", formula, textbook, 1e-12 * textbook,
            "ok" if abs(formula - textbook) <= 1e-12 * textbook else "FAIL"),
    ]
    if all(math.cos(math.radians(float(getattr(crystal, f"cell_{x}")))) == math.cos(
            math.radians(90.0)) for x in ("alpha", "beta", "gamma")):
        rows.append(tolerance_row("orthogonal: real . reciprocal - I", duality_error, DUALITY_TOL))
        rows.append(Row("orthogonal: V triple vs textbook", triple, textbook,
                        1e-12 * textbook,
                        "ok" if abs(triple - textbook) <= 1e-12 * textbook else "FAIL"))
    passed = all(r.status == "ok" for r in rows)
    angles = [float(getattr(crystal, f"cell_{x}")) for x in ("alpha", "beta", "gamma")]
    events = ["cell_duality: obtuse"] if max(angles) > 90 else []
    events.append(f"cell_duality: a.a* - 1 {'<' if abs(common - 1) < 1e-3 else '>='} 1e-3")
    return CheckResult("cell_duality", passed, "" if passed else "cell bases inconsistent",
                       rows, events)


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
        if (unfit := unusable("brightest_spot", image, config)) is not None:
            return unfit
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
    # The sensor's thickness and attenuation length are lengths too: scaled with the rest, the
    # capture fraction (thickness / (attenuation cos)) and the parallax keep their angles.
    for name in ("beam_center_f_mm", "beam_center_s_mm", "close_f_mm", "close_s_mm",
                 "close_distance_mm", "sensor_thickness_um", "sensor_attenuation_um"):
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
        if point:  # -oversample_omega multiplies the running sum by 1/r^2 once per sample:
            # a mix of powers of 1/k, not 1/k^2 (real pixels keep it: their omega is fixed)
            config = config.replace(oversample_omega=False)
        with torch.no_grad():
            image = simulate(config)
            if (unfit := unusable("distance_scaling", image, config)) is not None:
                return unfit
            far = simulate(scaled_detector(config, k))
        expected = image / (k * k) if point else image
        same, error = image_close(far, expected, SCALING_RTOL)
        label = "point pixel: image(kd) vs image(d)/k^2" if point else \
            "real pixel: image(kd) vs image(d)"
        rows.append(Row(f"{label} (k={k:.4g})", error, 0.0, SCALING_RTOL,
                        "ok" if same else "FAIL"))
    passed = all(r.status == "ok" for r in rows)
    return CheckResult("distance_scaling", passed,
                       "" if passed else "intensity does not scale as 1/distance^2", rows,
                       [f"distance_scaling: k {'>' if k > 1 else '<='} 1"])


def check_valid_config(case: Case) -> CheckResult:
    """The configuration passes its own validation and survives a JSON round trip."""
    from dataclasses import replace

    config = case.config
    try:
        rebuilt = Config(crystal=replace(config.crystal), beam=replace(config.beam),
                         detector=replace(config.detector))
        round_trip = config_from_json(config_to_json(config))
    except ConfigError as exc:
        return CheckResult("valid_config", False, f"rejected: {exc}")
    same = config_to_json(round_trip) == config_to_json(rebuilt)
    return CheckResult("valid_config", same, "" if same else "JSON round trip changed it")
