"""Coverage regions as structured values, each naming the component it is about.

A :class:`Region` is a (component, value) pair: ``parameter: cell_a differentiated``,
``convention: dials``, ``sources: vertical divergence steps``. The families are generated from
what they cover (the registry :data:`braggcheck.sim.registry.PARAMETERS`, the configuration's
discrete choices :data:`~braggcheck.sim.sections.CONVENTIONS`, ``SHAPES``, ``PIVOTS``,
``PIXEL_FEATURE_FLAGS``, the cell-count axes, the simulator's guard sites), and the few regions
that are a condition rather than a choice are declared here once, so the label functions
(:mod:`braggcheck.testing.nanobragg.coverage`, the oracle's
:func:`~braggcheck.testing.nanobragg.oracle.strategies.oracle_regions`) and the lists the
coverage tests demand are built from the same values and compared by equality, never by
hand-typed text in several files. A strategy that stops drawing one component then fails its
coverage test naming that component.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from braggcheck.sim.config import Config
from braggcheck.sim.crystal_size import AXES as CELL_AXES
from braggcheck.sim.detector import FRAMES, effective_pivot
from braggcheck.sim.physics import CHEBYSHEV_MAX_CELLS
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import CONVENTIONS, PIVOTS, PIXEL_FEATURE_FLAGS, SHAPES


class Component(Enum):
    """What a region is about."""

    PARAMETER = "parameter"
    CONVENTION = "convention"
    PIVOT = "pivot"
    SHAPE = "shape"
    CELL = "cell"
    CELL_COUNT = "cell count"
    ORIENTATIONS = "orientations"
    SOURCES = "sources"
    POLARIZATION = "polarization"
    DETECTOR = "detector"
    SENSOR = "sensor"
    SAMPLING = "sampling"
    PIXEL_FEATURE = "pixel feature"
    INPUT = "input"
    CHUNKING = "chunking"
    SPOT = "spot"
    GUARD = "guard"


@dataclass(frozen=True, order=True)
class Region:
    """One coverage region: the ``component`` it is about and which ``value`` of it."""

    component: Component
    value: str

    def __str__(self) -> str:
        return f"{self.component.value}: {self.value}"


def regions_of(component: Component, values: Iterable[object]) -> tuple[Region, ...]:
    return tuple(Region(component, str(v)) for v in values)


# -- generated families --------------------------------------------------------------------

def differentiated(name: str) -> Region:
    return Region(Component.PARAMETER, f"{name} differentiated")


def parameter_regions(registry: Iterable[str] = PARAMETERS) -> tuple[Region, ...]:
    """One region per registry parameter: a gradient case differentiates it."""
    return tuple(differentiated(name) for name in registry)


def convention(name: str) -> Region:
    return Region(Component.CONVENTION, name)


def pivot(name: str) -> Region:
    return Region(Component.PIVOT, name)


def shape(name: str) -> Region:
    return Region(Component.SHAPE, name)


def triclinic(shape_name: str) -> Region:
    """A triclinic cell (three angles other than 90) with this spot shape."""
    return Region(Component.CELL, f"triclinic, shape {shape_name}")


def pixel_feature(flag: str) -> Region:
    return Region(Component.PIXEL_FEATURE, flag)


def oversample(k: int) -> Region:
    return Region(Component.SAMPLING, f"oversample {k}")


OVERSAMPLES = (1, 2, 3, 4)
"""The oversample values the strategies draw."""
CELL_COUNT_CLASSES = ("N = 1", "N = 2", f"N 3-{CHEBYSHEV_MAX_CELLS}",
                      f"N > {CHEBYSHEV_MAX_CELLS}")
"""sincg's code paths: no lattice factor, the degree-1 polynomial, the Chebyshev recurrence,
the ratio with its Taylor branch (and the plain gradient path)."""


def cell_count_class(n: int) -> str:
    return ("N = 1" if n == 1 else "N = 2" if n == 2 else
            CELL_COUNT_CLASSES[3] if n > CHEBYSHEV_MAX_CELLS else CELL_COUNT_CLASSES[2])


def cell_count(axis: str, n_class: str) -> Region:
    """A cell count of class ``n_class`` on ``axis`` (n_a, n_b, n_c)."""
    return Region(Component.CELL_COUNT, f"{n_class} on {axis}")


def cell_count_regions(classes: Sequence[str] = CELL_COUNT_CLASSES) -> tuple[Region, ...]:
    return tuple(cell_count(axis, c) for axis in CELL_AXES for c in classes)


PIXEL_FEATURES = ("water_size_um", *PIXEL_FEATURE_FLAGS)
"""The per-pixel features: the water background and the DetectorConfig switches."""


def config_region_list(shapes: Sequence[str] = SHAPES) -> tuple[Region, ...]:
    """Every region :func:`config_regions` can name, for configurations of ``shapes``."""
    return (*regions_of(Component.CONVENTION, CONVENTIONS),
            *regions_of(Component.PIVOT, PIVOTS), PIVOT_OVERRIDE, CUSTOM_VECTORS,
            *(shape(s) for s in shapes), *(triclinic(s) for s in shapes),
            *cell_count_regions(CELL_COUNT_CLASSES[:2] + CELL_COUNT_CLASSES[3:]),
            MOSAIC, PHI_STEPS, MATRIX, MATRIX_WITH_MISSET,
            HORIZONTAL_DIVERGENCE, VERTICAL_DIVERGENCE, DISPERSION, SOURCE_FILE,
            SOURCE_FILE_WAVELENGTHS, SOURCES_X_ORIENTATIONS, NOPOLAR,
            THICK_SENSOR, ATTENUATION, ONE_LAYER, SEVERAL_LAYERS,
            POINT_PIXELS, *(oversample(k) for k in OVERSAMPLES),
            *(pixel_feature(f) for f in PIXEL_FEATURES), MASK, DMIN)


# -- conditions, declared once ---------------------------------------------------------------

PIVOT_OVERRIDE = Region(Component.PIVOT, "overriding the convention's")
CUSTOM_VECTORS = Region(Component.CONVENTION, "custom, explicit detector vectors")
MOSAIC = Region(Component.ORIENTATIONS, "mosaic domains")
PHI_STEPS = Region(Component.ORIENTATIONS, "several phi steps")
MATRIX = Region(Component.INPUT, "orientation matrix (-mat)")
MATRIX_WITH_MISSET = Region(Component.INPUT, "orientation matrix with misset")
HORIZONTAL_DIVERGENCE = Region(Component.SOURCES, "horizontal divergence steps")
VERTICAL_DIVERGENCE = Region(Component.SOURCES, "vertical divergence steps")
DISPERSION = Region(Component.SOURCES, "dispersion steps")
SOURCE_FILE = Region(Component.INPUT, "source file (-sourcefile)")
SOURCE_FILE_WAVELENGTHS = Region(Component.INPUT, "source file, several wavelengths")
SOURCES_X_ORIENTATIONS = Region(Component.SOURCES, "several sources x several orientations")
NOPOLAR = Region(Component.POLARIZATION, "off (-nopolar)")
THICK_SENSOR = Region(Component.SENSOR, "thick")
ATTENUATION = Region(Component.SENSOR, "explicit attenuation length")
ONE_LAYER = Region(Component.SENSOR, "one layer")
SEVERAL_LAYERS = Region(Component.SENSOR, "several layers")
POINT_PIXELS = Region(Component.SAMPLING, "point pixels")
MASK = Region(Component.INPUT, "pixel mask (-mask)")
DMIN = Region(Component.INPUT, "resolution cut (-dmin)")

# Gradient cases only (coverage.py)
SEVERAL_CHUNKS = Region(Component.CHUNKING, "pixels in several chunks")
ALL_RECOMPUTED = Region(Component.CHUNKING, "every chunk recomputed in the backward")
STORED_THEN_RECOMPUTED = Region(Component.CHUNKING, "stored chunks, then recomputed ones")
COUNT_DIFFERENTIATED = Region(Component.PARAMETER, "cell count differentiated, square shape")
COUNT_DIFFERENTIATED_OTHER = Region(Component.PARAMETER,
                                    "cell count differentiated, non-square shape")
AWAY_FROM_BEAM = Region(Component.SPOT, "Bragg spot away from the direct beam")
HIGH_ANGLE_DEG = 10.0
"""A detector centre this far from the beam counts as high scattering angle."""
HIGH_ANGLE = Region(Component.SPOT, f"high scattering angle (> {HIGH_ANGLE_DEG:g} deg)")

# The differential oracle only (oracle/strategies.py)
ORACLE_HIGH_ANGLE = Region(Component.SPOT,
                           "high scattering angle (>= 20 deg at the detector centre)")
DIRECT_BEAM_ON = Region(Component.SPOT, "direct beam on the detector")
DIRECT_BEAM_OFF = Region(Component.SPOT, "direct beam off the detector (Bragg spots only)")
MISSET = Region(Component.ORIENTATIONS, "misset")
HKL_TABLE = Region(Component.INPUT, "hkl table (-hkl)")
POLAR_K = Region(Component.POLARIZATION, "-polar K")
ROI = Region(Component.DETECTOR, "roi")
CLOSE_DISTANCE = Region(Component.DETECTOR, "-close_distance")
DETECTOR_ROTATIONS = Region(Component.DETECTOR, "rotations")
TWO_THETA = Region(Component.DETECTOR, "two-theta")
DMIN_WITH_WATER = Region(Component.INPUT, "resolution cut with water")
DMIN_NOPOLAR = Region(Component.INPUT, "resolution cut under -nopolar")
DMIN_SOURCE_FILE = Region(Component.INPUT, "resolution cut with a source file")


def guard_region(file: str, site: str, taken: bool) -> Region:
    """One arm of the ``torch.where`` guard ``site`` (``function#k``) of ``sim/file``."""
    return Region(Component.GUARD, f"sim/{file}:{site} condition {'true' if taken else 'false'}")


# -- what a configuration covers --------------------------------------------------------------

def _angles(crystal) -> list[float]:
    return [float(getattr(crystal, f"cell_{x}")) for x in ("alpha", "beta", "gamma")]


def config_regions(config: Config) -> list[Region]:
    """The regions of :func:`config_region_list` that ``config`` is in."""
    crystal, beam, det = config.crystal, config.beam, config.detector
    found = [convention(det.convention), pivot(effective_pivot(det)), shape(crystal.shape),
             oversample(config.oversample)]
    if det.pivot is not None and det.pivot != FRAMES[det.convention].pivot:
        found.append(PIVOT_OVERRIDE)
    if det.convention == "custom" and det.fdet_vector is not None:
        found.append(CUSTOM_VECTORS)
    if all(a != 90.0 for a in _angles(crystal)):
        found.append(triclinic(crystal.shape))
    for axis in CELL_AXES:
        found.append(cell_count(axis, cell_count_class(getattr(crystal, axis))))
    found += [region for region, on in (
        (MOSAIC, crystal.mosaic_domains > 1), (PHI_STEPS, crystal.phi_steps > 1),
        (HORIZONTAL_DIVERGENCE, beam.hdiv_steps > 1), (VERTICAL_DIVERGENCE, beam.vdiv_steps > 1),
        (DISPERSION, beam.dispersion_steps > 1), (NOPOLAR, beam.nopolar),
        (POINT_PIXELS, det.point_pixel), (MASK, det.mask is not None), (DMIN, det.dmin_A > 0),
    ) if on]
    if crystal.reciprocal_matrix is not None:
        found.append(MATRIX)
        if any(float(getattr(crystal, f"misset_rot_{x}")) != 0 for x in "xyz"):
            found.append(MATRIX_WITH_MISSET)
    if beam.sources is not None:
        found.append(SOURCE_FILE)
        if len({w if w is not None else float(beam.lambda_A)
                for w in beam.sources.wavelengths_A}) > 1:
            found.append(SOURCE_FILE_WAVELENGTHS)
    sources = beam.hdiv_steps * beam.vdiv_steps * beam.dispersion_steps
    if sources > 1 and crystal.mosaic_domains * crystal.phi_steps > 1:
        found.append(SOURCES_X_ORIENTATIONS)
    if det.sensor_thickness_um > 0:
        found.append(THICK_SENSOR)
        if det.sensor_attenuation_um is not None:
            found.append(ATTENUATION)
        layers = det.sensor_layers if det.sensor_layers is not None else 2
        found.append(ONE_LAYER if layers == 1 else SEVERAL_LAYERS)
    flags = (float(crystal.water_size_um) > 0,
             *(bool(getattr(det, flag)) for flag in PIXEL_FEATURE_FLAGS))
    found += [pixel_feature(f) for f, on in zip(PIXEL_FEATURES, flags, strict=True) if on]
    return found


def unreached(reached: Iterable[Region], demanded: Iterable[Region]) -> list[Region]:
    """The ``demanded`` regions not in ``reached``, in ``demanded``'s order."""
    seen = set(reached)
    return [region for region in demanded if region not in seen]
