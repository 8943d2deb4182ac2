"""How a target's output becomes a scalar loss: the pixel weights of a projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from braggcheck.testing.framework.probe import pixel_weights
from braggcheck.util.errors import ConfigError

PROJECTIONS = ("normal", "positive", "pixel", "rank")


@dataclass(frozen=True)
class Projection:
    """How the image becomes a scalar loss: pixel weights.

    ``normal``: signed Gaussian weights from ``seed`` (no pixel hides); ``positive``: their
    absolute values (a weighted photon count); ``pixel``: one pixel, ``(slow, fast)`` taken
    modulo the image shape; ``rank``: the ``rank``-th brightest pixel (0: the brightest), which
    needs the image.
    """

    kind: Literal["normal", "positive", "pixel", "rank"] = "normal"
    seed: int = 0
    pixel: tuple[int, int] = (0, 0)
    rank: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PROJECTIONS:
            raise ConfigError(f"projection kind = {self.kind!r}; valid: {', '.join(PROJECTIONS)}")

    def weights(self, shape: tuple[int, ...], image: torch.Tensor | None = None
                ) -> torch.Tensor:
        if self.kind in ("pixel", "rank"):
            weights = torch.zeros(shape, dtype=torch.float64)
            if self.kind == "rank":
                if image is None:
                    raise ValueError("a 'rank' projection needs the image")
                # Stable sort: ties keep pixel order, so the choice is reproducible.
                order = torch.sort(image.detach().reshape(-1), descending=True, stable=True)
                weights.view(-1)[int(order.indices[self.rank % image.numel()])] = 1.0
            elif len(shape) == 2:
                weights[self.pixel[0] % shape[0], self.pixel[1] % shape[1]] = 1.0
            else:  # any other shape: the first index counts through the flattened output
                weights.view(-1)[self.pixel[0] % weights.numel()] = 1.0
            return weights
        weights = pixel_weights(shape, self.seed)
        return weights.abs() if self.kind == "positive" else weights
