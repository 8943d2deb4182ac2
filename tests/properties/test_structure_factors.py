"""The ``structure_factors`` vector parameter: its gradient along drawn directions (random, and
one-hot on drawn reflections whose spots are on the detector) against the project's finite
differences, forward mode against reverse mode, and double backward, on drawn configurations
with dense and sparse hkl tables, the ``default_F`` fill on and off, and with and without
interpolation (``braggcheck.testing.nanobragg.strategies.hkl``)."""

from __future__ import annotations

from hypothesis import given, reject, settings
from hypothesis import strategies as st

from braggcheck.sim.registry import VECTOR_PARAMETERS
from braggcheck.testing.framework.derivatives import has_bragg_signal
from braggcheck.testing.nanobragg.strategies.cases import derandomized_sample
from braggcheck.testing.nanobragg.strategies.hkl import VECTOR_STRATEGIES, hkl_configs, table_labels
from braggcheck.testing.nanobragg.vector_gradients import (
    VectorProbe,
    check_structure_factors,
    reflections_on_detector,
)


# A quarter of the profile's examples (as test_invariants does): each example runs ~12 images,
# some through the interpolation stencil's plain autograd, and the ci profile's 40 would take
# most of the property suite's 120 s budget on two cores.
@settings(max_examples=max(4, settings().max_examples // 4))
@given(config=hkl_configs(), data=st.data(), seed=st.integers(0, 2**16))
def test_structure_factor_gradient_along_drawn_directions(config, data, seed):
    probe = VectorProbe(config, weight_seed=seed)
    # A drawn curved detector moves the placed spots off a 16-pixel window: a case with no
    # Bragg signal is inconclusive, and rejected like every vacuous property case.
    if not has_bragg_signal(probe.baseline_image()):
        reject()
    on_detector = reflections_on_detector(config, probe.baseline_image())
    # The strategy lists the reflections of the drawn spots, so some are always on the detector.
    assert on_detector, "the strategy must list the reflections of the spots it draws"
    chosen = [data.draw(st.sampled_from(on_detector))]
    # (double backward is checked in Tier 2, tests/gradcheck/test_structure_factors.py)
    results = check_structure_factors(probe, seed, chosen, second=False)
    if all(result.vacuity is not None for result in results):
        reject()  # every derivative within the differences' noise: inconclusive, not a pass
    problems = [problem for result in results for problem in result.problems
                if problem != result.vacuity]
    assert not problems, "; ".join(problems)


REGIONS = {"dense", "sparse", "fill on", "fill off", "outside F on", "outside F off",
           "interpolated", "nearest"}


def test_every_vector_parameter_has_strategies_reaching_every_table_kind():
    assert set(VECTOR_STRATEGIES) == set(VECTOR_PARAMETERS)
    sample = derandomized_sample(hkl_configs(), 30)
    reached = set().union(*(table_labels(config) for config in sample))
    assert reached == REGIONS, f"table kinds no drawn example reached: {REGIONS - reached}"
