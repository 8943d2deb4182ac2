"""Differentiable rotations of 3-vectors (last axis of size 3).

Every rotation is applied unconditionally: the reference program skips an axis whose angle is
exactly 0, which leaves the value unchanged but would lose the derivative at that angle.
"""

from __future__ import annotations

import torch


def rotate_x(v: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    x, y, z = v.unbind(-1)
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack((x, y * c - z * s, y * s + z * c), dim=-1)


def rotate_y(v: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    x, y, z = v.unbind(-1)
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack((x * c + z * s, y, -x * s + z * c), dim=-1)


def rotate_z(v: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    x, y, z = v.unbind(-1)
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack((x * c - y * s, x * s + y * c, z), dim=-1)


def rotate_xyz(
    v: torch.Tensor, rx: torch.Tensor, ry: torch.Tensor, rz: torch.Tensor
) -> torch.Tensor:
    """Active right-handed rotation about lab x, then y, then z (angles in radians)."""
    return rotate_z(rotate_y(rotate_x(v, rx), ry), rz)


def rotate_axis(v: torch.Tensor, axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues rotation of ``v`` about the unit vector ``axis`` by ``angle`` (radians).

    ``angle`` may carry leading batch dimensions; they broadcast against ``v``'s.
    """
    c = torch.cos(angle)[..., None]
    s = torch.sin(angle)[..., None]
    along = (v * axis).sum(-1, keepdim=True)
    return v * c + torch.linalg.cross(axis.expand_as(v), v, dim=-1) * s + axis * along * (1 - c)


def axis_angle_matrix(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """The 3x3 matrix of :func:`rotate_axis`; ``axis`` (..., 3) and ``angle`` (...) broadcast."""
    c = torch.cos(angle)[..., None, None]
    s = torch.sin(angle)[..., None, None]
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    cross = torch.stack(
        (
            torch.stack((zero, -z, y), -1),
            torch.stack((z, zero, -x), -1),
            torch.stack((-y, x, zero), -1),
        ),
        dim=-2,
    )
    eye = torch.eye(3, dtype=axis.dtype, device=axis.device)
    outer = axis[..., :, None] * axis[..., None, :]
    return c * eye + (1 - c) * outer + s * cross


def safe_norm(v: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """Euclidean norm whose gradient is finite (zero) at the zero vector."""
    squared = (v * v).sum(dim=dim, keepdim=keepdim)
    positive = squared > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, squared, 1.0)), 0.0)


def unit(v: torch.Tensor) -> torch.Tensor:
    """``v / |v|``; the zero vector stays zero, with a finite gradient."""
    norm = safe_norm(v, keepdim=True)
    return v / torch.where(norm > 0, norm, 1.0)
