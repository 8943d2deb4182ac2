"""What the differential oracle's strategies must reach: :data:`ORACLE_REGIONS`.

The oracle compares braggcheck with the reference program only where its strategies
(:func:`~braggcheck.testing.nanobragg.oracle.strategies.oracle_configs`) go, so a strategy that
stops
drawing a feature silently removes it from the comparison. ``tests/properties/
test_oracle_coverage.py`` draws a fixed sample and demands every region here, as
:mod:`braggcheck.testing.nanobragg.coverage` does for the gradient strategies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from braggcheck.sim.config import Config
from braggcheck.sim.sections import CONVENTIONS, SHAPES
from braggcheck.testing.nanobragg.input_coverage import INPUT_REGIONS
from braggcheck.testing.nanobragg.oracle.strategies import oracle_regions
from braggcheck.testing.nanobragg.strategies.pixels import PIXEL_REGIONS

ORACLE_REGIONS: tuple[str, ...] = (
    *(f"convention {c}" for c in CONVENTIONS), *(f"shape {s}" for s in SHAPES),
    *(f"triclinic cell with shape {s}" for s in SHAPES),
    "N = 1", "N = 2", "N 3-16", "N > 16",
    "misset", "hkl table", "mosaic domains", "several phi steps", "divergence grid",
    "dispersion", "-nopolar", "-polar K", "point pixels", "roi", "thick sensor",
    "-close_distance", "detector rotations", "two-theta",
    "several sources x several orientations", "pivot sample", "pivot beam",
    "direct beam on the detector", "direct beam off the detector (Bragg spots only)",
    "high scattering angle (>= 20 deg at the detector centre)",
    *INPUT_REGIONS, *PIXEL_REGIONS,
    "resolution cut with water", "resolution cut under -nopolar",
    "resolution cut with a source file",
)
"""Every region the oracle's configurations must reach (labels of ``oracle_regions``)."""


def region_counts(sample: Iterable[Config]) -> Counter[str]:
    """How many configurations of ``sample`` are in each region."""
    counts: Counter[str] = Counter()
    for config in sample:
        counts.update(set(oracle_regions(config)))
    return counts


def unreached_oracle_regions(sample: Sequence[Config],
                             regions: Sequence[str] = ORACLE_REGIONS) -> list[str]:
    """The regions no configuration of ``sample`` reaches."""
    counts = region_counts(sample)
    return [region for region in regions if counts[region] == 0]
