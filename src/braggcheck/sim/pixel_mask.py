"""Pixel masks (nanoBragg's ``-mask``): pixels flagged 0 are never evaluated.

A masked pixel is exactly 0 and has no dependence on anything, so its gradient is exactly 0
(it is not computed and multiplied by 0, which would turn an infinite derivative into NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from braggcheck.util.errors import ConfigError


@dataclass(frozen=True, eq=False)
class PixelMask:
    kept: np.ndarray
    """(spixels, fpixels) booleans: True where the pixel is evaluated."""

    def __post_init__(self) -> None:
        kept = self.kept
        if not isinstance(kept, np.ndarray) or kept.ndim != 2 or kept.dtype != np.bool_:
            raise ConfigError("mask: valid: a 2-D numpy array of booleans (spixels, fpixels), "
                              f"got {type(kept).__name__}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PixelMask) and np.array_equal(self.kept, other.kept)

    def __hash__(self) -> int:
        return hash(self.kept.tobytes())


def check_mask_shape(mask: PixelMask | None, fpixels: int, spixels: int) -> None:
    if mask is None:
        return
    if not isinstance(mask, PixelMask):
        raise ConfigError(f"mask: expected a PixelMask or None, got {type(mask).__name__}")
    if mask.kept.shape != (spixels, fpixels):
        height, width = mask.kept.shape
        raise ConfigError(f"mask: {width} x {height} pixels (fast x slow) for a detector of "
                          f"{fpixels} x {spixels}; valid: the detector's size")


def kept_pixels(mask: PixelMask | None, slow: torch.Tensor, fast: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The pixels (slow, fast) the mask keeps, and which of the given ones they are."""
    if mask is None:
        return slow, fast, None
    kept = torch.as_tensor(mask.kept, device=slow.device)[slow.long(), fast.long()]
    return slow[kept], fast[kept], kept


def placed(pieces: list[torch.Tensor], kept: torch.Tensor | None,
           tensors: list[torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    """The evaluated pixels put back among the masked ones (0)."""
    if kept is None:
        return torch.cat(pieces)
    values = torch.cat(pieces) if pieces else like.new_zeros(0)
    out = values.new_zeros(kept.shape[0]).index_put((kept.nonzero()[:, 0],), values)
    if not pieces:  # all masked: keep the graph so that backward() still runs (all zero)
        out = out + sum((t * 0).sum() for t in tensors if t.requires_grad)
    return out
