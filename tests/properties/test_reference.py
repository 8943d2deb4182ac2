"""The differential oracle: braggcheck renders what the reference program renders.

Needs the reference program ($NANOBRAGG_REFERENCE); without it these tests are deselected.
A mismatch shrinks to a minimal configuration, is stored in reports/failures/ (replay it with
``NANOBRAGG_REFERENCE=... braggcheck replay FILE``), and the message holds its flag list.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from braggcheck import Config, simulator
from braggcheck.cases import Case
from braggcheck.commands.diff import run_differential
from braggcheck.harness import run_property, with_stored_examples
from braggcheck.reference import compare, reference_program
from braggcheck.reference_strategies import EXCLUDED, excluded_region, oracle_configs

pytestmark = pytest.mark.reference

EXCLUDED_CASES = {
    "phi start exactly 0 with several phi steps": [
        "-phisteps 2 -osc 2 -phistep 1",
        "-phi -1 -phisteps 2 -osc 2 -phistep 1",  # the second step lands on 0
    ],
}
BASE = "-cell 70 80 90 75 85 95 -default_F 100 -N 8 -detpixels 24 -pixel 0.2 -misset 10 20 30"


@with_stored_examples("reference")
@given(case=st.builds(Case, config=oracle_configs()))
def test_images_equal_the_reference_programs(case):
    run_property("reference", case, "test_images_equal_the_reference_programs")


def test_every_excluded_region_has_cases():
    assert set(EXCLUDED_CASES) == set(EXCLUDED)


@pytest.mark.parametrize(("region", "flags"), [(r, f) for r, fs in EXCLUDED_CASES.items()
                                               for f in fs])
def test_excluded_regions_really_differ(region, flags):
    """Each excluded deviation is real: the reference differs there, and agrees next to it."""
    config = Config.from_nanobragg_args(f"{BASE} {flags}")
    assert excluded_region(config) == region
    assert not compare(config, reference_program()).passed
    nearby = Config.from_nanobragg_args(f"{BASE} {flags} -phi 0.25")
    assert excluded_region(nearby) is None
    assert compare(nearby, reference_program()).passed


def test_a_bug_planted_in_braggcheck_is_found_and_shrunk(monkeypatch, tmp_path):
    """A wrong point-pixel solid angle in braggcheck itself, against the real program."""
    factors = simulator.pixel_factors

    def planted(scene, slow, fast):
        value = factors(scene, slow, fast)
        return value * 1.001 if scene.point_pixel else value

    monkeypatch.setattr(simulator, "pixel_factors", planted)
    outcome = run_differential(str(reference_program()), 60, seed_value=0,
                               failures_dir=tmp_path, settings_overrides={"derandomize": True})
    assert outcome.failure is not None and outcome.flags is not None
    flags = [w for w in outcome.flags if w.startswith("-") and w[1:2].isalpha()]
    assert "-point_pixel" in flags
    assert len(flags) <= 8, outcome.flags
    assert (tmp_path / "diff_reference.json").is_file()
    assert "replay with: braggcheck replay" in outcome.failure
