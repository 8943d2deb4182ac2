"""Hypothesis strategies for the detector: conventions, pivots, sensor, sampling and where the
Bragg spot falls on it.

Two spot modes: ``direct beam`` (the 000 reflection, present for every cell and orientation, is
on the detector; the baseline) and ``reflection`` (a non-zero reflection at a high scattering
angle, put exactly in diffraction condition by
:mod:`braggcheck.testing.nanobragg.strategies.placement`, with the
detector
shifted in its plane so the spot lands on it, far from the beam). Either way the pixel grows
when the spot would otherwise cover the whole detector, so there is Bragg contrast.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import strategies as st

from braggcheck.sim.config import Config
from braggcheck.sim.detector import FRAMES
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import BeamConfig, CrystalConfig, DetectorConfig
from braggcheck.testing.framework import strategy_cache as cst
from braggcheck.testing.nanobragg.strategies.configs import (
    BASELINE_PIXELS,
    BEAM_POSITION,
    DETECTOR_PIXELS,
    GRADIENT_SHAPES,
    SPOT_FRACTION,
    beam_configs,
    crystal_configs,
    parameter_values,
    spot_half_width_mm,
)
from braggcheck.testing.nanobragg.strategies.inputs import (
    flag_expressible,
    masks,
    resolution_cuts,
    source_lists,
)
from braggcheck.testing.nanobragg.strategies.pixels import pixel_feature_fields
from braggcheck.testing.nanobragg.strategies.placement import (
    place_on_ray,
    ray_distance_mm,
    reflection_near,
)
from braggcheck.util.errors import ConfigError

CONVENTIONS = ("mosflm", "denzo", "adxv", "xds", "dials", "custom")
REFLECTION_TWO_THETA = (12.0, 40.0)
"""Scattering angle (deg) of the reflection put on the detector in ``reflection`` mode: high
(the direct beam is tens of mm away), yet the ray meets a perpendicular detector well."""
SAMPLE_BUDGET = 40_000
"""Samples per image (pixels x subpixels x sources x orientations x sensor layers) beyond which
the drawn oversample is lowered: a gradient example stays within tens of milliseconds."""
SENSOR_THICKNESS_UM = PARAMETERS["sensor_thickness_um"].typical_range
SENSOR_ATTENUATION_UM = PARAMETERS["sensor_attenuation_um"].typical_range
SENSOR_LAYERS = (1, 3)
CUSTOM_ROLL_DEG = (-180.0, 180.0)
"""The custom convention's explicit fdet/sdet: MOSFLM's, rolled about the beam by this."""


def _custom_vectors(roll_deg: float) -> dict:
    """fdet, sdet, odet for the custom convention: MOSFLM's detector rolled about the beam (x),
    so the beam still meets it head on (odet = fdet x sdet = +x)."""
    c, s = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    return {"fdet_vector": (0.0, s, c), "sdet_vector": (0.0, -c, s),
            "odet_vector": (1.0, 0.0, 0.0)}


def _samples(crystal: CrystalConfig, beam: BeamConfig, pixels: int, layers: int) -> int:
    sources = max(1, beam.hdiv_steps * beam.vdiv_steps) * beam.dispersion_steps
    orientations = crystal.mosaic_domains * crystal.phi_steps
    return pixels * sources * orientations * layers


@st.composite
def sensors(draw: st.DrawFn) -> dict:
    """A thin detector (the baseline) or a thick sensor: thickness, attenuation, layers."""
    if not draw(cst.booleans()):
        return {}
    fields: dict = {"sensor_thickness_um": draw(cst.floats(*SENSOR_THICKNESS_UM))}
    attenuation = draw(cst.one_of(cst.just(None), cst.floats(*SENSOR_ATTENUATION_UM)))
    if attenuation is not None:
        fields["sensor_attenuation_um"] = attenuation
    fields["sensor_layers"] = draw(cst.sampled_from((None, *range(SENSOR_LAYERS[0],
                                                                 SENSOR_LAYERS[1] + 1))))
    return fields


def _beam_position(draw: st.DrawFn, size_f: float, size_s: float, pixel: float,
                   oversample: int) -> tuple[float | None, float | None, bool]:
    """Where the spot goes, in mm from pixel (0, 0)'s corner (None: the convention's default
    centre); optionally snapped onto a subpixel sample point (h = k = l = 0 exactly there for
    the direct beam: sincg's removable singularity and, for N > 16, its Taylor branch)."""
    position = cst.one_of(cst.just(None), cst.floats(*BEAM_POSITION))
    frac_f, frac_s = draw(position), draw(position)
    on_sample = draw(cst.booleans()) if frac_f is not None and frac_s is not None else False
    f = None if frac_f is None else frac_f * size_f
    s = None if frac_s is None else frac_s * size_s
    if on_sample:
        step = pixel / oversample
        f = (math.floor(f / step) + 0.5) * step
        s = (math.floor(s / step) + 0.5) * step
    return f, s, on_sample


SPOT_MODES = ("direct beam", "reflection")


def detector_configs(crystal: CrystalConfig | None = None,
                     lambda_A: float = 1.0) -> st.SearchStrategy[DetectorConfig]:
    """A small detector holding the direct-beam spot of ``crystal`` at ``lambda_A`` (the
    ``reflection`` mode changes the wavelength, so it is not drawn here)."""
    return configs(crystal=st.just(crystal or CrystalConfig()),
                   beam=st.just(BeamConfig(lambda_A=lambda_A)),
                   modes=("direct beam",)).map(lambda config: config.detector)


@st.composite
def configs(draw: st.DrawFn, shapes=GRADIENT_SHAPES,
            crystal: st.SearchStrategy[CrystalConfig] | None = None,
            beam: st.SearchStrategy[BeamConfig] | None = None,
            modes: tuple[str, ...] = SPOT_MODES) -> Config:
    """A whole valid configuration around the spec baseline, cheap to simulate, with Bragg
    signal on the detector."""
    crystal = draw(crystal if crystal is not None else crystal_configs(tuple(shapes)))
    beam = draw(beam if beam is not None else beam_configs())
    convention = draw(cst.sampled_from(CONVENTIONS))
    pivot = draw(cst.one_of(cst.just(None), cst.sampled_from(("beam", "sample"))))
    sample_pivot = (pivot or FRAMES[convention].pivot) == "sample"
    mode = draw(cst.sampled_from(tuple(modes)))
    reflection = None
    if mode == "reflection":
        reflection = reflection_near(crystal, beam, convention,
                                     draw(cst.floats(*REFLECTION_TWO_THETA)),
                                     draw(cst.floats(0.0, 360.0)))
        if reflection is not None:
            beam = replace(beam, lambda_A=reflection.lambda_A)
    beam = draw(source_lists(beam, convention))  # -sourcefile
    crystal = flag_expressible(crystal, beam.lambda_A)  # -mat round-trips exactly
    edge = cst.one_of(cst.just(BASELINE_PIXELS), cst.integers(*DETECTOR_PIXELS))
    fpixels, spixels = draw(edge), draw(edge)
    distance = draw(parameter_values("distance_mm"))
    fields: dict = {"convention": convention, "pivot": pivot, "distance_mm": distance,
                    "fpixels": fpixels, "spixels": spixels}
    if convention == "custom":
        fields.update(_custom_vectors(draw(cst.one_of(cst.just(0.0),
                                                     cst.floats(*CUSTOM_ROLL_DEG)))))
    fields.update(draw(sensors()))
    fields["point_pixel"] = draw(cst.booleans())
    fields.update(draw(pixel_feature_fields(convention, "sensor_thickness_um" in fields,
                                            fields["point_pixel"])))
    # Rotations over the registry's typical range; with the SAMPLE pivot (or a reflection, whose
    # ray must still meet the plane) squeezed so the spot moves by at most a fifth of the
    # detector edge (the beam-pivot direct beam stays on the beam centre under any rotation).
    rotations = {n: draw(parameter_values(n)) for n in
                 ("detector_rotx_deg", "detector_roty_deg", "detector_rotz_deg", "twotheta_deg")}
    layers = (fields.get("sensor_layers") or 2) if fields.get("sensor_thickness_um") else 1
    drawn_oversample = draw(cst.sampled_from((1, 2, 3, 4)))
    budget = SAMPLE_BUDGET / _samples(crystal, beam, fpixels * spixels, layers)
    fields["oversample"] = max(1, min(drawn_oversample, math.isqrt(max(1, int(budget)))))
    direction = reflection.direction if reflection is not None else None
    ray_mm = distance
    if direction is not None:
        probe = _assemble(crystal, beam, {**fields, "pixel_mm": 0.1, **rotations})
        ray = None if probe is None else ray_distance_mm(probe, direction)
        if ray is None:  # the drawn rotations turn the plane away: face the ray unrotated
            rotations = dict.fromkeys(rotations, 0.0)
            probe = _assemble(crystal, beam, {**fields, "pixel_mm": 0.1, **rotations})
            ray = None if probe is None else ray_distance_mm(probe, direction)
        if ray is None:
            direction = None
        else:
            ray_mm = ray
    half_width = spot_half_width_mm(crystal, float(beam.lambda_A), ray_mm)
    if direction is not None:
        half_width /= 0.5  # the ray meets the plane obliquely (cosine >= 0.5): spots stretch
    pixel = max(0.1, half_width / (SPOT_FRACTION * min(fpixels, spixels)))
    size_f, size_s = fpixels * pixel, spixels * pixel
    at_f, at_s, _ = _beam_position(draw, size_f, size_s, pixel, fields["oversample"])
    fields["pixel_mm"] = pixel
    if direction is None:
        limit = None
        if sample_pivot:
            limit = math.degrees(math.atan(0.2 * min(size_f, size_s) / distance))
            if at_f is not None:
                fields["close_f_mm"] = at_f
            if at_s is not None:
                fields["close_s_mm"] = at_s
        else:
            for name, value in (("beam_center_f_mm", at_f), ("beam_center_s_mm", at_s)):
                if value is not None:
                    low, high = PARAMETERS[name].typical_range
                    fields[name] = min(max(value, low), high)
        if limit is not None:
            rotations = {n: angle * min(1.0, limit / max(abs(x) for x in
                                                          PARAMETERS[n].typical_range))
                         for n, angle in rotations.items()}
        config = _assemble(crystal, beam, {**fields, **rotations})
    else:
        config = _assemble(crystal, beam, {**fields, **rotations})
        if config is not None:
            config = place_on_ray(config, direction, size_f / 2 if at_f is None else at_f,
                                  size_s / 2 if at_s is None else at_s)
    if config is None:  # a rare placement the simulator refuses: the baseline detector
        config = Config(crystal=crystal, beam=beam,
                        detector=DetectorConfig(fpixels=BASELINE_PIXELS,
                                                spixels=BASELINE_PIXELS))
    config = draw(masks(config))  # -mask
    if "tophat" in shapes:  # -dmin is a step: only for the checks that do not differentiate
        config = draw(resolution_cuts(config))
    return config


def _assemble(crystal: CrystalConfig, beam: BeamConfig, fields: dict) -> Config | None:
    try:
        return Config(crystal=crystal, beam=beam, detector=DetectorConfig(**fields))
    except ConfigError:
        return None
