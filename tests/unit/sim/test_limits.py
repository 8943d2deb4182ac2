"""The field-limit table: the validation reads it, and the field reference is generated from it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from braggcheck import BeamConfig, ConfigError, CrystalConfig, DetectorConfig
from braggcheck.sim.limits import FIELD_LIMITS, Limits, markdown_table

DOC = Path(__file__).parents[3] / "docs" / "fields.md"
SECTIONS = (CrystalConfig, BeamConfig, DetectorConfig)


def _section_of(name: str) -> type:
    return next(cls for cls in SECTIONS if name in cls.__dataclass_fields__)


def test_the_field_reference_is_current():
    assert DOC.read_text() == markdown_table(), (
        "docs/fields.md is stale: python -c 'from braggcheck.sim.limits import markdown_table; "
        "print(markdown_table(), end=\"\")' > docs/fields.md")


@pytest.mark.parametrize("name", sorted(FIELD_LIMITS))
def test_each_bound_is_the_one_the_section_enforces(name):
    """Just outside each finite bound the section refuses the value, naming the field; at an
    inclusive bound it accepts it (a limit stated here but not enforced would fail)."""
    limits = FIELD_LIMITS[name]
    section = _section_of(name)
    for bound, inclusive, outward in ((limits.low, limits.low_inclusive, -1),
                                      (limits.high, limits.high_inclusive, 1)):
        if bound is None:
            continue
        if limits.integer:
            outside, inside = int(bound) + outward, int(bound)
        else:
            outside = bound if not inclusive else bound + outward * max(1e-9, abs(bound) * 1e-9)
            inside = bound if inclusive else bound - outward * max(1e-6, abs(bound) * 1e-6)
        with pytest.raises(ConfigError, match=name):
            section(**{name: outside})
        if name not in ("fpixels", "spixels") or inside <= 4096:
            section(**{name: inside})


def test_none_is_valid_exactly_where_the_table_says():
    for name, limits in FIELD_LIMITS.items():
        section = _section_of(name)
        if limits.none_means:
            section(**{name: None})
        else:
            with pytest.raises(ConfigError, match=name):
                section(**{name: None})


def test_infinity_is_refused_by_every_limit():
    """+inf is valid only for the attenuation length, a registry parameter whose rule lives in
    braggcheck.sim.sensor_rules; no field of this table takes it."""
    with pytest.raises(ConfigError, match="x = inf is not finite"):
        Limits(0.0).check("x", math.inf)
    for name in FIELD_LIMITS:
        section = _section_of(name)
        if not FIELD_LIMITS[name].integer:
            with pytest.raises(ConfigError, match=name):
                section(**{name: math.inf})
    assert DetectorConfig(sensor_thickness_um=100.0, sensor_attenuation_um=math.inf)
