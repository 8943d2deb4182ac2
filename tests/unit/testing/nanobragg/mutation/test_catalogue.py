"""The mutant catalogue applies to the current tree, covers every physics module and the
hand-written backward and jvp, and its equivalent mutants are shown equivalent by the probe."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest

from braggcheck.sim import fused_pixels
from braggcheck.testing.nanobragg.mutation.catalogue import (
    GROUPS,
    MutantError,
    apply_mutant,
    catalogue,
    mutate_tree,
    select,
)
from braggcheck.testing.nanobragg.mutation.mutant import CATEGORIES, Mutant
from braggcheck.testing.nanobragg.mutation.probes import tree_fingerprint
from braggcheck.testing.nanobragg.mutation.runner import copy_tree
from braggcheck.util.errors import ConfigError

SOURCE = Path(fused_pixels.__file__).parents[1]  # src/braggcheck
ROOT = SOURCE.parents[1]
PHYSICS_MODULES = tuple(f"sim/{name}" for name in (
    "physics.py", "crystal.py", "detector.py", "sources.py", "sensor.py",
    "rotations.py", "simulator.py", "fused_pixels.py", "fused_lattice.py"))
MUTANTS = catalogue()


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_every_mutant_applies_exactly_once_and_compiles(mutant: Mutant) -> None:
    text = (SOURCE / mutant.file).read_text()
    assert text.count(mutant.original) == 1, f"{mutant.id}: snippet not unique in {mutant.file}"
    mutated = apply_mutant(text, mutant)
    assert mutated != text and mutant.replacement in mutated
    compile(mutated, mutant.file, "exec")


def test_ids_are_unique_and_the_catalogue_is_large_enough() -> None:
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


def test_entries_are_well_formed() -> None:
    for m in MUTANTS:
        assert m.category in CATEGORIES, m.id
        assert m.description and "\n" not in m.description, m.id
        assert m.original != m.replacement, m.id


def test_every_physics_module_is_covered() -> None:
    assert set(PHYSICS_MODULES) <= {m.file for m in MUTANTS}


@pytest.mark.parametrize("method", ["backward", "jvp"])
def test_the_hand_written_derivatives_are_covered(method: str) -> None:
    body = inspect.getsource(getattr(fused_pixels._FusedPixelIntensity, method))
    inside = [m.id for m in MUTANTS if m.file == "sim/fused_pixels.py" and m.original in body]
    assert len(inside) >= 2, f"{method}: only {inside}"


def test_a_snippet_that_is_missing_or_repeated_is_refused_by_name() -> None:
    missing = Mutant("m-missing", "x.py", "absent", "present", "sign", "test")
    with pytest.raises(MutantError, match=r"m-missing.*occurs 0 times"):
        apply_mutant("a = 1\n", missing)
    twice = Mutant("m-twice", "x.py", "a = 1", "a = 2", "sign", "test")
    with pytest.raises(MutantError, match=r"m-twice.*occurs 2 times"):
        apply_mutant("a = 1\na = 1\n", twice)


def test_a_mutant_that_breaks_the_syntax_is_refused(tmp_path: Path) -> None:
    (tmp_path / "src" / "braggcheck").mkdir(parents=True)
    (tmp_path / "src" / "braggcheck" / "x.py").write_text("a = (1)\n")
    broken = Mutant("m-syntax", "x.py", "(1)", "(1", "sign", "test")
    with pytest.raises(MutantError, match=r"m-syntax.*does not compile"):
        mutate_tree(tmp_path, broken)


def test_select_keeps_catalogue_order_and_refuses_unknown_ids() -> None:
    first, second = MUTANTS[0].id, MUTANTS[1].id
    assert [m.id for m in select(f"{second},{first}")] == [first, second]
    assert select(None) == MUTANTS
    with pytest.raises(ConfigError, match=r"--only: unknown mutant id.*nope"):
        select(f"{first},nope")
    with pytest.raises(ConfigError, match="--only"):
        select(" , ")


@pytest.fixture(scope="module")
def original_fingerprint(tmp_path_factory) -> str:
    return tree_fingerprint(copy_tree(ROOT, tmp_path_factory.mktemp("original")))


def _mutated_fingerprint(tmp_path: Path, mutant: Mutant) -> str:
    copy = copy_tree(ROOT, tmp_path / "tree")
    mutate_tree(copy, mutant)
    try:
        return tree_fingerprint(copy)
    finally:
        shutil.rmtree(copy)


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.equivalent],
                         ids=[m.id for m in MUTANTS if m.equivalent])
def test_equivalent_mutants_leave_images_and_gradients_bit_identical(
        tmp_path: Path, original_fingerprint: str, mutant: Mutant) -> None:
    assert _mutated_fingerprint(tmp_path, mutant) == original_fingerprint


def test_the_probe_sees_a_backward_bug(tmp_path: Path, original_fingerprint: str) -> None:
    # The probe must be able to fail: a wrong sign in the hand-written backward changes it.
    broken = next(m for m in MUTANTS if m.id == "bwd-offset-sign")
    assert _mutated_fingerprint(tmp_path, broken) != original_fingerprint


def test_group_names_select_their_mutants_in_catalogue_order() -> None:
    chosen = select("flags, fallback")
    assert chosen == tuple(m for m in MUTANTS if m in GROUPS["fallback"] + GROUPS["flags"])
    assert select("framework,adc-default-zero")[-1].id == "adc-default-zero"
    with pytest.raises(ConfigError, match="valid: group names"):
        select("flag")


@pytest.mark.parametrize(("group", "folder"), [
    ("strategy", "testing/nanobragg/strategies/"), ("framework", "testing/framework/"),
    ("flags", "nanobragg/")])
def test_each_new_group_plants_bugs_where_it_says(group: str, folder: str) -> None:
    assert len(GROUPS[group]) >= 4
    assert all(m.file.startswith(folder) for m in GROUPS[group])
