"""Whole property cases: configurations with Bragg signal on their detector (the building
blocks of :mod:`braggcheck.testing.nanobragg.strategies.configs` placed by
:mod:`braggcheck.testing.nanobragg.strategies.detector`), the differentiated parameters,
projections and chunking; derandomized samples of them come from the framework
(:func:`braggcheck.testing.framework.strategies.derandomized_sample`).
"""

from __future__ import annotations

import operator
import random
from collections.abc import Sequence

from hypothesis import strategies as st

from braggcheck.sim.applicability import applicable_parameters
from braggcheck.sim.config import Config
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import CrystalConfig, DetectorConfig
from braggcheck.testing.framework import strategy_cache as cst
from braggcheck.testing.framework.projection import Projection
from braggcheck.testing.framework.strategies import derandomized_sample
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.strategies.configs import (
    CHUNKS,
    GRADIENT_SHAPES,
    MAX_STORED_CHUNKS,
    MIN_SHIFT_DEG,
    RANKED_PIXELS,
)
from braggcheck.testing.nanobragg.strategies.detector import configs as detector_and_all
from braggcheck.testing.nanobragg.strategies.detector import detector_configs as detectors

__all__ = ["cases", "configs", "derandomized_sample", "detector_configs", "differentiated_names",
           "parameter_subsets", "projections", "shifts"]


def configs(shapes: Sequence[str] = GRADIENT_SHAPES) -> st.SearchStrategy[Config]:
    """A whole valid configuration around the spec baseline, cheap to simulate, with Bragg
    signal on its detector (:func:`braggcheck.testing.nanobragg.strategies.detector.configs`)."""
    return detector_and_all(tuple(shapes))


def detector_configs(crystal: CrystalConfig | None = None,
                     lambda_A: float = 1.0) -> st.SearchStrategy[DetectorConfig]:
    """A small detector holding ``crystal``'s direct-beam spot
    (:func:`braggcheck.testing.nanobragg.strategies.detector.detector_configs`)."""
    return detectors(crystal, lambda_A)


def parameter_subsets(names: Sequence[str] | None = None, min_size: int = 1,
                      max_size: int = 4) -> st.SearchStrategy[tuple[str, ...]]:
    """Subsets of registry parameters (of ``names``, default all), shrinking to the first one."""
    pool = list(PARAMETERS if names is None else names)
    return st.lists(cst.sampled_from(pool), min_size=min_size,
                    max_size=min(max_size, len(pool)), unique=True).map(tuple)


def projections() -> st.SearchStrategy[Projection]:
    """Pixel weights: seeded signed or positive Gaussian weights, or one of the brightest pixels
    (a random pixel is mostly a dark one, numerically meaningless 30 decades below the peak)."""
    return cst.one_of(
        cst.builds(Projection, kind=cst.just("normal"), seed=cst.integers(0, 2**16)),
        cst.builds(Projection, kind=cst.just("positive"), seed=cst.integers(0, 2**16)),
        cst.builds(Projection, kind=cst.just("rank"), rank=cst.integers(0, RANKED_PIXELS - 1)),
    )


def differentiated_names(config: Config, start: int, shuffle_seed: int,
                         count: int) -> tuple[str, ...]:
    """Up to ``count`` registry parameters that ``config``'s image depends on: the first
    applicable one from registry index ``start`` on (wrapping), then the others in a shuffle
    seeded by ``shuffle_seed``. Any applicable parameter can come first (the coverage test
    checks it); ``start`` 0 and ``count`` 1 give cell_a, where examples shrink to."""
    pool = list(PARAMETERS)
    applicable = applicable_parameters(config)
    first = next(n for n in pool[start:] + pool[:start] if n in applicable)
    rest = [n for n in pool if n != first and n in applicable]
    random.Random(shuffle_seed).shuffle(rest)
    return (first, *rest)[:count]


@st.composite
def cases(draw: st.DrawFn, shapes: Sequence[str] = GRADIENT_SHAPES, max_names: int = 4,
          config: st.SearchStrategy[Config] | None = None, focus: str | None = None) -> Case:
    """A configuration plus a parameter subset, a projection, a direction and a few numbers.

    ``focus`` (a registry name): only configurations whose image depends on it, and it is the
    first differentiated name (``braggcheck check`` tops up parameters it has not resolved).
    """
    strategy = config if config is not None else configs(shapes)
    if focus is not None:
        # Every needs-gated parameter is applicable in over half of the drawn configurations.
        strategy = strategy.filter(lambda c: focus in applicable_parameters(c))
    chosen = draw(strategy)
    # Names come from the whole registry (a pool that does not change with the configuration,
    # so names and configuration shrink independently), narrowed to what the image uses.
    start = draw(cst.integers(0, len(PARAMETERS) - 1))
    shuffle_seed = draw(cst.integers(0, 2**32 - 1))
    count = draw(cst.integers(1, max_names))
    names = differentiated_names(chosen, start, shuffle_seed, count)
    if focus is not None:
        names = (focus, *(n for n in names if n != focus))[:max_names]
    component = cst.one_of(cst.just(1.0), cst.floats(-1.0, 1.0))
    components = [draw(component) for _ in range(max_names)]  # fixed count: stable shrinking
    direction = tuple(components[: len(names)])
    periodic = tuple(n for n in PARAMETERS if PARAMETERS[n].period is not None)
    # Small pixel chunks (the default puts a whole small detector in one chunk) and, with them,
    # how many chunks keep their autograd state before the rest is recomputed in the backward.
    pixels_per_chunk = None
    if draw(cst.booleans()):
        roi = chosen.detector.fpixels * chosen.detector.spixels
        chunks = draw(cst.integers(*CHUNKS))
        pixels_per_chunk = -(-roi // chunks) + draw(cst.integers(0, 3))  # rarely a divisor
    stored_chunks = None
    if pixels_per_chunk is not None:
        # 0 (every chunk recomputed) twice: Hypothesis draws the later entries less often.
        stored_chunks = draw(cst.sampled_from((None, 0, *range(MAX_STORED_CHUNKS + 1))))
    return Case(
        config=chosen,
        names=names,
        projection=draw(projections()),
        direction=direction,
        factor=draw(cst.one_of(cst.just(2.0), cst.floats(1e-3, 1e3))),
        turns=draw(cst.one_of(cst.just(1), cst.integers(-3, 3).filter(bool))),
        angle=draw(cst.sampled_from(periodic)),
        shift_deg=draw(shifts()),
        pixels_per_chunk=pixels_per_chunk,
        stored_chunks=stored_chunks,
    )


def shifts() -> st.SearchStrategy[float]:
    """An angle shift in degrees, never a no-op: at least ``MIN_SHIFT_DEG`` in size (a drawn
    1e-310 degrees would test nothing), shrinking to 30."""
    magnitude = cst.floats(MIN_SHIFT_DEG, 180.0)
    return cst.one_of(cst.just(30.0), cst.builds(operator.mul, cst.sampled_from((1.0, -1.0)),
                                                 magnitude))
