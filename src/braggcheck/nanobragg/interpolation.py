"""``-interpolate`` / ``-nointerpolate``: whether F is interpolated between reflections.

The reference program's rule: the last of the two flags decides; with neither, it interpolates
when any axis has N <= 2 (and an hkl table is given: without one there is nothing to
interpolate, and the choice has no effect).
"""

from __future__ import annotations

from collections.abc import Sequence

from braggcheck.sim.config import CrystalConfig

FLAGS = ("-interpolate", "-nointerpolate")


def automatic(has_table: bool, cells: Sequence[int]) -> bool:
    """The reference's choice when neither flag is given."""
    return has_table and min(cells) <= 2


def parsed_interpolate(order: Sequence[str], has_table: bool, cells: Sequence[int]) -> bool:
    """The choice the flags ``order`` (every flag, in command-line order) make."""
    given = [flag for flag in order if flag in FLAGS]
    if given:
        return given[-1] == "-interpolate"
    return automatic(has_table, cells)


def interpolation_flags(crystal: CrystalConfig) -> list[str]:
    """The flag that makes the reference program do what ``crystal.interpolate`` says (none
    where its automatic choice already does)."""
    cells = (crystal.n_a, crystal.n_b, crystal.n_c)
    if crystal.interpolate == automatic(crystal.hkl is not None, cells):
        return []
    return ["-interpolate" if crystal.interpolate else "-nointerpolate"]
