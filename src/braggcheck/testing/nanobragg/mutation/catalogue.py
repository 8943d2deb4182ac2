"""The mutant catalogue: small realistic bugs planted in the simulator, as data.

A :class:`Mutant` names a file under ``src/braggcheck``, an exact snippet that occurs there
exactly once, and its replacement. The entries live in groups: :mod:`.kernel_mutants` (the
per-sample kernel: fused backward/jvp, lattice math, physics, simulator),
:mod:`.geometry_mutants` (crystal, detector, sources, sensor, rotations),
:mod:`.fallback_mutants` (wrong derivatives on a fallback branch, forward unchanged),
:mod:`.strategy_mutants` (a strategy that stops drawing one component),
:mod:`.framework_mutants` (a framework guard disabled) and :mod:`.flag_mutants` (flags and
files). ``--only`` takes mutant ids and group names.
``tests/unit/testing/nanobragg/mutation/test_catalogue.py``
applies every one to the current tree, so a refactor that breaks a mutant names it.
"""

from __future__ import annotations

from pathlib import Path

from braggcheck.testing.nanobragg.mutation.fallback_mutants import FALLBACK_MUTANTS
from braggcheck.testing.nanobragg.mutation.flag_mutants import FLAG_MUTANTS
from braggcheck.testing.nanobragg.mutation.framework_mutants import FRAMEWORK_MUTANTS
from braggcheck.testing.nanobragg.mutation.geometry_mutants import GEOMETRY_MUTANTS
from braggcheck.testing.nanobragg.mutation.kernel_mutants import KERNEL_MUTANTS
from braggcheck.testing.nanobragg.mutation.mutant import Mutant
from braggcheck.testing.nanobragg.mutation.strategy_mutants import STRATEGY_MUTANTS
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


GROUPS: dict[str, tuple[Mutant, ...]] = {
    "kernel": KERNEL_MUTANTS,
    "geometry": GEOMETRY_MUTANTS,
    "fallback": FALLBACK_MUTANTS,
    "strategy": STRATEGY_MUTANTS,
    "framework": FRAMEWORK_MUTANTS,
    "flags": FLAG_MUTANTS,
}
"""The catalogue's groups, in catalogue order; a group name selects all of its mutants."""


def catalogue() -> tuple[Mutant, ...]:
    """Every mutant, group by group (kernel first)."""
    return tuple(m for group in GROUPS.values() for m in group)


def group_of(mutant: Mutant) -> str:
    return next(name for name, group in GROUPS.items() if mutant in group)


def select(ids: str | None) -> tuple[Mutant, ...]:
    """The mutants named in a comma-separated ``ids`` of mutant ids and group names (all when
    None), in catalogue order."""
    mutants = catalogue()
    if ids is None:
        return mutants
    wanted = {name.strip() for name in ids.split(",") if name.strip()}
    known = {m.id for m in mutants}
    unknown = [name for name in sorted(wanted) if name not in known and name not in GROUPS]
    if not wanted or unknown:
        raise ConfigError(f"--only: unknown mutant id(s) {', '.join(unknown) or repr(ids)}; "
                          "valid: group names (" + ", ".join(GROUPS) + ") and the ids "
                          "'braggcheck mutants --list' names")
    chosen = wanted | {m.id for name in wanted & GROUPS.keys() for m in GROUPS[name]}
    return tuple(m for m in mutants if m.id in chosen)
