"""A planted bug as data: the :class:`Mutant` record and the categories of bugs."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = (
    "detached",  # a .detach() on a differentiable term
    "sign",  # a wrong sign
    "factor",  # a wrong factor or constant
    "axis-order",  # a wrong axis order, a transposed matrix, a swapped pair
    "guard",  # a guard removed at a removable singularity
    "boundary",  # an off-by-one, a chunk boundary, a grid offset
    "convention",  # a wrong pivot, convention vector or unit
    "composition",  # a wrong composition order of rotations
    "normalisation",  # a wrong count in a normalisation
    "dropped",  # a strategy that silently stops drawing one component
    "default",  # a wrong default value of a flag
)


@dataclass(frozen=True)
class Mutant:
    """One planted bug: replace ``original`` (exactly once in ``file``) by ``replacement``."""

    id: str
    file: str  # relative to src/braggcheck
    original: str
    replacement: str
    category: str
    description: str
    equivalent: bool = False  # cannot change any output; :mod:`.probes` must show it
