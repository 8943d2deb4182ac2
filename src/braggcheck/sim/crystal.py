"""Crystal geometry: unit cell to real and reciprocal bases, misset, spindle and mosaic rotations.

The construction follows the reference program step by step (physics brief section 2.1),
including its non-textbook c*_z and the rescaling with the formula volume, because the images
only agree to 1e-6 if the same vectors come out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from braggcheck.sim.constants import ANGSTROM, DEG
from braggcheck.sim.rng import mosaic_draws
from braggcheck.sim.rotations import axis_angle_matrix, rotate_xyz, unit


@dataclass(frozen=True)
class CellBasis:
    """Real vectors (rows of ``real``, metres) and reciprocal vectors (rows, 1/Angstrom)."""

    real: torch.Tensor
    reciprocal: torch.Tensor
    volume_A3: torch.Tensor


def cell_volume(
    a: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
    alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor,
) -> torch.Tensor:
    """Volume (A^3) by the half-angle formula the reference program uses (angles in radians)."""
    s = (alpha + beta + gamma) / 2
    skew = torch.sin(s) * torch.sin(s - alpha) * torch.sin(s - beta) * torch.sin(s - gamma)
    return 2 * a * b * c * torch.sqrt(torch.abs(skew))


def cell_basis(state: dict[str, torch.Tensor], matrix: torch.Tensor | None = None) -> CellBasis:
    """Build the oriented cell from the registry values in ``state`` (Angstrom, degrees).

    ``matrix`` (rows a*, b*, c*, from ``-mat``) replaces the cell's default orientation; the
    misset, lengths and volume then apply to it exactly as to the default one.
    """
    a, b, c = state["cell_a"], state["cell_b"], state["cell_c"]
    alpha, beta, gamma = (state[k] * DEG for k in ("cell_alpha", "cell_beta", "cell_gamma"))
    volume = cell_volume(a, b, c, alpha, beta, gamma)
    sin_a, sin_b, sin_g = torch.sin(alpha), torch.sin(beta), torch.sin(gamma)
    cos_a, cos_b, cos_g = torch.cos(alpha), torch.cos(beta), torch.cos(gamma)
    a_star_len = b * c * sin_a / volume
    b_star_len = c * a * sin_b / volume
    c_star_len = a * b * sin_g / volume
    cos_alpha_star = _clamp_cosine((cos_b * cos_g - cos_a) / (sin_b * sin_g))
    cos_beta_star = _clamp_cosine((cos_g * cos_a - cos_b) / (sin_g * sin_a))
    cos_gamma_star = _clamp_cosine((cos_a * cos_b - cos_g) / (sin_a * sin_b))
    # sin(gamma*) <= 1 is attained only at its maximum, where the derivative is 0 anyway.
    sin_gamma_star = torch.clamp(c / (volume * a_star_len * b_star_len), max=1.0)
    zero = torch.zeros_like(a_star_len)
    reciprocal = torch.stack(
        (
            torch.stack((a_star_len, zero, zero)),
            torch.stack((b_star_len * cos_gamma_star, b_star_len * sin_gamma_star, zero)),
            torch.stack(
                (
                    c_star_len * cos_beta_star,
                    c_star_len * (cos_alpha_star - cos_beta_star * cos_gamma_star)
                    / sin_gamma_star,
                    c_star_len * volume / (a * b * c * sin_gamma_star),
                )
            ),
        )
    )
    if matrix is not None:
        reciprocal = matrix
    reciprocal = rotate_xyz(
        reciprocal,
        state["misset_rot_x"] * DEG,
        state["misset_rot_y"] * DEG,
        state["misset_rot_z"] * DEG,
    )
    a_star, b_star, c_star = reciprocal.unbind(0)
    real = torch.stack(
        (
            a * unit(torch.linalg.cross(b_star, c_star)),
            b * unit(torch.linalg.cross(c_star, a_star)),
            c * unit(torch.linalg.cross(a_star, b_star)),
        )
    )
    ra, rb, rc = real.unbind(0)
    reciprocal = torch.stack(
        (
            torch.linalg.cross(rb, rc) / volume,
            torch.linalg.cross(rc, ra) / volume,
            torch.linalg.cross(ra, rb) / volume,
        )
    )
    return CellBasis(real=real * ANGSTROM, reciprocal=reciprocal, volume_A3=volume)


def _clamp_cosine(cosine: torch.Tensor) -> torch.Tensor:
    """The reference program sets a cosine whose square exceeds 1 to +1 (degenerate cells)."""
    return torch.where(cosine * cosine > 1, torch.ones_like(cosine), cosine)


def phi_angles(state: dict[str, torch.Tensor], step_deg: float, steps: int) -> torch.Tensor:
    """Spindle angles (radians) sampled at the start of each phi step."""
    offsets = torch.arange(steps, dtype=state["phi_start_deg"].dtype,
                           device=state["phi_start_deg"].device) * step_deg
    return (state["phi_start_deg"] + offsets) * DEG


def mosaic_matrices(
    spread_deg: torch.Tensor, domains: int, seed: int
) -> torch.Tensor:
    """Rotation matrices (M, 3, 3) of the mosaic domains; domain 0 is the identity."""
    axes, factors = mosaic_draws(seed, domains)
    axes_t = torch.as_tensor(axes, dtype=spread_deg.dtype, device=spread_deg.device)
    factors_t = torch.as_tensor(factors, dtype=spread_deg.dtype, device=spread_deg.device)
    return axis_angle_matrix(axes_t, spread_deg * DEG * factors_t)


def orientations(
    real: torch.Tensor,
    spindle_axis: torch.Tensor,
    phis: torch.Tensor,
    mosaic: torch.Tensor,
) -> torch.Tensor:
    """Real bases for every (phi step, mosaic domain): shape (T*M, 3 vectors, 3 components).

    Each basis vector is rotated about the spindle by phi, then by the domain's matrix.
    """
    spindle = axis_angle_matrix(unit(spindle_axis), phis)  # (T, 3, 3)
    combined = mosaic[None, :, :, :] @ spindle[:, None, :, :]  # (T, M, 3, 3)
    oriented = torch.einsum("tmjk,ik->tmij", combined, real)
    return oriented.reshape(-1, 3, 3)


def reciprocal_volume_check(basis: CellBasis) -> torch.Tensor:
    """Triple product a.(b x c) in A^3 (differs slightly from the formula volume V)."""
    ra, rb, rc = (basis.real / ANGSTROM).unbind(0)
    return (ra * torch.linalg.cross(rb, rc)).sum()

