"""The differential oracle: braggcheck renders what the reference program renders.

Needs the reference program ($NANOBRAGG_REFERENCE); without it these tests are deselected.
A mismatch shrinks to a minimal configuration, is stored in reports/failures/ (replay it with
``NANOBRAGG_REFERENCE=... braggcheck replay FILE``), and the message holds its flag list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from braggcheck.cli.diff import run_differential
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.reference import compare, reference_program
from braggcheck.sim import simulator
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.harness import run_property, with_stored_examples
from braggcheck.testing.nanobragg.oracle.exclusions import EXCLUDED, excluded_region
from braggcheck.testing.nanobragg.oracle.strategies import oracle_configs

pytestmark = pytest.mark.reference
ROOT = Path(__file__).resolve().parents[2]

PHI = "-cell 70 80 90 75 85 95 -default_F 100 -N 8 -detpixels 24 -pixel 0.2 -misset 10 20 30"
ROUND = ("-cell 100 100 100 90 90 90 -N 5 -default_F 100 -round_xtal -detpixels_f 9 "
         "-detpixels_s 23 -oversample 1")
EXCLUDED_CASES = {
    # region: [(flags in it, where the reference differs; flags next to it, where it agrees)]
    "phi start exactly 0 with several phi steps": [
        (f"{PHI} -phisteps 2 -osc 2 -phistep 1", f"{PHI} -phisteps 2 -osc 2 -phistep 1 -phi 0.25"),
        # the second step lands on 0
        (f"{PHI} -phi -1 -phisteps 2 -osc 2 -phistep 1",
         f"{PHI} -phi -0.75 -phisteps 2 -osc 2 -phistep 1"),
    ],
    "round spot sampled exactly at its lattice point": [
        (ROUND, f"{ROUND} -Xbeam 1.23 -Ybeam 0.52"),  # the beam 0.03, 0.02 mm off centre
        (ROUND, f"{ROUND} -oversample 2"),  # subpixel centres a quarter pixel off the beam
        (ROUND.replace("-round_xtal", ""), None),  # the square spot is fine there
    ],
}


@with_stored_examples("reference")
@given(case=st.builds(Case, config=oracle_configs()))
def test_images_equal_the_reference_programs(case):
    run_property("reference", case, "test_images_equal_the_reference_programs")


def test_every_excluded_region_has_cases():
    assert set(EXCLUDED_CASES) == set(EXCLUDED)


@pytest.mark.parametrize(("region", "inside", "nearby"),
                         [(r, a, b) for r, pairs in EXCLUDED_CASES.items() for a, b in pairs])
def test_excluded_regions_really_differ(region, inside, nearby):
    """Each excluded deviation is real: the reference differs there, and agrees next to it."""
    config = from_nanobragg_args(inside)
    if nearby is None:  # a control just outside the region
        assert excluded_region(config) is None
        assert compare(config, reference_program()).passed
        return
    assert excluded_region(config) == region
    assert not compare(config, reference_program()).passed
    neighbour = from_nanobragg_args(nearby)
    assert excluded_region(neighbour) is None
    assert compare(neighbour, reference_program()).passed


def planted_hunt(folder: str) -> dict:
    """The derandomized oracle run with a wrong point-pixel solid angle planted in braggcheck:
    its shrunk flags and failure message."""
    factors = simulator.pixel_factors

    def planted(scene, slow, fast):
        value = factors(scene, slow, fast)
        return value * 1.001 if scene.point_pixel else value

    simulator.pixel_factors = planted
    try:
        # Without the stored examples: some hold point pixels and would fail first, unshrunk.
        # 60 examples: the per-pixel feature draws moved the first point-pixel example past 30.
        outcome = run_differential(str(reference_program()), 60, seed_value=0,
                                   failures_dir=Path(folder),
                                   settings_overrides={"derandomize": True}, stored=False)
    finally:
        simulator.pixel_factors = factors
    return {"flags": outcome.flags, "failure": outcome.failure}


@pytest.mark.framework
def test_a_bug_planted_in_braggcheck_is_found_and_shrunk(tmp_path):
    """A wrong point-pixel solid angle in braggcheck itself, against the real program."""
    # In a fresh interpreter, as the toy target's hunt: Hypothesis draws constants from the
    # loaded modules, and inside the whole `-m reference` session the same derandomized hunt
    # shrank to a case without -point_pixel (alone it shrinks to the six-flag baseline).
    code = (f"import json; from tests.properties.test_reference import planted_hunt; "
            f"print(json.dumps(planted_hunt({str(tmp_path)!r})))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["failure"] is not None and outcome["flags"] is not None
    flags = [w for w in outcome["flags"] if w.startswith("-") and w[1:2].isalpha()]
    assert "-point_pixel" in flags
    assert len(flags) <= 8, outcome["flags"]
    assert (tmp_path / "diff_reference.json").is_file()
    assert "replay with: braggcheck replay" in outcome["failure"]
