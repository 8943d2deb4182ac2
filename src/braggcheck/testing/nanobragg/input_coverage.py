"""Code-path regions of the file-input and cut-off features (part of coverage.REGIONS)."""

from __future__ import annotations

from braggcheck.sim.config import Config

INPUT_REGIONS = (
    "orientation matrix (-mat)", "orientation matrix with misset",
    "source file (-sourcefile)", "source file, several wavelengths",
    "pixel mask (-mask)", "resolution cut (-dmin)",
)
DMIN_ONLY = ("resolution cut (-dmin)",)
"""Drawn only for the non-gradient checks (the cut is a step), like TOPHAT."""


def input_regions(config: Config) -> list[str]:
    crystal, beam, det = config.crystal, config.beam, config.detector
    labels = []
    if crystal.reciprocal_matrix is not None:
        labels.append("orientation matrix (-mat)")
        if any(float(getattr(crystal, f"misset_rot_{x}")) != 0 for x in "xyz"):
            labels.append("orientation matrix with misset")
    if beam.sources is not None:
        labels.append("source file (-sourcefile)")
        if len({w if w is not None else float(beam.lambda_A)
                for w in beam.sources.wavelengths_A}) > 1:
            labels.append("source file, several wavelengths")
    if det.mask is not None:
        labels.append("pixel mask (-mask)")
    if det.dmin_A > 0:
        labels.append("resolution cut (-dmin)")
    return labels
