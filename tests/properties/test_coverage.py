"""Registry coverage of the property suite: every parameter is one the generated cases reach.

The same spirit as ``tests/gradcheck``'s coverage test: a parameter added to the registry (or a
``needs`` the strategies never meet) fails here by name, rather than going silently unchecked.
The samples are derandomized, so the result is the same on every run and every profile.
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from braggcheck import PARAMETERS, Config
from braggcheck.sim.applicability import applicable_parameters
from braggcheck.testing.framework.resolution import unresolved
from braggcheck.testing.framework.strategies import lazy_sample
from braggcheck.testing.nanobragg.branch_reach import (
    NOT_REACHED_BY_GRADIENT_CHECKS,
    demanded_arms,
    guard_sites,
    unreached_arms,
)
from braggcheck.testing.nanobragg.coverage import (
    REGIONS,
    gradient_regions,
    unreachable_parameters,
    unreached_regions,
)
from braggcheck.testing.nanobragg.harness import run_check
from braggcheck.testing.nanobragg.regions import DMIN, Component, Region, guard_region
from braggcheck.testing.nanobragg.strategies.branches import (
    CUT_PATHS,
    branch_cases,
    resolution_cut_cases,
)
from braggcheck.testing.nanobragg.strategies.cases import (
    cases,
    derandomized_sample,
    differentiated_names,
)
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES, GRADIENT_SHAPES
from braggcheck.testing.nanobragg.strategies.hkl import hkl_configs
from braggcheck.testing.nanobragg.target import NANOBRAGG

SAMPLE = 150
"""Generated cases checked for applicability (nothing is simulated)."""
FIRST_FOCUSED = 1
"""Per registry parameter, its first focused cases join the gradient sample: each
differentiates that parameter first where it applies, and the resolution test below checks
them, so every parameter is differentiated by construction, not by the luck of 150 draws."""
FOCUSED = 8
"""Focused cases per parameter, of which at least one must resolve its derivative."""


REGION_SAMPLE = 200
"""Generated cases of every shape (TOPHAT included) checked for code-path regions."""
MIN_SHARE = 0.0
"""A region reached by no case of the sample fails by name. Not a larger share: the sample is
derandomized (the same in a lone run, the suite and a pytest-xdist worker), but Hypothesis's
choices are far from uniform and change with any edit of the strategies, so a share threshold
would fail or pass with unrelated changes; the reach rates of a ``ci`` run are in
docs/properties.md."""
GRADIENT_REGIONS = tuple(r for r in gradient_regions(GRADIENT_SHAPES) if r != DMIN)
"""What the gradient checks' general cases must reach: every region of their shapes but the
-dmin cut (a step: the general draws hold it for the checks that do not differentiate; the
gradient checks draw it in the dmin_cut branch, whose guard arms are demanded below)."""


def gradient_sample() -> list:
    """``SAMPLE`` general cases, then the first focused cases of every registry parameter."""
    return [*derandomized_sample(cases(), SAMPLE),
            *(case for name in PARAMETERS
              for case in derandomized_sample(cases(focus=name), FIRST_FOCUSED))]


@pytest.fixture(scope="module")
def sample():
    return gradient_sample()


@pytest.fixture(scope="module")
def every_shape_sample():
    return derandomized_sample(cases(shapes=ALL_SHAPES), REGION_SAMPLE)


def test_every_code_path_region_is_reached(every_shape_sample):
    missing = unreached_regions(every_shape_sample, REGIONS, MIN_SHARE)
    assert not missing, (f"code-path regions reached by none of {REGION_SAMPLE} generated "
                         f"cases: {missing}")


def test_gradient_cases_reach_every_region_but_tophat(sample):
    missing = unreached_regions(sample, GRADIENT_REGIONS, MIN_SHARE)
    assert not missing, (f"code-path regions reached by none of {len(sample)} cases of the "
                         f"gradient checks: {[str(r) for r in missing]}")


def test_the_region_check_names_a_region_never_reached(every_shape_sample):
    new = Region(Component.SENSOR, "new region")
    assert unreached_regions(every_shape_sample, (*REGIONS, new)) == [new]


def test_every_region_names_its_component():
    assert all(isinstance(r, Region) and isinstance(r.component, Component) for r in REGIONS)
    assert len(set(REGIONS)) == len(REGIONS), "a region is listed twice"


def test_every_registry_parameter_is_applicable_in_generated_configs(sample):
    missing = unreachable_parameters([case.config for case in sample])
    assert not missing, (f"registry parameters the strategies never make applicable (their "
                         f"derivative is never checked): {missing}")


def test_the_coverage_check_names_a_parameter_added_to_the_registry(sample):
    extra = dataclasses.replace(PARAMETERS["fluence"], name="new_parameter")
    registry = {**PARAMETERS, "new_parameter": extra}
    assert unreachable_parameters([case.config for case in sample], registry) == [
        "new_parameter"]


ALL_APPLY = Config().replace(
    fpixels=16, spixels=16, mosaic_domains=2, mosaic_spread_deg=0.5, hdiv_range_mrad=1.0,
    hdiv_steps=2, dispersion_pct=0.5, dispersion_steps=2, water_size_um=0.005,
    sensor_thickness_um=100.0)
"""A configuration that meets every registry ``needs``."""


def test_every_registry_parameter_applies_to_a_configuration_meeting_every_need():
    assert applicable_parameters(ALL_APPLY) == tuple(PARAMETERS)


def test_cases_can_differentiate_every_applicable_parameter_first(sample):
    """``cases`` draws the registry index its names start from over the whole registry; from
    each index, the first applicable parameter is differentiated first."""
    configs = [ALL_APPLY, *(case.config for case in sample[:10])]
    for config in configs:
        firsts = {differentiated_names(config, start, 0, 1)[0]
                  for start in range(len(PARAMETERS))}
        assert firsts == set(applicable_parameters(config))


def focused_cases(name: str):
    """The ``FOCUSED`` derandomized focused cases of ``name``, in order, drawn lazily (the
    framework's :func:`lazy_sample`: the test mostly stops at the first case, and each draw of
    a focused case costs more than its check)."""
    return lazy_sample(cases(focus=name), FOCUSED)


def test_the_focused_cases_are_drawn_as_one_sample():
    """focused_cases relies on it: a derandomized sample's first value is the one-value sample."""
    assert list(focused_cases("cell_a")) == derandomized_sample(cases(focus="cell_a"), FOCUSED)


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_the_gradient_check_resolves_every_registry_parameter(name):
    """Applicable is not enough: the derivative must rise above the finite-difference noise
    (polarization's is proportional to sin^2(2 theta), small near the direct beam). The
    framework's resolution test (every target gets it from ``property_tests``) on nanoBragg's
    own focused cases and check runner (with the case's pixel chunking); a failed check fails
    at once with its report."""
    reason = unresolved(name, focused_cases(name), lambda case: run_check("gradient", case),
                        NANOBRAGG.name)
    assert reason is None, reason


HKL_SAMPLE = 10
"""Cases with an hkl table (``structure_factors`` differentiated too): 0.5-1 s each to trace."""
SHORT_TABLE_SAMPLE = 4
"""Cases with an hkl table that stops short of the reached indices on one axis."""


@pytest.fixture(scope="module")
def hkl_sample():
    # Plus tables short of the reached indices (half of test_structure_factors's draws): the
    # fused node's masks of samples outside the table are then met by chance of the fused path
    # alone, not of both (10 general cases missed them when the modules' constants changed).
    return [*derandomized_sample(cases(config=hkl_configs(), max_names=1), HKL_SAMPLE),
            *derandomized_sample(cases(config=hkl_configs(short=True), max_names=1),
                                 SHORT_TABLE_SAMPLE)]


DMIN_SAMPLE = 8
"""Cases of the dmin_cut branch (test_gradients.py draws them), plus the first case of each of
its paths (CUT_PATHS): the ``pixel_polarization`` path holds per-subpixel features with the
polarization taken per pixel, and every dmin_cut case a pixel with a kept sample and one
without, so both arms of ``first_kept_polarization`` are reached by construction."""


NODE_SAMPLE = 2
"""Cases of the round_node branch: each has a sample in the continuous ROUND series arm."""


@pytest.fixture(scope="module")
def branch_sample():
    return [*derandomized_sample(branch_cases("dmin_cut"), DMIN_SAMPLE),
            *(case for path in CUT_PATHS
              for case in derandomized_sample(resolution_cut_cases(path=path), 1)),
            *derandomized_sample(branch_cases("round_node"), NODE_SAMPLE)]


def test_the_gradient_checks_reach_both_arms_of_every_simulator_guard(sample, hkl_sample,
                                                                     branch_sample):
    """Every ``torch.where`` guard of braggcheck.sim (found in its source), both arms, in the
    image, reverse-mode gradient or forward-mode derivative of a case the gradient checks
    draw, but those listed with their reason in ``NOT_REACHED_BY_GRADIENT_CHECKS``."""
    # The branch and hkl cases first, then the general ones: the trace stops once every
    # demanded arm is reached.
    missing = unreached_arms([*branch_sample, *hkl_sample, *sample], demanded_arms())
    assert not missing, (f"guard arms no gradient case of {len(sample)} + {len(hkl_sample)} + "
                         f"{len(branch_sample)} reaches: {[str(arm) for arm in missing]}")


def test_the_guard_list_is_derived_from_the_source():
    sites = guard_sites()
    assert ("physics.py", next(line for f, line in sites if f == "physics.py")) in sites
    assert len(sites) >= 20  # every torch.where of sim/, not a hand-picked few
    for file, line, _ in NOT_REACHED_BY_GRADIENT_CHECKS:
        assert (file, line) in sites, f"stale reason for {file}:{line} (no guard there now)"


@pytest.mark.parametrize(("module", "name", "narrowed", "region"), [
    ("braggcheck.testing.nanobragg.strategies.detector", "CONVENTIONS",
     ("mosflm", "denzo", "adxv", "xds", "custom"), Region(Component.CONVENTION, "dials")),
    ("braggcheck.testing.nanobragg.strategies.detector", "SENSOR_LAYERS", (2, 3),
     Region(Component.SENSOR, "one layer")),
])
def test_a_strategy_that_stops_drawing_one_component_fails_naming_it(
        monkeypatch, sample, module, name, narrowed, region):
    """Remove one component from a strategy's draw: the coverage check names that region
    (which the same sample of the unpatched strategy reaches). The whole gradient sample, drawn
    again (2 s): a smaller one reached a region by the luck of its draws."""
    assert region not in unreached_regions(sample, GRADIENT_REGIONS)
    monkeypatch.setattr(importlib.import_module(module), name, narrowed)
    assert region in unreached_regions(gradient_sample(), GRADIENT_REGIONS)


def test_a_parameter_the_cases_stop_differentiating_is_named(sample):
    """Cases that never differentiate twotheta_deg: its parameter region fails, by name."""
    dropped = [dataclasses.replace(c, names=tuple(n for n in c.names if n != "twotheta_deg")
                                   or ("cell_a",), direction=()) for c in sample]
    assert unreached_regions(dropped, GRADIENT_REGIONS) == [
        Region(Component.PARAMETER, "twotheta_deg differentiated")]


def test_the_arm_check_names_an_arm_never_reached(sample):
    """TOPHAT is not drawn for gradients: its guard's arms are named as unreached."""
    tophat = next((f, line) for f, line in guard_sites() if f == "physics.py"
                  and ("physics.py", line, True) in NOT_REACHED_BY_GRADIENT_CHECKS)
    arms = [guard_region(*tophat, True), guard_region(*tophat, False)]
    assert unreached_arms(sample[:3], arms) == arms
