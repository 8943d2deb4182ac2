"""The mutant catalogue: small realistic bugs planted in the simulator, as data.

A :class:`Mutant` names a file under ``src/braggcheck``, an exact snippet that occurs there
exactly once, and its replacement. The entries live in :mod:`.kernel_mutants` (the per-sample
kernel: fused backward/jvp, lattice math, physics, simulator) and :mod:`.geometry_mutants`
(crystal, detector, sources, sensor, rotations).
``tests/unit/testing/nanobragg/mutation/test_catalogue.py``
applies every one to the current tree, so a refactor that breaks a mutant names it.
"""

from __future__ import annotations

from pathlib import Path

from braggcheck.testing.nanobragg.mutation.geometry_mutants import GEOMETRY_MUTANTS
from braggcheck.testing.nanobragg.mutation.kernel_mutants import KERNEL_MUTANTS
from braggcheck.testing.nanobragg.mutation.mutant import Mutant
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output


class MutantError(ValueError):
    """A mutant that does not apply to the tree it is given."""


def apply_mutant(text: str, mutant: Mutant) -> str:
    """``text`` with the mutant applied; refuses unless the snippet occurs exactly once."""
    count = text.count(mutant.original)
    if count != 1:
        raise MutantError(f"mutant {mutant.id}: its original snippet occurs {count} times in "
                          f"{mutant.file} (expected exactly once)")
    mutated = text.replace(mutant.original, mutant.replacement)
    if mutated == text:
        raise MutantError(f"mutant {mutant.id}: the replacement equals the original")
    return mutated


def mutate_tree(root: Path, mutant: Mutant) -> Path:
    """Apply ``mutant`` to the tree at ``root`` (holding ``src/braggcheck``) in place, check
    that the file now holds the mutated text and still compiles; return the file's path."""
    path = root / "src" / "braggcheck" / mutant.file
    mutated = apply_mutant(path.read_text(), mutant)
    write_output(path, mutated.encode())  # in the temporary copy
    if path.read_text() != mutated:
        raise MutantError(f"mutant {mutant.id}: {path} does not hold the mutated text")
    try:
        compile(mutated, str(path), "exec")
    except SyntaxError as exc:
        raise MutantError(f"mutant {mutant.id}: the mutated {mutant.file} does not compile: "
                          f"{exc}") from None
    return path


def catalogue() -> tuple[Mutant, ...]:
    """Every mutant, kernel first."""
    return KERNEL_MUTANTS + GEOMETRY_MUTANTS


def select(ids: str | None) -> tuple[Mutant, ...]:
    """The mutants named in a comma-separated ``ids`` (all when None), in catalogue order."""
    mutants = catalogue()
    if ids is None:
        return mutants
    wanted = [name.strip() for name in ids.split(",") if name.strip()]
    known = {m.id for m in mutants}
    unknown = [name for name in wanted if name not in known]
    if not wanted or unknown:
        raise ConfigError(f"--only: unknown mutant id(s) {', '.join(unknown) or repr(ids)}; "
                          "'braggcheck mutants --list' names them")
    return tuple(m for m in mutants if m.id in wanted)
