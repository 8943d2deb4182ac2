"""Mutants of fallback and guard branches whose forward image is unchanged: only a gradient
(or forward-mode) check that draws a case on that branch can see them, never the reference
program. Each one detaches a term on one branch (the removable-singularity series of sincg
and of the round crystal, the recomputed-chunk backward, the -dmin polarization, point
pixels, the thick sensor's obliquity) or drops a tangent on one branch of the fused
forward mode."""

from __future__ import annotations

from braggcheck.testing.nanobragg.mutation.mutant import Mutant

PH, SI = "sim/physics.py", "sim/simulator.py"

FALLBACK_MUTANTS: tuple[Mutant, ...] = (
    Mutant("sincg-series-detached", PH, "    x2 = x * x\n    series = cells",
           "    x2 = (x * x).detach()\n    series = cells", "detached",
           "sincg (N > 16, plain path): the Taylor series used within N|pi y| < 0.01 of a node "
           "has no derivative (value unchanged)"),
    Mutant("round-series-detached", PH, "torch.where(small, series, exact)",
           "torch.where(small, series.detach(), exact)", "detached",
           "round crystal: the series used near a Bragg node (x^2 < 1e-2) has no derivative "
           "(value unchanged)"),
    Mutant("recomputed-chunk-unweighted", SI, "[aliases[i] for i in wanted], grad,",
           "[aliases[i] for i in wanted], torch.ones_like(grad),", "factor",
           "recomputed-chunk backward: the incoming per-pixel gradient is replaced by ones "
           "(chunks past the stored ones only; value unchanged)"),
    Mutant("dmin-polarization-detached", SI,
           "value = value * polarization_of(incident, direction, det.polar, scene.kahn)",
           "value = value * polarization_of(incident, direction.detach(), det.polar, "
           "scene.kahn)", "detached",
           "-dmin: the polarization of the first sample within the cut has no derivative in "
           "the diffracted direction (value unchanged)"),
    Mutant("point-pixel-omega-detached", SI, "omega = inverse * inverse",
           "omega = inverse.detach() * inverse", "detached",
           "point pixels: one factor of the 1/R^2 solid angle is detached (half its "
           "derivative; value unchanged)"),
    Mutant("capture-obliquity-detached", "sim/sensor.py", "rho = normal @ direction",
           "rho = (normal @ direction).detach()", "detached",
           "thick sensor: the capture fraction's obliquity has no derivative (value "
           "unchanged)"),
    Mutant("jvp-plane-only-dropped", "sim/fused_pixels.py",
           "                if d_plane is not None:\n"
           "                    d_position = d_position + d_plane @ offsets",
           "                if d_plane is not None and d_pix0 is not None:\n"
           "                    d_position = d_position + d_plane @ offsets", "detached",
           "fused forward mode: a tangent on the detector plane with none on pix0 (only the "
           "sensor thickness differentiated) is dropped (reverse mode and value unchanged)"),
)
