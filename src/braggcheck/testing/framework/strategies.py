"""Hypothesis strategies of property-test cases for any target, derived from its specs."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.projection import Projection
from braggcheck.testing.framework.target import Target, applicable, periodic


def projections() -> st.SearchStrategy[Projection]:
    """Seeded signed or positive Gaussian weights, or one of the brightest elements."""
    return st.one_of(
        st.builds(Projection, kind=st.just("normal"), seed=st.integers(0, 2**16)),
        st.builds(Projection, kind=st.just("positive"), seed=st.integers(0, 2**16)),
        st.builds(Projection, kind=st.just("rank"), rank=st.integers(0, 3)),
    )


@st.composite
def target_cases(draw: st.DrawFn, target: Target, max_names: int = 3) -> TargetCase:
    """A configuration of ``target`` plus parameters it depends on, a projection, a direction,
    a factor and whole turns of a periodic parameter; everything shrinks toward the first
    applicable parameter, normal weights, the all-ones direction, factor 2 and one turn."""
    config = draw(target.configs())
    pool = list(target.parameters)
    usable = set(applicable(target, config)) or set(pool)
    # From a start index in the whole parameter list (a pool that does not change with the
    # configuration, so names and configuration shrink independently): the first parameter the
    # output depends on, then the others in a seeded shuffle. A failure in one parameter thus
    # shrinks to that parameter alone (count 1, the start at it).
    start = draw(st.integers(0, len(pool) - 1))
    first = next(n for n in pool[start:] + pool[:start] if n in usable)
    rest = [n for n in pool if n != first and n in usable]
    random.Random(draw(st.integers(0, 2**32 - 1))).shuffle(rest)
    names = (first, *rest)[:draw(st.integers(1, max_names))]
    component = st.one_of(st.just(1.0), st.floats(-1.0, 1.0))
    components = [draw(component) for _ in range(max_names)]  # fixed count: stable shrinking
    angles = periodic(target)
    return TargetCase(
        config=config,
        names=names,
        projection=draw(projections()),
        direction=tuple(components[: len(names)]),
        factor=draw(st.one_of(st.just(2.0), st.floats(1e-3, 1e3))),
        turns=draw(st.one_of(st.just(1), st.integers(-3, 3).filter(bool))),
        angle=draw(st.sampled_from(angles)) if angles else None,
    )
