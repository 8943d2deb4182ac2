"""Variants of the toy target (examples/toy_target.py) for the verdict engine's self-tests.

Right but noisy (every check must pass them, never fail): deterministic relative jitter of
1e-12 to 1e-10 in the output, float32 internals, and a unit vector normalised as
``v / (|v| + 1e-10)``. Slightly wrong (the checks must fail them): a 1e-4 relative error in one
parameter's reverse-mode gradient, a derivative wrong only on one branch of the configuration,
a derivative wrong only when one parameter alone is differentiated, and a gradient that is zero
on a branch.
"""

from __future__ import annotations

import dataclasses
import hashlib

import torch
import torch.autograd.forward_ad as fw

from ....planted import ScaledGradient, WrongBackward
from ....toy import load_toy

toy = load_toy()


def primal(value: torch.Tensor) -> float:
    """The plain value of a parameter tensor (a forward-mode dual's too)."""
    return float(fw.unpack_dual(value).primal.detach())


class JitteredToy(toy.ToyTarget):
    """The toy times (1 + j), j a fixed pseudo-random relative jitter per element, 1e-12 to
    1e-10 in size, seeded by a hash of the configuration and the parameter values: repeatable,
    but rough from one parameter value to the next (as rounding is)."""

    name = "toy"

    def render(self, config, params):
        image = super().render(config, params)
        key = repr((dataclasses.astuple(config),
                    sorted((n, primal(v).hex()) for n, v in params.items())))
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
        generator = torch.Generator().manual_seed(seed)
        size = 10 ** (-12 + 2 * float(torch.rand((), generator=generator, dtype=torch.float64)))
        jitter = (2 * torch.rand(image.shape, generator=generator, dtype=torch.float64) - 1)
        return image * (1 + size * jitter)


def toy_render(config, params, dtype: torch.dtype, normalise: bool = False) -> torch.Tensor:
    """The toy's image computed in ``dtype`` (the same model as examples/toy_target.py), with
    the texture's angle from unit vectors normalised as v / (|v| + 1e-10) when ``normalise``."""
    p = {n: params.get(n, torch.tensor(getattr(config, n), dtype=torch.float64)).to(dtype)
         for n in toy.PARAMETERS}
    centres = torch.arange(config.pixels, dtype=dtype) - (config.pixels - 1) / 2
    size = config.pixel_size()
    y, x = torch.meshgrid(centres * size, centres * size, indexing="ij")
    two_theta = 2 * torch.asin(p["wavelength_A"] / (2 * p["d_spacing_A"]))
    radius = p["distance_mm"] * torch.tan(two_theta)
    width = p["width_px"] * size
    azimuth = torch.deg2rad(p["azimuth_deg"])
    if normalise:
        rho = torch.sqrt(x**2 + y**2)
        ux, uy = x / (rho + 1e-10), y / (rho + 1e-10)
        ax, ay = torch.cos(azimuth), torch.sin(azimuth)
        norm = torch.sqrt(ax**2 + ay**2) + 1e-10
        ax, ay = ax / norm, ay / norm
        # cos(2 (phi - azimuth)) from the unit vectors (1 at the centre pixel, where u = 0).
        cos = ux * ax + uy * ay
        sin = uy * ax - ux * ay
        angular = torch.where(rho > 0, cos**2 - sin**2, torch.ones_like(rho))
    else:
        angular = torch.cos(2 * (torch.atan2(y, x) - azimuth))
    texture = 1 + config.texture * angular
    ring = torch.exp(-((torch.sqrt(x**2 + y**2) - radius) / width) ** 2 / 2)
    return (p["amplitude"] * texture * ring).to(torch.float64)


class Float32Toy(toy.ToyTarget):
    """The toy computed in float32 (its output and derivatives rounded at ~6e-8), declaring
    that precision as data."""

    name = "toy"
    precision = 1e-7

    def render(self, config, params):
        return toy_render(config, params, torch.float32)


class Float32ToyUndeclared(Float32Toy):
    """The float32 toy without a declared precision: its noise is measured only."""

    precision = None


class NormalisedToy(toy.ToyTarget):
    """The toy's texture from unit vectors normalised as v / (|v| + 1e-10)."""

    name = "toy"

    def render(self, config, params):
        return toy_render(config, params, torch.float64, normalise=True)


class SlightlyWrongDistance(toy.ToyTarget):
    """d/d distance_mm 1e-4 too large in both modes (a wrong chain-rule factor)."""

    name = "toy"
    factor = 1 + 1e-4

    def render(self, config, params):
        params = dict(params)
        if "distance_mm" in params:
            params["distance_mm"] = ScaledGradient.apply(params["distance_mm"], self.factor)
        return super().render(config, params)


class SlightlyWrongBackward(toy.ToyTarget):
    """d/d width_px 1e-4 too large in reverse mode only (a hand-written backward)."""

    name = "toy"

    def render(self, config, params):
        params = dict(params)
        if "width_px" in params:
            params["width_px"] = WrongBackward.apply(params["width_px"], 1 + 1e-4)
        return super().render(config, params)


class WrongOnTheFullTexture(toy.ToyTarget):
    """d/d width_px 1e-3 too large, only on the branch texture == 1 (a strength of 1 takes
    another code path in many a simulator)."""

    name = "toy"

    def render(self, config, params):
        params = dict(params)
        if config.texture == 1.0 and "width_px" in params:
            params["width_px"] = ScaledGradient.apply(params["width_px"], 1 + 1e-3)
        return super().render(config, params)


def differentiated(value: torch.Tensor) -> bool:
    """Whether a parameter tensor carries a gradient or a forward-mode tangent."""
    return value.requires_grad or fw.unpack_dual(value).tangent is not None


class WrongWhenAlone(toy.ToyTarget):
    """The derivative in ``name`` 1e-4 too large (``planted``: both modes, or reverse only),
    but only when no other parameter is differentiated: the fast path a simulator takes for one
    differentiated input (braggcheck's own fused kernel has such a path for a tangent on the
    detector plane alone). A nearby point must be measured on the same path."""

    name = "toy"

    def __init__(self, parameter: str, planted: type[ScaledGradient]) -> None:
        self.parameter = parameter
        self.planted = planted

    def render(self, config, params):
        params = dict(params)
        others = [v for n, v in params.items() if n != self.parameter]
        if self.parameter in params and not any(differentiated(v) for v in others):
            params[self.parameter] = self.planted.apply(params[self.parameter], 1 + 1e-4)
        return super().render(config, params)


class ZeroOnOddDetectors(toy.ToyTarget):
    """On detectors with an odd number of pixels the amplitude is detached (its gradient is
    None, read as zero), elsewhere right."""

    name = "toy"

    def render(self, config, params):
        params = dict(params)
        if config.pixels % 2 and "amplitude" in params:
            params["amplitude"] = params["amplitude"].detach()
        return super().render(config, params)


def relative_jitter(target: JitteredToy, config) -> float:
    """The jitter's size at ``config`` (for the test's own sanity check)."""
    base = toy.TOY.render(config, {})
    return float(((target.render(config, {}) - base).abs() / base.abs().clamp_min(
        1e-300)).max())


__all__ = ["Float32Toy", "Float32ToyUndeclared", "JitteredToy", "NormalisedToy",
           "SlightlyWrongBackward", "SlightlyWrongDistance", "WrongOnTheFullTexture",
           "WrongWhenAlone",
           "ZeroOnOddDetectors", "relative_jitter"]
