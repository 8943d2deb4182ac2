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
