"""Planted-bug helpers shared by the mutation-style tests.

In the ``setup_context`` form, so that ``torch.func.jvp`` (the Tier-2 jvp check) runs them too.
"""

from __future__ import annotations

import torch


class ScaledGradient(torch.autograd.Function):
    """Identity forward; backward and forward mode multiply the derivative by ``factor``."""

    @staticmethod
    def forward(value, factor):
        return value.clone()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.factor = inputs[1]

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None

    @staticmethod
    def jvp(ctx, tangent, _):
        return tangent * ctx.factor


class WrongBackward(ScaledGradient):
    """Identity; reverse mode scales the derivative by ``factor``, forward mode is right."""

    @staticmethod
    def jvp(ctx, tangent, _):
        return tangent


class IgnoredOverride:
    """A target wrapper that ignores the override of one parameter entirely: ``render`` drops
    it, so the output keeps the configuration's value and no graph (analytic and numerical
    derivatives both 0). Every other member is the wrapped target's; the name stays the same."""

    def __init__(self, target, ignored: str) -> None:
        if ignored not in target.parameters:
            raise ValueError(f"ignored: {ignored!r} is no parameter of target {target.name}")
        self.target = target
        self.ignored = ignored

    def __getattr__(self, attribute):
        return getattr(self.target, attribute)

    def render(self, config, params):
        return self.target.render(config, {n: v for n, v in params.items()
                                           if n != self.ignored})
