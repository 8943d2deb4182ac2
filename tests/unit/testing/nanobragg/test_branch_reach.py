"""unreached_arms: the demanded arms no case reaches, tracing no more cases than it needs."""

from __future__ import annotations

import pytest

from braggcheck.testing.nanobragg import branch_reach
from braggcheck.testing.nanobragg.regions import guard_region

ARM_1 = guard_region("physics.py", "f#1", True)
ARM_2 = guard_region("physics.py", "f#1", False)
ARM_3 = guard_region("detector.py", "g#1", True)


@pytest.fixture
def traced(monkeypatch):
    """Cases are the sets of arms their trace reaches; the names of the cases traced."""
    seen: list[str] = []

    def reached(case):
        seen.append(case[0])
        return case[1]

    monkeypatch.setattr(branch_reach, "reached_arms", reached)
    return seen


def test_the_trace_stops_once_every_demanded_arm_is_reached(traced):
    sample = [("first", {ARM_1}), ("second", {ARM_2, ARM_3}), ("third", set())]
    assert branch_reach.unreached_arms(sample, (ARM_1, ARM_2)) == []
    assert traced == ["first", "second"]


def test_an_arm_no_case_reaches_is_named_after_tracing_every_case(traced):
    sample = [("first", {ARM_1}), ("second", {ARM_1}), ("third", set())]
    assert branch_reach.unreached_arms(sample, (ARM_3, ARM_1, ARM_2)) == [ARM_3, ARM_2]
    assert traced == ["first", "second", "third"]
