"""What a property-test case covers: ``hypothesis.event`` labels and the code-path regions
(:class:`~braggcheck.testing.nanobragg.regions.Region` values, generated from the registry and
the configuration's choices) that the strategies must reach (``tests/properties/
test_coverage.py`` fails naming the region and its component).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from braggcheck.sim.applicability import applicable_parameters
from braggcheck.sim.config import Config
from braggcheck.sim.crystal_size import AXES as CELL_COUNTS
from braggcheck.sim.detector import (
    effective_pivot,
    resolved_beam_center_mm,
    resolved_close_mm,
)
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import SHAPES
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.regions import (
    ALL_RECOMPUTED,
    AWAY_FROM_BEAM,
    COUNT_DIFFERENTIATED,
    COUNT_DIFFERENTIATED_OTHER,
    HIGH_ANGLE,
    HIGH_ANGLE_DEG,
    SEVERAL_CHUNKS,
    STORED_THEN_RECOMPUTED,
    Region,
    config_region_list,
    config_regions,
    differentiated,
    parameter_regions,
)
from braggcheck.testing.nanobragg.strategies.placement import (
    direct_beam_on_detector,
    scattering_angle_deg,
)

SPECIAL_ANGLES = (0.0, 90.0, -90.0, 180.0, 89.0, 45.0)


def _regions(case: Case) -> list[Region]:
    """Code-path regions of ``case`` (each one of :data:`REGIONS`)."""
    config = case.config
    crystal, det = config.crystal, config.detector
    found = config_regions(config)
    found += [differentiated(name) for name in case.names]
    if any(name in CELL_COUNTS for name in case.names):  # the continuous lattice factor
        found.append(COUNT_DIFFERENTIATED if crystal.shape == "square"
                     else COUNT_DIFFERENTIATED_OTHER)
    roi = det.fpixels * det.spixels
    if case.pixels_per_chunk is not None and case.pixels_per_chunk < roi:
        found.append(SEVERAL_CHUNKS)
        if case.stored_chunks == 0:
            found.append(ALL_RECOMPUTED)
        elif case.stored_chunks is not None and case.stored_chunks * case.pixels_per_chunk < roi:
            found.append(STORED_THEN_RECOMPUTED)
    if not direct_beam_on_detector(config):
        found.append(AWAY_FROM_BEAM)
        if scattering_angle_deg(config) > HIGH_ANGLE_DEG:
            found.append(HIGH_ANGLE)
    return found


def gradient_regions(shapes: Sequence[str] = SHAPES,
                     registry: Iterable[str] = PARAMETERS) -> tuple[Region, ...]:
    """Every region the strategies of ``shapes`` must reach: the configuration's choices
    (:func:`~braggcheck.testing.nanobragg.regions.config_region_list`), one per registry
    parameter differentiated, and the gradient path's own (chunking, the continuous cell
    count, spots away from the beam)."""
    return (*config_region_list(shapes), *parameter_regions(registry),
            COUNT_DIFFERENTIATED, COUNT_DIFFERENTIATED_OTHER, SEVERAL_CHUNKS, ALL_RECOMPUTED,
            STORED_THEN_RECOMPUTED, AWAY_FROM_BEAM, HIGH_ANGLE)


REGIONS: tuple[Region, ...] = gradient_regions()
"""Every region the strategies must reach (``cell: triclinic, shape tophat`` and the -dmin cut
only where they are drawn, in the non-gradient checks)."""


def coverage_labels(case: Case) -> list[str]:
    """What a case covers, for ``hypothesis.event`` (Hypothesis floats are far from uniform)."""
    crystal, det = case.config.crystal, case.config.detector
    labels = [str(region) for region in _regions(case)]
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


def unreached_regions(sample: Sequence[Case], regions: Sequence[Region] = REGIONS,
                      min_share: float = 0.0) -> list[Region]:
    """Regions reached by no more than ``min_share`` of ``sample`` (all of them by default)."""
    counts = dict.fromkeys(regions, 0)
    for case in sample:
        for label in _regions(case):
            if label in counts:
                counts[label] += 1
    return [r for r, n in counts.items() if n <= min_share * len(sample)]
