"""Exact physical relations of the forward image, which gradient checks cannot see.

A forward bug that keeps the gradient consistent with the (wrong) image (a wrong obliquity
exponent, mosaic rotations composed in the wrong order) passes every gradient property; these
compare the image with something computed another way:

* ``superposition``: an image with several phi steps, mosaic domains or sources is the mean of
  the images of one-step, one-domain, one-source configurations (brief 7.6);
* ``pixel_factors``: real pixel / point pixel and polarized / unpolarized images are, pixel by
  pixel, the solid-angle and polarization factors computed independently in numpy;
* ``spot_values``: at an exact lattice node the intensity has a closed form, and on the whole
  image of a simple configuration it equals an independent numpy model for every crystal shape.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from braggcheck.sim import simulator
from braggcheck.sim.config import Config, CrystalConfig
from braggcheck.sim.crystal import mosaic_matrices
from braggcheck.sim.detector import FRAMES
from braggcheck.sim.source_list import single_sources
from braggcheck.sim.sources import axis_grid, divergence_pairs
from braggcheck.sim.state import baseline_value
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.checks import independent as ind
from braggcheck.testing.nanobragg.checks.results import no_signal
from braggcheck.testing.nanobragg.strategies.pixels import without_pixel_features
from braggcheck.testing.nanobragg.target import bragg_signal

SUPERPOSITION_RTOL = 1e-11
"""Image vs mean of its parts, relative to the image maximum. Phi parts are the same arithmetic
(bit-identical but for the order of the sum). Mosaic and source parts rebuild a rotation as
misset angles or a detector as SAMPLE-pivot offsets: ~1e-16 relative errors in the basis that
move Miller indices (up to |a|/lambda ~ 1e3) by ~1e-13 and, through the spot's slope (up to
~N pi per unit h), the intensity by < 1e-12 of the maximum; measured up to 1.1e-13 over a
derandomized sample of 40 cases, 1e-11 leaves a margin for larger N and longer cells."""

FACTOR_RTOL = 1e-12
"""Per pixel, image ratio vs the independent factor: the lattice sums of both images are the
same bits, so only the factor differs, by a few ulps of each of its ~10 rounded operations."""

MODEL_RTOL = 1e-10
"""Whole image vs the independent numpy model, relative to the maximum: the two evaluate h in
a different operation order (~1e-13 apart for |h| ~ 1e2), amplified by the spot slope; measured
up to 2.2e-12. A node value is a plain product of ~10 rounded factors: NODE_RTOL."""
NODE_RTOL = 1e-12


def _fixed(config: Config) -> Config:
    """The config with its oversample written out, so both sides use the same subpixels (and
    without the per-pixel features, which break the relations by design, nor a resolution
    cut: its polarization is taken at each pixel's first sample inside the cut, as the
    reference does, and which sample that is depends on the sources present)."""
    changes = {"oversample": config.oversample}
    if config.detector.dmin_A:
        changes["dmin_A"] = 0.0
    return without_pixel_features(config).replace(**changes)


def _image(config: Config) -> torch.Tensor:
    with torch.no_grad():  # simulator.simulate looked up at call time: tests plant bugs in it
        return simulator.simulate(config)


ADDED_PHI_STEP_DEG = 0.25
"""A case with one phi step gets a second one this far on, so the phi relation always runs."""


def _compare(label: str, image: torch.Tensor, parts: list[torch.Tensor]) -> Row:
    expected = torch.stack(parts).sum(0) / len(parts)
    scale = float(image.abs().max())
    error = float((image - expected).abs().max()) / max(scale, 1e-300)
    status = "ok" if error <= SUPERPOSITION_RTOL else "FAIL"
    # Equal parts check the weights only: a wrong order or angle would not change them.
    differ = float((parts[0] - parts[-1]).abs().max()) / max(scale, 1e-300)
    if status == "ok" and differ <= 1e3 * SUPERPOSITION_RTOL:
        status = "weights only"
    return Row(f"{label}: image vs mean of {len(parts)}", error, 0.0, SUPERPOSITION_RTOL,
               status)


def phi_parts(config: Config) -> list[Config]:
    """One config per phi step: phi_start + k step, one step."""
    start = baseline_value(config, "phi_start_deg")
    step = config.crystal.phi_step_deg
    return [config.replace(phi_steps=1, phi_step_deg=0.0, phi_start_deg=start + k * step)
            for k in range(config.crystal.phi_steps)]


def mosaic_parts(config: Config) -> list[Config] | None:
    """One config per domain, for one phi step: a domain turns the phi-rotated basis by U, so
    its basis is R_phi (R_phi^T U R_phi R_misset) a0, a misset of R_phi^T U R_phi R_misset.
    None near gimbal lock (cos(rot_y) < 1e-3), where misset angles cannot carry it to 1e-12.
    The domain matrices U come from braggcheck's RNG (held to the reference's check values by
    tests/unit/sim/test_rng.py): the relation tests how they are composed and weighted."""

    crystal = config.crystal
    spread = torch.tensor(baseline_value(config, "mosaic_spread_deg"), dtype=torch.float64)
    domains = mosaic_matrices(spread, crystal.mosaic_domains, crystal.mosaic_seed).numpy()
    spindle = ind._unit(ind._vector(crystal.spindle_axis,
                                    FRAMES[config.detector.convention].spindle))
    phi = ind.rodrigues(spindle, math.radians(baseline_value(config, "phi_start_deg")))
    misset = ind.rotation_xyz(*(baseline_value(config, f"misset_rot_{a}") for a in "xyz"))
    parts = []
    for u in domains:
        total = phi.T @ u @ phi @ misset
        if math.hypot(total[2, 1], total[2, 2]) < 1e-3:
            return None
        rx, ry, rz = ind.euler_xyz(total)
        parts.append(config.replace(mosaic_domains=1, mosaic_spread_deg=0.0,
                                    misset_rot_x=rx, misset_rot_y=ry, misset_rot_z=rz))
    return parts


def source_grid_np(config: Config) -> tuple[list[np.ndarray], list[float]]:
    """The grid's incident directions (horizontal outer) and wavelengths in A (brief 5.3)."""
    beam = config.beam
    place = ind.placement(config)
    nominal = beam.nominal_divergence_mrad
    scale = baseline_value(config, "divergence_mrad") / nominal if nominal > 0 else 1.0
    vertical = ind._unit(np.cross(place.beam, place.polar))
    directions = [ind._unit(ind.rodrigues(vertical, h * scale / 1000)
                            @ ind.rodrigues(place.polar, v * scale / 1000) @ place.beam)
                  for h, v in divergence_pairs(beam)]
    offsets = axis_grid(baseline_value(config, "dispersion"), beam.dispersion_steps,
                        beam.dispersion_step_pct)
    wavelength = baseline_value(config, "lambda_A")
    return directions, [wavelength * (1 + d / 100) for d in offsets]


NO_DIVERGENCE = {"hdiv_range_mrad": 0.0, "hdiv_steps": 1, "hdiv_step_mrad": None,
                 "vdiv_range_mrad": 0.0, "vdiv_steps": 1, "vdiv_step_mrad": None,
                 "divergence_mrad": None}
NO_DISPERSION = {"dispersion_pct": 0.0, "dispersion_steps": 1, "dispersion_step_pct": None}


def wavelength_parts(config: Config) -> list[Config]:
    """One config per wavelength of the grid, each with the whole divergence grid."""
    _, wavelengths = source_grid_np(config)
    return [config.replace(lambda_A=w, **NO_DISPERSION) for w in wavelengths]


def direction_parts(config: Config) -> list[Config]:
    """One config per divergence direction, each with all the wavelengths: that beam
    direction, with the detector pinned where it is (a SAMPLE pivot at the same pix0: under a
    BEAM pivot a new beam direction would move it) and the convention's other vectors kept."""
    place = ind.placement(config)
    directions, _ = source_grid_np(config)
    pinned = config.replace(
        pivot="sample", close_distance_mm=float(place.pix0 @ place.odet) * 1e3,
        close_f_mm=-float(place.pix0 @ place.fdet) * 1e3,
        close_s_mm=-float(place.pix0 @ place.sdet) * 1e3, **NO_DIVERGENCE)
    return [pinned.replace(beam_vector=tuple(float(x) for x in d)) for d in directions]


def check_superposition(case: Case) -> CheckResult:
    """Several phi steps, mosaic domains or sources: the image is the mean of its parts.

    Each axis is checked on its own (the others reduced to one step, which keeps it cheap;
    the source grid split into its wavelengths and its directions); a case with nothing to
    superpose gets a second phi step (``ADDED_PHI_STEP_DEG``) so that one relation always runs.
    Parts that do not differ by > 1e-8 of the maximum (a TOPHAT direct-beam spot, which no
    rotation moves) check the weights only (a normalisation bug still fails them): reported so,
    and counted as an event. With sources in several directions polarization is turned off:
    the reference evaluates it once per pixel with source 0's direction (brief 7.5), which no
    one-source image reproduces.
    """
    config = _fixed(case.config)
    events = []
    directions, wavelengths = source_grid_np(config)
    others = ((config.crystal.mosaic_domains > 1
               and baseline_value(config, "mosaic_spread_deg") > 0)
              or len(directions) * len(wavelengths) > 1)
    if config.crystal.phi_steps == 1 and not others:
        config = config.replace(phi_steps=2, phi_step_deg=ADDED_PHI_STEP_DEG)
        events.append("superposition: phi step added")
    crystal, rows = config.crystal, []
    image = _image(config)
    if not bragg_signal(image, crystal.shape):
        return no_signal("superposition", config)
    if config.crystal.phi_steps > 1:
        rows.append(_compare("phi steps", image, [_image(c) for c in phi_parts(config)]))
        events.append("superposition: phi steps")
    one_phi = config.replace(phi_steps=1, phi_step_deg=0.0)
    if crystal.mosaic_domains > 1 and baseline_value(config, "mosaic_spread_deg") > 0:
        parts = mosaic_parts(one_phi)
        if parts is None:
            events.append("superposition: mosaic skipped near gimbal lock")
        else:
            rows.append(_compare("mosaic domains", _image(one_phi),
                                 [_image(c) for c in parts]))
            events.append("superposition: mosaic domains")
    single = one_phi.replace(mosaic_domains=1, mosaic_spread_deg=0.0)
    directions, wavelengths = source_grid_np(single)
    if single.beam.sources is not None:  # -sourcefile: one part per listed source, no grid
        directions, wavelengths = [], []
        unpolarized = single.replace(nopolar=True)
        rows.append(_compare("sources, listed", _image(unpolarized),
                             [_image(unpolarized.replace(sources=s))
                              for s in single_sources(single.beam.sources)]))
        events.append("superposition: listed sources")
    if len(wavelengths) > 1:
        rows.append(_compare("sources, wavelengths", _image(single),
                             [_image(c) for c in wavelength_parts(single)]))
        events.append("superposition: dispersion")
    if len(directions) > 1:
        unpolarized = single.replace(nopolar=True)
        rows.append(_compare("sources, directions", _image(unpolarized),
                             [_image(c) for c in direction_parts(unpolarized)]))
        events.append("superposition: divergence")
    if not rows:
        return CheckResult("superposition", False, "nothing to superpose (no phi step "
                           "could be added)", inconclusive=True)
    events += [f"superposition: {r.name.split(':')[0]} weights only" for r in rows
               if r.status == "weights only"]
    passed = all(r.status in ("ok", "weights only") for r in rows)
    return CheckResult("superposition", passed, "" if passed else
                       "the image is not the mean of its one-step parts", rows, events)


def _ratio_row(label: str, numerator: torch.Tensor, denominator: torch.Tensor,
               expected: np.ndarray) -> Row:
    num, den = numerator.numpy(), denominator.numpy()
    # Subnormal values carry no relative precision; everything else does.
    usable = (np.abs(num) > 1e-290) & (np.abs(den) > 1e-290)
    error = float(np.max(np.abs(num[usable] / den[usable] / expected[usable] - 1),
                         initial=0.0))
    return Row(f"{label} (per pixel, rel)", error, 0.0, FACTOR_RTOL,
               "ok" if error <= FACTOR_RTOL and usable.any() else "FAIL")


def check_pixel_factors(case: Case) -> CheckResult:
    """image(real pixel) / image(point pixel) = px^2 close / R and image(polarized) /
    image(nopolar) = P(K), per pixel, at each pixel's first subpixel (brief 7.3, 5.5).

    Both factors are computed in numpy from the config (:mod:`.independent`). The source grid is
    reduced to its wavelengths (one direction) so that P has one incident direction. Not
    vacuous: the obliquity close/R must vary over the image by > 1e-7, P by > 1e-9.
    """
    # The numpy models know no -dmin cut, -mask or listed sources (the reference checks them).
    config = _fixed(case.config.replace(dmin_A=0.0, mask=None)).replace(
        hdiv_range_mrad=0.0, hdiv_steps=1, hdiv_step_mrad=None, vdiv_range_mrad=0.0,
        vdiv_steps=1, vdiv_step_mrad=None, divergence_mrad=None, nopolar=False, sources=None)
    real = _image(config.replace(point_pixel=False))
    if not bragg_signal(real, config.crystal.shape):
        return no_signal("pixel_factors", config)
    point = _image(config.replace(point_pixel=True))
    place = ind.placement(config)
    positions = ind.first_subpixels(config, place, config.oversample)
    distance = np.linalg.norm(positions, axis=-1)
    obliquity = (config.detector.pixel_mm * 1e-3) ** 2 * place.close / distance
    rows = [_ratio_row("real/point vs px^2 close/R", real, point, obliquity)]
    spread = float(obliquity.max() / obliquity.min() - 1)
    rows.append(Row("obliquity variation max/min - 1", spread, 1e-7, 0.0,
                    "ok" if spread > 1e-7 else "FAIL (vacuous)"))
    # The same pixel model as ``real``: only polarization may differ between the two.
    unpolarized = _image(config.replace(point_pixel=False, nopolar=True))
    kahn = baseline_value(config, "polarization")
    factor = ind.polarization(place.beam, ind._unit(positions), place.polar, kahn)
    rows.append(_ratio_row(f"polar/nopolar vs P(K={kahn:.3g})", real, unpolarized, factor))
    variation = float(np.abs(factor - 1).max())
    rows.append(Row("polarization max |P - 1|", variation, 1e-9, 0.0,
                    "ok" if variation > 1e-9 else "FAIL (vacuous)"))
    vacuous = [r for r in rows if r.status == "FAIL (vacuous)"]
    if vacuous:
        return CheckResult("pixel_factors", False, "a factor is constant over this image",
                           rows, inconclusive=True)
    passed = all(r.status == "ok" for r in rows)
    return CheckResult("pixel_factors", passed, "" if passed else
                       "solid angle or polarization differs from the geometry", rows,
                       [f"pixel_factors: {config.detector.convention}"])


NODE_SHAPE_FACTOR = {"square": 1.0, "round": ind.ROUND_SCALE, "gauss": 1.0, "tophat": 1.0}
"""F_latt at a node over Na Nb Nc (brief section 3)."""


def node_config(config: Config) -> tuple[Config, tuple[int, int]]:
    """A one-source, one-step, one-domain, oversample-1, thin-detector config whose direct beam
    passes exactly through the centre of its middle pixel (BEAM pivot: pix0 + centre =
    distance x beam), so that pixel sits on the h = k = l = 0 node."""
    config = without_pixel_features(config)  # braggcheck.testing.nanobragg.strategies.pixels
    det = config.detector
    node = (det.spixels // 2, det.fpixels // 2)
    reduced = config.replace(
        oversample=1, phi_steps=1, phi_step_deg=0.0, mosaic_domains=1, mosaic_spread_deg=0.0,
        hdiv_range_mrad=0.0, hdiv_steps=1, hdiv_step_mrad=None, vdiv_range_mrad=0.0,
        vdiv_steps=1, vdiv_step_mrad=None, divergence_mrad=None, dispersion_pct=0.0,
        dispersion_steps=1, dispersion_step_pct=None, hkl=None, pivot="beam",
        close_distance_mm=None, beam_center_f_mm=(node[1] + 0.5) * det.pixel_mm,
        beam_center_s_mm=(node[0] + 0.5) * det.pixel_mm,
        # A thin detector: thick layers sample behind the plane (parallax moves the node off
        # the pixel centre) and scale by a capture fraction the closed form does not have.
        sensor_thickness_um=0.0, sensor_attenuation_um=None, sensor_layers=None)
    return reduced, node


NEAR_NODE_X2 = 4e-3
"""Where the near-node sample is put: (pi N |offset|)^2 fudge, inside ROUND's series branch
(x^2 < 1e-2) yet far from 0, so its x^2 coefficients decide the value there."""


def _node_x2(config: Config, node: tuple[int, int]) -> tuple[ind.Model, float]:
    model = ind.simple_image(config)
    cells = np.array([config.crystal.n_a, config.crystal.n_b, config.crystal.n_c])
    offset = model.hkl[node] - np.ceil(model.hkl[node] - 0.5)
    return model, float(math.pi**2 * ((offset * cells) ** 2).sum() * config.crystal.fudge)


def _usable(model: ind.Model, crystal: CrystalConfig) -> np.ndarray:
    """Pixels where the model is decisive: all, but TOPHAT pixels within 1e-9 of the spot's
    edge (either side is right to rounding)."""
    if crystal.shape != "tophat":
        return np.ones(model.image.shape, dtype=bool)
    cells = (crystal.n_a, crystal.n_b, crystal.n_c)
    return ind.tophat_margin(model.hkl, model.reciprocal, cells, crystal.fudge) > 1e-9


def _model_error(simulated: np.ndarray, model: ind.Model, usable: np.ndarray) -> float:
    """max |simulated - model| over the ``usable`` pixels, relative to the image maximum."""
    scale = max(float(np.abs(simulated).max()), 1e-300)
    return float(np.abs(simulated - model.image)[usable].max(initial=0.0)) / scale


def _near_node_rows(config: Config, node: tuple[int, int]) -> list[Row]:
    """The image again with the direct beam moved off the node pixel's centre so that its
    sample sits at x^2 = NEAR_NODE_X2 (x^2 grows as the square of the shift), against the numpy
    model: a sample near a node, not on it (a lattice-factor slip that vanishes at the node,
    such as a wrong series coefficient, shows here)."""
    trial = 1e-3 * config.detector.pixel_mm
    f_mm = float(config.detector.beam_center_f_mm)
    _, x2 = _node_x2(config.replace(beam_center_f_mm=f_mm + trial), node)
    if not x2 > 0:
        return []
    moved = config.replace(beam_center_f_mm=f_mm + trial * math.sqrt(NEAR_NODE_X2 / x2))
    model, x2 = _node_x2(moved, node)
    error = _model_error(_image(moved).numpy(), model, _usable(model, moved.crystal))
    placed = 1e-4 < x2 < 1e-2
    return [Row("near-node sample x^2", x2, NEAR_NODE_X2, NEAR_NODE_X2,
                "ok" if placed else "FAIL (not placed)"),
            Row("near-node image vs numpy model (rel max)", error, 0.0, MODEL_RTOL,
                "ok" if error <= MODEL_RTOL else "FAIL")]


def check_spot_values(case: Case) -> CheckResult:
    """Spot intensities of every crystal shape against closed forms and a numpy model.

    (1) At the node pixel: r_e^2 fluence F^2 (c_shape Na Nb Nc)^2 omega, with P = 1 at
    2 theta = 0 and omega = px^2 close / R^3 (or 1 / R^2). (2) Every pixel: the independent
    numpy model of :mod:`.independent` (its own cell basis, Miller indices, lattice factor,
    polarization and solid angle). TOPHAT pixels within 1e-9 of the spot's edge are left out
    (either side is right to rounding). Not vacuous: off-node pixels must carry signal.
    """
    config, node = node_config(case.config.replace(dmin_A=0.0, mask=None, sources=None))
    crystal = config.crystal
    image = _image(config)
    if not bragg_signal(image, crystal.shape):
        return no_signal("spot_values", config)
    model = ind.simple_image(config)
    place = ind.placement(config)
    centre = ind.first_subpixels(config, place, 1)[node]
    omega = float(ind.solid_angle(config, place, centre[None])[0])
    cells = crystal.n_a * crystal.n_b * crystal.n_c * NODE_SHAPE_FACTOR[crystal.shape]
    closed = (ind.R_E_SQUARED * baseline_value(config, "fluence") * crystal.default_F**2
              * cells**2 * omega)
    value = float(image[node])
    miss = float(np.abs(model.hkl[node]).max())
    rows = [Row("node |h|,|k|,|l| (numpy)", miss, 0.0, 1e-9, "ok" if miss <= 1e-9 else
                "FAIL (node missed)"),
            Row(f"node value ({crystal.shape})", value, closed, NODE_RTOL * closed,
                "ok" if abs(value - closed) <= NODE_RTOL * closed else "FAIL")]
    simulated = image.numpy()
    usable = _usable(model, crystal)
    scale = float(np.abs(simulated).max())
    error = _model_error(simulated, model, usable)
    rows.append(Row("image vs numpy model (rel max)", error, 0.0, MODEL_RTOL,
                    "ok" if error <= MODEL_RTOL else "FAIL"))
    rows += _near_node_rows(config, node)
    offset = np.abs(model.hkl - np.round(model.hkl)).max(-1)
    lit = (offset > 0.02) & (simulated > 1e-6 * scale) & usable
    rows.append(Row("off-node pixels with signal", float(lit.sum()), 1.0, 0.0,
                    "ok" if lit.any() else "FAIL (vacuous)"))
    if rows[0].status != "ok" or rows[-1].status != "ok":
        return CheckResult("spot_values", False, "no usable node or off-node signal", rows,
                           inconclusive=True)
    passed = all(r.status == "ok" for r in rows)
    a, b, c = (float(getattr(crystal, f"cell_{x}")) for x in "abc")
    angles = [float(getattr(crystal, f"cell_{x}")) for x in ("alpha", "beta", "gamma")]
    system = ("cubic" if a == b == c and angles == [90.0] * 3 else "orthorhombic"
              if angles == [90.0] * 3 else "monoclinic" if angles[0] == angles[2] == 90.0
              else "triclinic")
    return CheckResult("spot_values", passed, "" if passed else
                       "spot intensities differ from the closed form or the numpy model", rows,
                       [f"spot_values: {crystal.shape}", f"spot_values: {system}"])
