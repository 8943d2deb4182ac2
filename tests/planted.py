"""Planted-bug helpers shared by the mutation-style tests."""

from __future__ import annotations

import torch


class ScaledGradient(torch.autograd.Function):
    """Identity forward; backward and forward mode multiply the derivative by ``factor``."""

    @staticmethod
    def forward(ctx, value, factor):
        ctx.factor = factor
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None

    @staticmethod
    def jvp(ctx, tangent, _):
        return tangent * ctx.factor
