"""The suite catches real gradient bugs: deliberately broken variants must fail and shrink.

Each test plugs a broken variant into the simulator (monkeypatching), runs the gradient property
programmatically under Hypothesis, and asserts that it fails, that the failure shrinks to a
small configuration near the spec baseline, and that the failure file replays the bug with
``braggcheck replay`` (exit status 1) while the intact simulator passes it (exit status 0).

These are self-tests of the framework (its harness, failure files and shrinking), marked
``framework``: they live here, in the default suite, and not in ``tests/properties``, whose ``ci``
run measures the property suite itself (one hunt alone took a sixth of that run).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings

import braggcheck.sim.physics
import braggcheck.sim.simulator
import braggcheck.testing.nanobragg.checks.invariants
import braggcheck.testing.nanobragg.target
from braggcheck.cli import replay
from braggcheck.nanobragg.serialization import config_to_dict
from braggcheck.sim.config import Config
from braggcheck.testing.framework.harness import PropertyFailure
from braggcheck.testing.nanobragg.harness import run_property
from braggcheck.testing.nanobragg.strategies.cases import cases
from braggcheck.testing.nanobragg.strategies.configs import BASELINE_PIXELS

from ....planted import ScaledGradient

pytestmark = pytest.mark.framework  # they plant their own bugs: no evidence on a mutant


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread, as in tests/properties (its conftest): the hunts draw and shrink the
    same examples as they did there."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

HUNT = settings(max_examples=200, database=None, derandomize=True, deadline=None,
                phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck), print_blob=False)
FULLY_SHRUNK = Config().replace(fpixels=BASELINE_PIXELS, spixels=BASELINE_PIXELS, oversample=1)
"""What every strategy draw shrinks to: the spec baseline on a 16x16 detector."""


def hunt(tmp_path, name: str, focus: str | None = None) -> tuple[list, str]:
    """Run the gradient property until it fails; return (failing cases, final message).

    ``focus`` draws only configurations whose image depends on that parameter and checks it
    first (the question is whether a bug in *that* derivative is caught)."""
    failing = []

    @HUNT
    @given(case=cases(focus=focus))
    def prop(case):
        try:
            run_property("gradient", case, name, failures_dir=tmp_path)
        except PropertyFailure:
            failing.append(case)
            raise

    with pytest.raises(PropertyFailure) as caught:
        prop()
    return failing, str(caught.value)


def differences_from_baseline(config: Config) -> dict:
    shrunk, baseline = config_to_dict(config), config_to_dict(FULLY_SHRUNK)
    return {f"{section}.{key}": value for section in shrunk
            for key, value in shrunk[section].items()
            if baseline[section].get(key) != value} | {
        f"{section}.{key}": "(default)" for section in baseline
        for key in baseline[section] if key not in shrunk[section]}


def assert_caught_and_shrunk(tmp_path, name: str, parameter: str, max_changes: int,
                             capsys) -> None:
    failing, message = hunt(tmp_path, name, focus=parameter)
    final = failing[-1]
    assert parameter in message and "FAIL" in message
    assert f"braggcheck replay {tmp_path / name}.json" in message
    # Hypothesis's shrinker is a heuristic (and its generation draws on constants from loaded
    # modules, so the path differs between a lone run and the full suite): it reliably ends at
    # the broken parameter plus at most one other, at or next to the baseline configuration.
    assert parameter in final.names and len(final.names) <= 2, f"shrunk to {final.names}"
    changed = differences_from_baseline(final.config)
    assert len(changed) <= max_changes, f"not shrunk to a small configuration: {changed}"
    det = final.config.detector
    assert det.fpixels * det.spixels <= BASELINE_PIXELS**2
    capsys.readouterr()
    assert replay.main([str(tmp_path / f"{name}.json")]) == 1
    out = capsys.readouterr().out
    assert parameter in out and "analytic" in out and "FAIL" in out



def _broken_state(monkeypatch, name: str, transform) -> None:
    original = braggcheck.sim.simulator.build_state

    def build_state(*args, **kwargs):
        state = original(*args, **kwargs)
        state[name] = transform(state[name])
        return state

    monkeypatch.setattr(braggcheck.sim.simulator, "build_state", build_state)


def test_detached_parameter_is_caught(tmp_path, monkeypatch, capsys):
    _broken_state(monkeypatch, "lambda_A", lambda v: v.detach())
    assert_caught_and_shrunk(tmp_path, "detached_lambda", "lambda_A", 2, capsys)
    monkeypatch.undo()
    assert replay.main([str(tmp_path / "detached_lambda.json")]) == 0  # the intact simulator


def test_derivative_off_by_one_percent_is_caught(tmp_path, monkeypatch, capsys):
    _broken_state(monkeypatch, "distance_mm", lambda v: ScaledGradient.apply(v, 1.01))
    assert_caught_and_shrunk(tmp_path, "distance_factor", "distance_mm", 2, capsys)


class _NearIntegerHole(torch.autograd.Function):
    """Identity forward; the backward drops the gradient within 0.05 of an integer."""

    @staticmethod
    def forward(ctx, h):
        ctx.save_for_backward(h)
        return h.clone()

    @staticmethod
    def backward(ctx, grad):
        (h,) = ctx.saved_tensors
        near = (h - torch.round(h)).abs() < 0.05
        return torch.where(near, torch.zeros_like(grad), grad)


def test_gradient_wrong_only_near_integer_h_is_caught(tmp_path, monkeypatch, capsys):
    # Broken where the Miller indices enter the lattice factor: the plain path (the fused one
    # has its own tests against it in tests/unit/sim/test_fused_pixels.py).
    monkeypatch.setattr(braggcheck.sim.simulator, "fused_path", lambda scene: False)
    original = braggcheck.sim.simulator.lattice_intensity
    monkeypatch.setattr(braggcheck.sim.simulator, "lattice_intensity",
                        lambda scene, hkl: original(scene, _NearIntegerHole.apply(hkl)))
    failing, message = hunt(tmp_path, "near_integer")
    final = failing[-1]
    assert len(final.names) == 1 and "FAIL" in message
    assert len(differences_from_baseline(final.config)) <= 1, final.config
    assert replay.main([str(tmp_path / "near_integer.json")]) == 1


def test_stored_direct_beam_example_catches_the_naive_sincg(monkeypatch):
    """The reference program's own sincg, ``N if x == 0 else sin(Nx)/sin(x)``, has the right
    value but a NaN gradient exactly at integer h. Random draws almost never put a sample point
    exactly on a Bragg node; the stored edge case does, and the finite property catches it."""
    import math

    from braggcheck.testing.nanobragg.checks.gradient import check_finite
    from braggcheck.testing.nanobragg.harness import stored_examples

    def naive_sincg(h, cells):
        x = math.pi * h
        return torch.where(x == 0, torch.full_like(x, float(cells)),
                           torch.sin(cells * x) / torch.sin(x))

    def naive_intensity(scene, hkl):
        h, k, l = hkl.unbind(-1)
        cells = scene.cells
        return (naive_sincg(h, cells[0]) * naive_sincg(k, cells[1])
                * naive_sincg(l, cells[2])) ** 2

    case = dict(stored_examples())["direct_beam_on_sample_point"]
    assert check_finite(case).passed
    monkeypatch.setattr(braggcheck.sim.simulator, "fused_path", lambda scene: False)
    monkeypatch.setattr(braggcheck.sim.simulator, "lattice_intensity", naive_intensity)
    result = check_finite(case)
    assert not result.passed and "non-finite gradient" in result.message


class _NaNGradient(torch.autograd.Function):
    """Identity forward; the backward returns NaN (an Inf or NaN derivative bug)."""

    @staticmethod
    def forward(ctx, value):
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return torch.full_like(grad, float("nan"))


def test_nan_gradient_ends_as_a_stored_replayable_failure(tmp_path, monkeypatch, capsys):
    """A NaN derivative must not reach ``hypothesis.target`` (InvalidArgument: a traceback and
    no failure file): it is a failure, shrunk, written and replayed like any other."""
    _broken_state(monkeypatch, "distance_mm", _NaNGradient.apply)
    failing, message = hunt(tmp_path, "nan_distance", focus="distance_mm")
    assert "non-finite derivative (NaN or Inf) for distance_mm" in message
    assert f"braggcheck replay {tmp_path / 'nan_distance'}.json" in message
    assert len(differences_from_baseline(failing[-1].config)) <= 2, failing[-1].config
    capsys.readouterr()
    assert replay.main([str(tmp_path / "nan_distance.json")]) == 1
    assert "non-finite derivative" in capsys.readouterr().out
    monkeypatch.undo()
    assert replay.main([str(tmp_path / "nan_distance.json")]) == 0


def test_nan_image_is_a_failure_not_a_rejection(monkeypatch):
    """A NaN pixel must fail every image check (``no Bragg signal`` would reject it)."""
    from braggcheck.testing.nanobragg.case import Case
    from braggcheck.testing.nanobragg.harness import run_check

    original = braggcheck.sim.simulator.simulate

    def nan_pixel(*args, **kwargs):
        image = original(*args, **kwargs)
        return image + torch.where(image == image.max(), float("nan"), 0.0)

    case = Case(config=FULLY_SHRUNK)
    for module in (braggcheck.testing.nanobragg.checks.invariants,
                   braggcheck.testing.nanobragg.target, braggcheck.testing.nanobragg.case):
        # every module the checks use
        monkeypatch.setattr(module, "simulate", nan_pixel)
    for check in ("gradient", "forward_reverse", "finite", "fluence_linearity",
                  "rotation_periodicity", "misset_equivalence", "distance_scaling"):
        result = run_check(check, case)
        assert not result.passed and not result.inconclusive, (check, result.report())


def test_recomputed_chunks_losing_their_gradient_is_caught(tmp_path, monkeypatch):
    """Pixels recomputed in the backward pass (after ``STORED_BYTES_LIMIT``) exist only when a
    case draws small chunks and few stored ones: a bug there must still be found, and the
    shrunk failure must keep the chunking that reaches it (it is replayed from the file)."""

    def detached(kernel, scene, slow, fast, *tensors):
        return kernel(scene, slow, fast).detach()

    monkeypatch.setattr(braggcheck.sim.simulator._RecomputedChunk, "apply", detached)
    failing, message = hunt(tmp_path, "recomputed_detached")
    final = failing[-1]
    assert "FAIL" in message
    assert final.pixels_per_chunk is not None and final.stored_chunks is not None, final
    assert replay.main([str(tmp_path / "recomputed_detached.json")]) == 1
    monkeypatch.undo()
    assert replay.main([str(tmp_path / "recomputed_detached.json")]) == 0
