"""A target's output as a scalar function of its scaled parameters: what every gradient
check differentiates.

A :class:`Probe` turns a target, a configuration and a set of parameters into a scalar function
of a float64 vector ``x``. Each entry of ``x`` is a parameter divided by its spec ``scale``, so
a finite-difference step of 1e-6 in ``x`` is a step relative to the parameter's magnitude (an
absolute 1e-6 on a fluence of 1e29 would be no step at all). The loss goes through the whole
output: a fixed random weighting of every element, divided by the weighted sum of the baseline
output so the loss is of order 1 whatever its units.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from braggcheck.testing.framework.target import Target


def pixel_weights(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """A fixed random projection of the image: signed normal weights, so no pixel hides."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64)


@dataclass(frozen=True)
class Probe:
    """A scalar loss through a target's output, as a function of scaled parameters."""

    config: Any
    names: tuple[str, ...]
    weight_seed: int = 0
    _cache: dict = field(default_factory=dict, compare=False, repr=False)
    weights: torch.Tensor | None = field(default=None, compare=False, repr=False)
    """Weights of the output's shape; None means ``pixel_weights(shape, weight_seed)``. The
    property suite passes weights drawn by Hypothesis (e.g. one bright pixel)."""
    target: Target = field(kw_only=True)
    held: tuple[tuple[str, float], ...] = field(default=(), kw_only=True)
    """Other parameters set to these (unscaled) values as plain tensors, neither differentiated
    nor carrying a tangent: a target takes the same path as for ``names`` alone (a simulator
    may have a path for one differentiated input), at moved values."""

    def __post_init__(self) -> None:
        unknown = [n for n in (*self.names, *(n for n, _ in self.held))
                   if n not in self.target.parameters]
        if unknown:
            raise KeyError(f"not parameters of target {self.target.name}: {unknown}")

    @property
    def scales(self) -> torch.Tensor:
        return torch.tensor([self.target.parameters[n].scale for n in self.names],
                            dtype=torch.float64)

    def point(self) -> torch.Tensor:
        """The configuration's own values, scaled: where the check is made."""
        values = [self.target.value(self.config, n) for n in self.names]
        return torch.tensor(values, dtype=torch.float64) / self.scales

    def params(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        scaled = x * self.scales
        held = {name: torch.tensor(value, dtype=torch.float64) for name, value in self.held}
        return {**held, **{name: scaled[i] for i, name in enumerate(self.names)}}

    def holding(self, held: dict[str, float]) -> Probe:
        """This probe with other parameters held at ``held``; its loss keeps this probe's
        weights and normalisation, so the losses at several holdings are one function's."""
        self.normaliser()
        return replace(self, held=tuple(held.items()), _cache=dict(self._cache))

    def image(self, x: torch.Tensor | None = None) -> torch.Tensor:
        x = self.point() if x is None else x
        return self.target.render(self.config, self.params(x))

    def normaliser(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(weights, norm): the loss is sum(weights * image) / norm, norm = sum |w| I(point)."""
        if "weights" not in self._cache:
            with torch.no_grad():
                baseline = self.image()
            weights = self.weights
            if weights is None:
                weights = pixel_weights(tuple(baseline.shape), self.weight_seed)
            norm = (weights.abs() * baseline).sum().clamp_min(1e-300)
            self._cache["weights"] = weights
            self._cache["norm"] = norm
            self._cache["baseline"] = baseline
        return self._cache["weights"], self._cache["norm"]

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        weights, norm = self.normaliser()
        return (weights * self.image(x)).sum() / norm

    def magnitude(self, x: torch.Tensor | None = None) -> float:
        """sum |w| I(x) / norm: the size of the terms the loss sums (1 at the probe's point)."""
        weights, norm = self.normaliser()
        with torch.no_grad():
            at_point = x is None or torch.equal(x.detach(), self.point())
            image = self.baseline_image() if at_point else self.image(x.detach())
            return float((weights.abs() * image).sum() / norm)

    def baseline_image(self) -> torch.Tensor:
        self.normaliser()
        return self._cache["baseline"]

    def envelope(self) -> float:
        """How much larger rounding errors can be than the loss itself: sum |w| max|I| /
        sum |w| I. An element's rounding error scales with the output's peak, not with its own
        value (a pixel 1e-30 of the peak has no relative precision left), so a loss made of
        dim elements is noisier, relative to itself, than its value suggests."""
        weights, _ = self.normaliser()
        image = self.baseline_image()
        seen = float((weights.abs() * image).sum())
        return float(weights.abs().sum() * image.abs().max()) / max(seen, 1e-300)
