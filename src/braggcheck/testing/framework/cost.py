"""What a property test costs, and the budget that keeps shrinking an expensive target usable.

Each property test (:func:`braggcheck.testing.framework.harness.property_tests`) renders through
a :class:`CountingTarget`, times one render at its first example (:func:`render_seconds`) and
keeps the renders of every example (:class:`RunCost`). Shrinking a failure stops after a time
budget (:class:`ShrinkClock`, :func:`shrink_budget`); the best case found so far is reported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from braggcheck.testing.framework.case import TargetCase, case_to_json
from braggcheck.testing.framework.target import Target
from braggcheck.util.errors import ConfigError

SHRINK_SECONDS_VARIABLE = "BRAGGCHECK_SHRINK_SECONDS"
"""Environment variable: seconds of shrinking per failure (default :data:`SHRINK_SECONDS`)."""

SHRINK_SECONDS = 60.0
"""Default shrinking budget per failure: after it the best case so far is reported (an
expensive target spent 200-300 s per failing property shrinking without one, issue #21)."""


def shrink_budget(value: float | None = None) -> float:
    """The shrinking budget: ``value``, else $BRAGGCHECK_SHRINK_SECONDS, else the default."""
    if value is None:
        text = os.environ.get(SHRINK_SECONDS_VARIABLE)
        if text is None:
            return SHRINK_SECONDS
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{SHRINK_SECONDS_VARIABLE} = {text!r}: expected seconds, a "
                              "number > 0") from None
    if not value > 0:
        raise ConfigError(f"shrink_seconds = {value}: must be > 0")
    return value


class CountingTarget:
    """``target`` with its renders counted and timed (every other member passes through)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.renders = 0
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)

    def render(self, config: Any, params: dict[str, torch.Tensor]) -> torch.Tensor:
        start = time.perf_counter()
        try:
            return self.target.render(config, params)
        finally:
            self.renders += 1
            self.seconds += time.perf_counter() - start


@dataclass
class RunCost:
    """What one property test measured: a render's cost and the renders of each example."""

    render_seconds: float | None = None
    """One render of the first example's configuration (None before the first example)."""
    renders: list[int] = field(default_factory=list)
    """Renders per example, in order."""

    def summary(self, name: str) -> str:
        per = self.renders[-1] if self.renders else 0
        seconds = self.render_seconds or 0.0
        return (f"cost of {name}: one render {1e3 * seconds:.3g} ms (first example); "
                f"{per} renders per example -> about {1e3 * per * seconds:.3g} ms per example, "
                f"{per * seconds * 100:.3g} s per 100 examples")


@dataclass
class ShrinkClock:
    """Shrinking of the current failure: when it began, steps tried, the best case so far."""

    budget: float
    started: float | None = None
    steps: int = 0
    best: str = ""
    spent: bool = False
    seen: set[str] = field(default_factory=set)
    """The cases run since the last final replay (their JSON form)."""

    def reset(self) -> None:
        self.started, self.steps, self.best, self.spent = None, 0, "", False
        self.seen.clear()


def case_key(target: Target, case: TargetCase) -> str:
    try:
        return json.dumps(case_to_json(target, case), sort_keys=True)
    except (TypeError, ValueError):  # not JSON-ready: its repr still tells cases apart
        return repr(case)


def render_seconds(target: Target, config: Any) -> float:
    """One render of ``config``, timed: the faster of two (the first also pays one-time
    set-up, e.g. torch's lazy initialisation)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        with torch.no_grad():
            target.render(config, {})
        times.append(time.perf_counter() - start)
    return min(times)


def shrink_step(clock: ShrinkClock, name: str, case: TargetCase, failed: bool) -> None:
    """Count one example tried while shrinking; report progress; spend the budget."""
    now = time.perf_counter()
    if clock.started is None:
        clock.started = now
        clock.best = describe(case)
        print(f"shrinking {name}: failure found ({clock.best}); budget {clock.budget:g} s "
              f"(${SHRINK_SECONDS_VARIABLE})", file=sys.stderr)
        return
    clock.steps += 1
    if failed:
        clock.best = describe(case)
        print(f"shrinking {name}: {clock.steps} steps, {now - clock.started:.1f} s, best so "
              f"far: {clock.best}", file=sys.stderr)
    if now - clock.started > clock.budget and not clock.spent:
        clock.spent = True
        print(f"shrinking {name}: budget of {clock.budget:g} s spent after {clock.steps} "
              f"steps; reporting the best so far: {clock.best}", file=sys.stderr)


def describe(case: TargetCase) -> str:
    return f"parameters {', '.join(case.names)}; config {case.config!r}"
