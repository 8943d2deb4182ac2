"""What a property-test case covers: ``hypothesis.event`` labels and the named code-path regions
that the strategies must reach (``tests/properties/test_coverage.py`` fails by region name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from braggcheck.sim.applicability import applicable_parameters
from braggcheck.sim.config import Config
from braggcheck.sim.crystal_size import AXES as CELL_COUNTS
from braggcheck.sim.detector import (
    FRAMES,
    effective_pivot,
    resolved_beam_center_mm,
    resolved_close_mm,
)
from braggcheck.sim.physics import CHEBYSHEV_MAX_CELLS
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import CONVENTIONS, SHAPES
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.input_coverage import INPUT_REGIONS, input_regions
from braggcheck.testing.nanobragg.strategies.pixels import PIXEL_REGIONS, pixel_feature_regions
from braggcheck.testing.nanobragg.strategies.placement import (
    direct_beam_on_detector,
    scattering_angle_deg,
)

SPECIAL_ANGLES = (0.0, 90.0, -90.0, 180.0, 89.0, 45.0)
HIGH_ANGLE_DEG = 10.0
"""A detector centre this far from the beam counts as high scattering angle."""


def _regions(case: Case) -> list[str]:
    """Code-path regions (each one a label of :data:`REGIONS`)."""
    config = case.config
    crystal, det, beam = config.crystal, config.detector, config.beam
    cells = (crystal.n_a, crystal.n_b, crystal.n_c)
    labels = []
    if 1 in cells:
        labels.append("N = 1 on an axis")
    if 2 in cells:
        labels.append("N = 2 on an axis")
    if max(cells) > CHEBYSHEV_MAX_CELLS:
        labels.append(f"N > {CHEBYSHEV_MAX_CELLS} on an axis")
    if any(name in CELL_COUNTS for name in case.names):  # the continuous lattice factor
        labels.append("cell count differentiated" if crystal.shape == "square"
                      else "cell count differentiated, non-square shape")
    roi = det.fpixels * det.spixels
    if case.pixels_per_chunk is not None and case.pixels_per_chunk < roi:
        labels.append("pixels in several chunks")
        if case.stored_chunks == 0:
            labels.append("every chunk recomputed in the backward")
        elif case.stored_chunks is not None and case.stored_chunks * case.pixels_per_chunk < roi:
            labels.append("stored chunks, then recomputed ones")
    if det.sensor_thickness_um > 0:
        labels.append("thick sensor")
        if det.sensor_attenuation_um is not None:
            labels.append("thick sensor, explicit attenuation length")
        layers = det.sensor_layers if det.sensor_layers is not None else 2
        labels.append("thick sensor, one layer" if layers == 1 else
                      "thick sensor, several layers")
    angles = [float(getattr(crystal, f"cell_{x}")) for x in ("alpha", "beta", "gamma")]
    if all(a != 90.0 for a in angles):
        labels.append(f"shape {crystal.shape}, triclinic cell")
    if det.point_pixel:
        labels.append("point pixels")
    labels.append(f"oversample {config.oversample}")
    sources = beam.hdiv_steps * beam.vdiv_steps * beam.dispersion_steps
    if sources > 1 and crystal.mosaic_domains * crystal.phi_steps > 1:
        labels.append("several sources x several orientations")
    labels.append(f"convention {det.convention}")
    labels += pixel_feature_regions(config)  # braggcheck.testing.nanobragg.strategies.pixels
    labels.append(f"{effective_pivot(det)} pivot")
    if det.pivot is not None and det.pivot != FRAMES[det.convention].pivot:
        labels.append("pivot overriding the convention's")
    if det.convention == "custom" and det.fdet_vector is not None:
        labels.append("custom convention, explicit detector vectors")
    labels += input_regions(config)
    if not direct_beam_on_detector(config):
        labels.append("Bragg spot away from the direct beam")
        if scattering_angle_deg(config) > HIGH_ANGLE_DEG:
            labels.append(f"high scattering angle (> {HIGH_ANGLE_DEG:g} deg)")
    return labels


REGIONS: tuple[str, ...] = (
    "N = 1 on an axis", "N = 2 on an axis", f"N > {CHEBYSHEV_MAX_CELLS} on an axis",
    "cell count differentiated", "cell count differentiated, non-square shape",
    "pixels in several chunks", "every chunk recomputed in the backward",
    "stored chunks, then recomputed ones",
    "thick sensor", "thick sensor, explicit attenuation length", "thick sensor, one layer",
    "thick sensor, several layers",
    *(f"shape {s}, triclinic cell" for s in SHAPES),
    "point pixels", *(f"oversample {k}" for k in (1, 2, 3, 4)),
    "several sources x several orientations",
    *(f"convention {c}" for c in CONVENTIONS), "beam pivot", "sample pivot",
    "pivot overriding the convention's", "custom convention, explicit detector vectors",
    "Bragg spot away from the direct beam", f"high scattering angle (> {HIGH_ANGLE_DEG:g} deg)",
    *INPUT_REGIONS,
    *PIXEL_REGIONS,
)
"""Every region the strategies must reach (``shape tophat, triclinic cell`` only where TOPHAT is
drawn, in the non-gradient checks)."""


def coverage_labels(case: Case) -> list[str]:
    """What a case covers, for ``hypothesis.event`` (Hypothesis floats are far from uniform)."""
    crystal, det = case.config.crystal, case.config.detector
    labels = [f"shape {crystal.shape}", *_regions(case)]
    angles_ = [float(getattr(crystal, f"cell_{x}")) for x in ("alpha", "beta", "gamma")]
    if any(a > 90.0 for a in angles_):
        labels.append("obtuse cell angle")
    if any(a != 90.0 for a in angles_):
        labels.append("non-orthogonal cell")
    if crystal.mosaic_domains > 1:
        labels.append("mosaic")
    if crystal.phi_steps > 1:
        labels.append("several phi steps")
    missets = [float(getattr(crystal, f"misset_rot_{x}")) for x in "xyz"]
    if any(m != 0.0 and m in SPECIAL_ANGLES for m in missets):
        labels.append("special nonzero misset angle (90, 180, 89, ...)")
    if any(m not in SPECIAL_ANGLES for m in missets):
        labels.append("general misset angle")
    if beam_near_edge(case.config):
        labels.append("direct beam near detector edge")
    if det.pixel_mm > 0.1:
        labels.append("enlarged pixels")
    beam = case.config.beam
    if beam.hdiv_steps > 1 or beam.vdiv_steps > 1:
        labels.append("divergence grid")
    if beam.dispersion_steps > 1:
        labels.append("wavelength spread")
    labels.append("no polarization (-nopolar)" if beam.nopolar else "polarization")
    return labels


def beam_near_edge(config: Config) -> bool:
    """True when the beam centre (or SAMPLE-pivot origin) is on the detector within a quarter
    of its edge from a border."""
    det = config.detector
    if effective_pivot(det) == "sample":
        f, s = resolved_close_mm(det)
    else:
        f, s = resolved_beam_center_mm(det)
    fracs = (f / (det.fpixels * det.pixel_mm), s / (det.spixels * det.pixel_mm))
    return all(0 <= x <= 1 for x in fracs) and any(x < 0.25 or x > 0.75 for x in fracs)


def unreachable_parameters(sample: Sequence[Config],
                           registry: Mapping[str, object] = PARAMETERS) -> list[str]:
    """Registry names applicable in none of ``sample``: the property suite cannot check them."""
    reached = {name for config in sample for name in applicable_parameters(config)}
    return [name for name in registry if name not in reached]


def unreached_regions(sample: Sequence[Case], regions: Sequence[str] = REGIONS,
                      min_share: float = 0.0) -> list[str]:
    """Regions reached by no more than ``min_share`` of ``sample`` (all of them by default)."""
    counts = dict.fromkeys(regions, 0)
    for case in sample:
        for label in _regions(case):
            if label in counts:
                counts[label] += 1
    return [r for r, n in counts.items() if n <= min_share * len(sample)]
