"""Mutants of the geometry: crystal cell and orientations, detector placement, the source
grid, the thick sensor and the rotations."""

from __future__ import annotations

from braggcheck.testing.nanobragg.mutation.mutant import Mutant

CR, DE, SO, SE, RO = ("sim/crystal.py", "sim/detector.py", "sim/sources.py", "sim/sensor.py",
                      "sim/rotations.py")

GEOMETRY_MUTANTS: tuple[Mutant, ...] = (
    # --- crystal.py ----------------------------------------------------------------------
    Mutant("cos-gamma-star-sign", CR, "(cos_a * cos_b - cos_g) / (sin_a * sin_b)",
           "(cos_g - cos_a * cos_b) / (sin_a * sin_b)", "sign",
           "reciprocal cell: cos(gamma*) with the wrong sign (non-90 degree cells)"),
    Mutant("volume-factor", CR, "return 2 * a * b * c * torch.sqrt(torch.abs(skew))",
           "return a * b * c * torch.sqrt(torch.abs(skew))", "factor",
           "cell volume: the half-angle formula's factor 2 is forgotten"),
    Mutant("mosaic-phi-order", CR, "combined = mosaic[None, :, :, :] @ spindle[:, None, :, :]",
           "combined = spindle[:, None, :, :] @ mosaic[None, :, :, :]", "composition",
           "orientations: the mosaic rotation applied before the spindle rotation"),
    Mutant("misset-axis-order", CR, 'state["misset_rot_x"] * DEG,\n        state["misset_rot_y"]'
           ' * DEG,\n        state["misset_rot_z"] * DEG,',
           'state["misset_rot_z"] * DEG,\n        state["misset_rot_y"] * DEG,\n'
           '        state["misset_rot_x"] * DEG,', "axis-order",
           "misset: the x and z angles swapped"),
    Mutant("phi-midpoint", CR, "* step_deg\n    return", "* step_deg + step_deg / 2\n    return",
           "boundary", "spindle angles sampled at the middle of each phi step, not its start"),
    Mutant("mosaic-spread-detached", CR, "spread_deg * DEG * factors_t",
           "spread_deg.detach() * DEG * factors_t", "detached",
           "mosaic matrices: the spread is detached"),
    # --- detector.py ---------------------------------------------------------------------
    Mutant("rho-with-twotheta", DE, "rho = (beam * tilted[2]).sum()",
           "rho = (beam * swung[2]).sum()", "convention",
           "distance ratio rho includes the two-theta swing (the reference leaves it out)"),
    Mutant("beam-center-swapped", DE,
           '-state["beam_center_f_mm"] * MM * f_rot\n            - state["beam_center_s_mm"]',
           '-state["beam_center_s_mm"] * MM * f_rot\n            - state["beam_center_f_mm"]',
           "axis-order", "beam pivot: the fast and slow beam centres swapped"),
    Mutant("distance-detached", DE, 'torch.abs(rho * state["distance_mm"] * MM)',
           'torch.abs(rho * state["distance_mm"].detach() * MM)', "detached",
           "detector placement: the distance is detached"),
    Mutant("xds-pivot", DE, '(1, 0, 0), "sample"),\n    "dials"', '(1, 0, 0), "beam"),\n'
           '    "dials"', "convention", "the XDS convention forces the beam pivot, not sample"),
    Mutant("mosflm-beam-centre", DE,
           "return (size_f + pixel) / 2 + pixel / 2, (size_s + pixel) / 2 + pixel / 2",
           "return (size_f + pixel) / 2, (size_s + pixel) / 2", "convention",
           "MOSFLM default beam centre without its extra half pixel"),
    # --- sources.py ----------------------------------------------------------------------
    Mutant("dispersion-centre", SO, "return 1.0 + step * index - width / 2.0",
           "return 1.0 + step * index - width", "boundary",
           "wavelength grid not centred on lambda (offset by the full width)"),
    Mutant("divergence-axes-swapped", SO,
           "position = rotate_axis(position, polar, angles[:, 1])",
           "position = rotate_axis(position, polar, angles[:, 0])", "axis-order",
           "source grid: the horizontal angle used about both axes"),
    Mutant("wavelength-unit", SO, "wavelength = lambda_A * ANGSTROM *",
           "wavelength = lambda_A * 1e-9 *", "convention",
           "wavelength read as nanometres instead of Angstrom"),
    Mutant("divergence-detached", SO, "angles * (divergence_mrad / nominal)",
           "angles * (divergence_mrad.detach() / nominal)", "detached",
           "source grid: the divergence is detached"),
    # --- sensor.py -----------------------------------------------------------------------
    Mutant("capture-first-layer", SE, "last = sensor.layers - 1", "last = 0", "boundary",
           "capture fraction of the first layer instead of the last"),
    Mutant("capture-obliquity", SE,
           "torch.exp(-front / rho) - torch.exp(-back / rho)",
           "torch.exp(-front * rho) - torch.exp(-back * rho)", "factor",
           "capture fraction: the path length multiplies by the obliquity instead of dividing"),
    # --- rotations.py --------------------------------------------------------------------
    Mutant("rotate-y-sign", RO, "(x * c + z * s, y, -x * s + z * c)",
           "(x * c - z * s, y, x * s + z * c)", "sign",
           "rotation about y by minus the angle"),
    Mutant("rodrigues-cross-order", RO, "torch.linalg.cross(axis.expand_as(v), v, dim=-1) * s",
           "torch.linalg.cross(v, axis.expand_as(v), dim=-1) * s", "sign",
           "Rodrigues rotation (detector two-theta, sources) by minus the angle"),
    Mutant("axis-matrix-transposed", RO, "return c * eye + (1 - c) * outer + s * cross",
           "return c * eye + (1 - c) * outer - s * cross", "axis-order",
           "axis-angle matrix (spindle, mosaic) transposed"),
    Mutant("safe-norm-guard", RO, "torch.sqrt(torch.where(positive, squared, 1.0))",
           "torch.sqrt(squared)", "guard",
           "normalising a zero vector: sqrt of 0 taken (NaN gradient through the unused "
           "branch)"),
)
