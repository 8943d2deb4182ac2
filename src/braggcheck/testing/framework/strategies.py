"""Hypothesis strategies of property-test cases for any target, derived from its specs.

Random values alone miss the points a target's users sit on: a shortcut branch taken only at
the default configuration (an independent port of nanoBragg whose four detector-rotation
gradients were ``None`` only at its default detector, issue #21) or at an exact special value
(an angle of 0, a whole turn). So every parameter is drawn from {its baseline, its special
values, random in its typical range} (:func:`parameter_values`), and, for a target with
``with_value``, :func:`target_cases` moves parameters of the drawn configuration to such values.
The declared defaults themselves are explicit examples every property test runs first
(:func:`braggcheck.testing.framework.harness.default_cases`), not draws: a drawn default
could never shrink toward a simpler configuration.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from hypothesis import strategies as st

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.projection import Projection
from braggcheck.testing.framework.target import (
    ParameterSpec,
    Target,
    applicable,
    periodic,
    special_values,
    steppable,
)
from braggcheck.testing.framework.tolerances import STEP

T = TypeVar("T")


def parameter_values(spec: ParameterSpec) -> st.SearchStrategy[float]:
    """One value of a parameter: exactly its baseline (what it shrinks to), exactly one of its
    :func:`~braggcheck.testing.framework.target.special_values` (0 where valid, whole periods,
    the spec's ``special``), or random in its typical range. For a target's ``configs()``."""
    return st.one_of(st.sampled_from(special_values(spec) or (spec.baseline,)),
                     st.floats(*spec.typical_range, allow_nan=False, allow_infinity=False))


@st.composite
def perturbed_configs(draw: st.DrawFn, target: Target) -> Any:
    """A configuration of ``target.configs()``; for a target with the optional method
    ``with_value(config, name, value)`` some parameters are then moved to a value of
    :func:`parameter_values` (those the spec and ``accepts`` allow). One draw per parameter in
    a fixed order, shrinking to "leave it", keeps shrinking stable."""
    config = draw(target.configs())
    with_value = getattr(target, "with_value", None)
    if with_value is None:
        return config
    for name, spec in target.parameters.items():
        value = draw(st.one_of(st.none(), parameter_values(spec)))
        if value is not None and spec.inside(value) and target.accepts(config, name, value):
            config = with_value(config, name, value)
    return config


def projections() -> st.SearchStrategy[Projection]:
    """Seeded signed or positive Gaussian weights, or one of the brightest elements."""
    return st.one_of(
        st.builds(Projection, kind=st.just("normal"), seed=st.integers(0, 2**16)),
        st.builds(Projection, kind=st.just("positive"), seed=st.integers(0, 2**16)),
        st.builds(Projection, kind=st.just("rank"), rank=st.integers(0, 3)),
    )


def focusable(target: Target, config: Any, name: str) -> bool:
    """Whether a case of ``config`` can be focused on ``name``: the output depends on it (its
    ``needs`` hold) and the gradient check can step it (it is not at a closed bound)."""
    return target.parameters[name].needs(config) and steppable(target, config, name, 2 * STEP)


@st.composite
def target_cases(draw: st.DrawFn, target: Target, max_names: int = 3,
                 focus: str | None = None) -> TargetCase:
    """A configuration of ``target`` plus parameters it depends on, a projection, a direction,
    a factor and whole turns of a periodic parameter; everything shrinks toward one parameter
    (the first applicable one when no other is needed), normal weights, the all-ones
    direction, factor 2 and one turn.

    ``focus`` (a parameter name): only configurations where it is :func:`focusable`, and it
    is the first differentiated name (the resolution test of
    :mod:`braggcheck.testing.framework.resolution`)."""
    configs = perturbed_configs(target)
    if focus is not None:
        configs = configs.filter(lambda config: focusable(target, config, focus))
    config = draw(configs)
    pool = list(target.parameters)
    usable = set(applicable(target, config)) or set(pool)
    # One flag per parameter of the whole list (a pool that does not change with the
    # configuration, so names and configuration shrink independently), shrinking to "not
    # drawn"; the flagged ones the output depends on, in a seeded order, up to max_names.
    # Hypothesis clears flags one at a time while the failure persists, so a failure in one
    # parameter shrinks to that parameter alone whatever path it took (a start index and a
    # count did not: start 0 with two names is smaller than start 2 with one).
    flags = [draw(st.booleans()) for _ in pool]
    chosen = [n for n, flag in zip(pool, flags, strict=True) if flag and n in usable]
    random.Random(draw(st.integers(0, 2**32 - 1))).shuffle(chosen)
    names = tuple(chosen[:max_names]) or (next(n for n in pool if n in usable),)
    if focus is not None:
        names = (focus, *(n for n in names if n != focus))[:max_names]
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


SAMPLE_STREAMS = 10
"""Independently seeded Hypothesis runs a :func:`derandomized_sample` is drawn from."""


MIN_STREAM_EXAMPLES = 15


@contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis (6.x) mixes into its draws the constants of every *local* module loaded so
    far (this project's sources, tests, examples), so a seeded run drew different values after
    another test, under a pytest-xdist worker or after an edit of an unrelated file. Within
    this block it sees none. A Hypothesis without these internals runs as it is."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the module
        yield
        return
    get_local = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    empty = getattr(providers, "Constants", None)  # its constructor: no constants at all
    if get_local is None or cache is None or empty is None:
        yield
        return
    # The cache holds the allowed constants per choice type: built with the modules' ones, it
    # would keep them here, and built without, it would hide them from the draws that follow.
    cache.clear()
    providers._get_local_constants = empty
    try:
        yield
    finally:
        providers._get_local_constants = get_local
        cache.clear()


def derandomized_sample(strategy: st.SearchStrategy[T], count: int,
                        streams: int = SAMPLE_STREAMS) -> list[T]:
    """``count`` values of ``strategy``, the same on every run (and every ``--hypothesis-seed``
    and profile); fewer when a filter of ``strategy`` rejects most draws, none when it rejects
    every one.

    Drawn from ``streams`` runs seeded 0, 1, ...: one derandomized run mostly mutates the
    examples it has already drawn (150 of them once held no N = 1 axis, drawn 1 time in 8), so
    several short seeded runs give a far more varied sample for the same count. Hypothesis's
    constants of the loaded local modules are left out (:func:`without_local_constants`): the
    sample does not depend on what else was imported.
    """
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis.errors import Unsatisfiable

    values: list[T] = []
    # Each run starts with the simplest example: at least MIN_STREAM_EXAMPLES per run, and a
    # small sample is one derandomized run.
    streams = max(1, min(streams, count // MIN_STREAM_EXAMPLES))
    per_stream = -(-count // streams)
    for stream in range(streams):
        # Hypothesis's own "default" profile as the parent: the sample does not change with
        # the loaded profile (dev, ci, nightly).
        @settings(settings.get_profile("default"), max_examples=per_stream, database=None,
                  deadline=None, phases=[Phase.generate], derandomize=streams == 1,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def collect(value: T) -> None:
            values.append(value)

        try:
            with without_local_constants():
                (collect if streams == 1 else seed(stream)(collect))()
        except Unsatisfiable:  # the filter let no draw through: this run adds nothing
            pass
    return values[:count]


def lazy_sample(strategy: st.SearchStrategy[T], count: int) -> Iterator[T]:
    """The :func:`derandomized_sample` of ``count``, drawn lazily: its first value alone, then
    the rest (a small derandomized sample of k starts with that of 1). For a loop that mostly
    stops at the first value, where drawing a value may cost more than using it. Nothing when
    the first run draws nothing: Hypothesis gave up on a filter that let through none of
    hundreds of draws (under 1 % at 99 % confidence), and a second run would cost as much."""
    first = derandomized_sample(strategy, 1)
    if first:
        yield from first
        yield from derandomized_sample(strategy, count)[1:]
