"""Hypothesis strategies of property-test cases for any target, derived from its specs."""

from __future__ import annotations

from hypothesis import strategies as st

from braggcheck.testing.projection import Projection
from braggcheck.testing.target import Target, applicable, periodic
from braggcheck.testing.target_case import TargetCase


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
    pool = applicable(target, config) or tuple(target.parameters)
    # Indices into the pool (not names): names and configuration then shrink independently.
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1,
                          max_size=min(max_names, len(pool)), unique=True))
    names = tuple(pool[i] for i in picks)
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
