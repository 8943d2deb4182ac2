"""Which arms of the simulator's element-wise guards the gradient checks reach.

A ``torch.where`` guard in :mod:`braggcheck.sim` (a removable singularity's series, a table's
outside value, an interpolation's fallback) picks per sample: the image is the same function
on both sides, but its derivative takes another formula on each, so only a gradient check that
draws samples on both sides can see a wrong one. Python coverage cannot tell the two arms of
such a guard apart (one line runs either way), so :func:`reached_arms` records them while a
case's image, its reverse-mode gradient and its forward-mode derivative are evaluated: every
``torch.where`` call made from a line of :mod:`braggcheck.sim` is intercepted and its
condition read.

The guard sites are found in the source (:func:`guard_sites`, never a hand-typed list), so a
new guard is demanded by ``tests/properties/test_branch_reach.py`` the day it is written.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import torch
from torch.autograd import forward_ad

import braggcheck.sim
from braggcheck.sim.amplitudes import STRUCTURE_FACTORS, structure_factor_values
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import fused_path, simulate
from braggcheck.sim.state import baseline_value, build_state
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.regions import Region, guard_region

SIM_DIR = Path(braggcheck.sim.__file__).resolve().parent


@cache
def _site_lines() -> dict[tuple[str, int], tuple[str, str]]:
    """Every source line of every ``torch.where(...)`` call in :mod:`braggcheck.sim` ->
    (module file name, site), the site named ``function#k`` (the k-th such call in that
    function): a name that survives edits elsewhere in the file, where a line number would
    move with every line added above it."""
    lines = {}
    for path in sorted(SIM_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        functions = [n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        calls = sorted((node for node in ast.walk(tree)
                        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "where" and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "torch"), key=lambda node: node.lineno)
        counts: dict[str, int] = {}
        for node in calls:
            enclosing = [f for f in functions
                         if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
            name = min(enclosing, key=lambda f: (f.end_lineno or f.lineno) - f.lineno
                       ).name if enclosing else "<module>"
            counts[name] = counts.get(name, 0) + 1
            site = f"{name}#{counts[name]}"
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                lines.setdefault((path.name, line), (path.name, site))
    return lines


def guard_sites() -> tuple[tuple[str, str], ...]:
    """(module file name, site) of every ``torch.where(...)`` call in :mod:`braggcheck.sim`."""
    return tuple(sorted(set(_site_lines().values())))


def guard_arms(sites: Iterable[tuple[str, str]] | None = None) -> tuple[Region, ...]:
    """Both arms of every guard site (default: all of :func:`guard_sites`)."""
    return tuple(guard_region(file, line, taken)
                 for file, line in (guard_sites() if sites is None else sites)
                 for taken in (True, False))


def _caller_site() -> tuple[str, str] | None:
    frame = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.parent == SIM_DIR:
            return _site_lines().get((path.name, frame.f_lineno))
        frame = frame.f_back
    return None


@contextmanager
def _recording(arms: set[Region]) -> Iterator[None]:
    """While active, every ``torch.where`` called from a line of :mod:`braggcheck.sim` adds
    the arms its condition takes to ``arms`` (``torch.where`` is wrapped for the duration:
    a ``TorchFunctionMode`` would intercept every op, and hand a backward to its handler
    with the mode off)."""
    original = torch.where

    def where(condition, *args, **kwargs):
        site = _caller_site()
        if site is not None and args and isinstance(condition, torch.Tensor):
            if bool(condition.any()):
                arms.add(guard_region(*site, True))
            if not bool(condition.all()):
                arms.add(guard_region(*site, False))
        return original(condition, *args, **kwargs)

    torch.where = where
    try:
        yield
    finally:
        torch.where = original


def _custom_forward_mode(config, params: dict[str, torch.Tensor]) -> bool:
    """Whether ``config``'s forward mode runs a custom ``jvp`` (the fused pixel node's).

    Elsewhere forward mode is autograd's own rule for each op, whose ``torch.where`` reads the
    same conditions as the image's (already recorded), at ten times the image's cost."""
    with torch.no_grad():
        state = build_state(config, params, torch.float64, torch.device("cpu"))
        return fused_path(build_scene(config, state, None,
                                      structure_factor_values(params, config.crystal.hkl)))


def reached_arms(case: Case) -> set[Region]:
    """The guard arms that ``case``'s image, gradient (reverse mode, the case's projection)
    and, where it has a custom rule, forward-mode derivative (the case's direction) take."""
    arms: set[Region] = set()
    config = case.config
    values = {n: torch.tensor(float(baseline_value(config, n)), dtype=torch.float64)
              for n in case.names}
    if config.crystal.hkl is not None:  # the vector parameter, as test_structure_factors does
        values[STRUCTURE_FACTORS] = torch.as_tensor(
            config.crystal.hkl.reflection_amplitudes(), dtype=torch.float64)
    weights = case.weights()
    with forward_ad.dual_level():  # forward AD's one-off set-up scripts torch.where: not
        forward_ad.make_dual(torch.zeros(()), torch.zeros(()))  # while it is wrapped
    with case.simulation(), _recording(arms):
        params = {n: v.clone().requires_grad_(True) for n, v in values.items()}
        image = simulate(config, params)
        if image.requires_grad:  # (not when no drawn name reaches the image: sources from
            # a file replace the divergence grid, yet applicability counts its parameter)
            torch.autograd.grad((image * weights).sum(), list(params.values()),
                                allow_unused=True)
        if not _custom_forward_mode(config, params):
            return arms
        direction = case.direction_tensor()
        with forward_ad.dual_level():
            duals = {n: forward_ad.make_dual(v, (direction[i] if i < len(direction) else 1.0)
                                             * torch.ones_like(v))
                     for i, (n, v) in enumerate(values.items())}
            forward_ad.unpack_dual(simulate(config, duals))
    return arms


def unreached_arms(sample: Iterable[Case], demanded: Iterable[Region]) -> list[Region]:
    """The ``demanded`` guard arms no case of ``sample`` reaches. Cases are traced in order
    until every demanded arm is reached (tracing the rest could only add arms: the answer is
    the same, and each trace renders and differentiates the case)."""
    wanted = list(demanded)
    missing = set(wanted)
    for case in sample:
        if not missing:
            break
        missing -= reached_arms(case)
    return [arm for arm in wanted if arm in missing]


_TOPHAT = "TOPHAT (a step: zero gradient almost everywhere) is not drawn for the gradient checks"
NOT_REACHED_BY_GRADIENT_CHECKS: dict[tuple[str, str, bool], str] = {
    ("crystal.py", "_clamp_cosine#1", True): "a cosine past +-1 by rounding: degenerate cells "
                                             "only, which the strategies leave out (V/abc >= 0.3)",
    ("detector.py", "detector_geometry#1", True): "the beam parallel to the detector plane "
                                                  "(rho = 0): no image",
    ("rotations.py", "safe_norm#1", False): "a zero-length vector: invalid input, refused upstream",
    ("rotations.py", "unit#1", False): "a zero-length vector: invalid input, refused upstream",
    ("crystal_size.py", "continuous_lattice_factor#1", True): _TOPHAT,
    ("crystal_size.py", "continuous_lattice_factor#1", False): _TOPHAT,
    ("physics.py", "tophat_lattice_factor#1", True): _TOPHAT,
    ("physics.py", "tophat_lattice_factor#1", False): _TOPHAT,
    ("pixel_features.py", "running_sum#1", True): "a sample whose lattice factor is exactly 0 "
                                                  "under a per-subpixel feature: TOPHAT outside "
                                                  "its spot or a GAUSS tail below 1e-308",
}
"""Guard arms the gradient checks do not reach, each with its reason
(reports/branch-reach.md); keyed by (file, site ``function#k``, arm)."""


def demanded_arms() -> tuple[Region, ...]:
    """Both arms of every guard site, less :data:`NOT_REACHED_BY_GRADIENT_CHECKS`."""
    return tuple(guard_region(file, line, arm) for file, line in guard_sites()
                 for arm in (True, False)
                 if (file, line, arm) not in NOT_REACHED_BY_GRADIENT_CHECKS)
