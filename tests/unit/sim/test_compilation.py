"""The compile guard: NANOBRAGG_DISABLE_COMPILE (canonical), NB_DISABLE_COMPILE (alias)."""

from __future__ import annotations

import os

import pytest
import torch

from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim import compilation
from braggcheck.sim.compilation import (
    DISABLE_VARIABLES,
    ENABLE_VARIABLE,
    compile_disabled,
    compile_wanted,
    maybe_compile,
)

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*DISABLE_VARIABLES, ENABLE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_canonical_switch_comes_first_and_the_alias_is_known():
    assert DISABLE_VARIABLES == ("NANOBRAGG_DISABLE_COMPILE", "NB_DISABLE_COMPILE")


def test_defaults_compile_on_cuda_only(clean_env):
    assert not compile_disabled()
    assert not compile_wanted(CPU)
    assert compile_wanted(CUDA)


@pytest.mark.parametrize("name", DISABLE_VARIABLES)
@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_either_switch_turns_compilation_off_everywhere(clean_env, name, value):
    clean_env.setenv(name, value)
    assert compile_disabled()
    assert not compile_wanted(CUDA)


@pytest.mark.parametrize("name", DISABLE_VARIABLES)
def test_the_disable_switch_wins_over_the_enable_switch(clean_env, name):
    clean_env.setenv(ENABLE_VARIABLE, "1")
    assert compile_wanted(CPU)
    clean_env.setenv(name, "1")
    assert not compile_wanted(CPU)


@pytest.mark.parametrize("value", ["0", "", "false", "no", "off"])
def test_falsy_values_leave_compilation_as_it_was(clean_env, value):
    for name in DISABLE_VARIABLES:
        clean_env.setenv(name, value)
    assert not compile_disabled()
    assert compile_wanted(CUDA)


def test_the_alias_alone_is_honoured_when_the_canonical_switch_is_0(clean_env):
    clean_env.setenv("NANOBRAGG_DISABLE_COMPILE", "0")
    clean_env.setenv("NB_DISABLE_COMPILE", "1")
    assert compile_disabled()


def test_maybe_compile_returns_the_eager_function_when_disabled(clean_env):
    clean_env.setenv("NB_DISABLE_COMPILE", "1")

    def kernel(x):
        return x

    assert maybe_compile(kernel, CUDA) is kernel


def test_maybe_compile_compiles_when_wanted(clean_env, monkeypatch):
    calls = []
    monkeypatch.setattr(compilation.torch, "compile",
                        lambda function, **kw: calls.append(kw) or function)
    compilation._compiled.cache_clear()
    clean_env.setenv(ENABLE_VARIABLE, "1")

    def kernel(x):
        return x

    maybe_compile(kernel, CPU)
    compilation._compiled.cache_clear()
    assert calls == [{"dynamic": True}]


def test_this_repositorys_test_session_sets_the_canonical_switch():
    """tests/conftest.py turns compilation off for braggcheck's own tests (not the plugin,
    which must leave other projects alone: tests/unit/testing/framework/test_pytest_plugin.py)."""
    assert DISABLE_VARIABLES[0] == "NANOBRAGG_DISABLE_COMPILE"
    assert os.environ.get("NANOBRAGG_DISABLE_COMPILE") == "1"


@pytest.mark.slow
def test_compiled_image_and_gradients_match_eager(clean_env):
    """The compiled kernel (with the fused gradient node run eagerly inside it) gives the eager
    image and gradients; slow: compilation takes ~10 s."""
    from braggcheck import simulate
    from braggcheck.sim.state import build_state

    config = from_nanobragg_args("-cell 70 80 90 85 95 100 -misset 5 10 15 -N 4 "
                                        "-default_F 100 -detpixels 32 -mosaic 0.5 "
                                        "-mosaic_domains 2")

    def run() -> tuple[torch.Tensor, list[torch.Tensor]]:
        state = build_state(config, None, torch.float64, CPU)
        params = {name: value.clone().requires_grad_(True) for name, value in state.items()}
        image = simulate(config, params)
        grads = torch.autograd.grad(image.sum(), list(params.values()), allow_unused=True)
        return image.detach(), [g for g in grads if g is not None]

    clean_env.setenv("NANOBRAGG_DISABLE_COMPILE", "1")
    eager_image, eager_grads = run()
    clean_env.delenv("NANOBRAGG_DISABLE_COMPILE")
    clean_env.setenv(ENABLE_VARIABLE, "1")
    compilation._compiled.cache_clear()
    try:
        image, grads = run()
    finally:
        compilation._compiled.cache_clear()
    torch.testing.assert_close(image, eager_image, rtol=1e-10, atol=0.0)
    assert len(grads) == len(eager_grads) > 15
    for got, want in zip(grads, eager_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-12 * float(want.abs().max()))
