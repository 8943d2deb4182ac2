"""Value and gradient stay finite over the valid space, its edges included, and are right at
the removable singularities (the direct-beam pixel, where h = k = l = 0 exactly)."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck import PARAMETERS, BeamConfig, Config, CrystalConfig, DetectorConfig, simulate
from braggcheck.sim.state import baseline_value

PIXEL_MM = 0.1
# Pixel (2, 2)'s centre lies on the direct beam: h = k = l = 0 there exactly.
BASE = Config(
    crystal=CrystalConfig(n_a=3, n_b=3, n_c=3),
    detector=DetectorConfig(fpixels=5, spixels=5, pixel_mm=PIXEL_MM, oversample=1,
                            beam_center_f_mm=2.5 * PIXEL_MM, beam_center_s_mm=2.5 * PIXEL_MM),
)
EDGES: dict[str, dict[str, object]] = {
    "baseline": {},
    "round": {"shape": "round"},
    "gauss": {"shape": "gauss"},
    "tophat": {"shape": "tophat"},
    "point_pixel": {"point_pixel": True},
    "mosaic_0_three_domains": {"mosaic_spread_deg": 0.0, "mosaic_domains": 3},
    "mosaic_near_90": {"mosaic_spread_deg": 89.99, "mosaic_domains": 3},
    "polarization_+1": {"polarization": 1.0},
    "polarization_-1": {"polarization": -1.0},
    "polar_along_beam": {"beam": BeamConfig(polar_vector=(1.0, 0.0, 0.0))},
    "fluence_0": {"fluence": 0.0},
    "misset_180": {"misset_rot_x": 180.0, "misset_rot_y": -180.0, "misset_rot_z": 180.0},
    "flat_cell": {"cell_alpha": 0.5, "cell_beta": 90.0, "cell_gamma": 90.0},
    "cell_angle_near_180": {"cell_alpha": 179.5},
    "angles_sum_near_360": {"cell_alpha": 119.9, "cell_beta": 119.9, "cell_gamma": 119.9},
    "tiny_cell_and_wavelength": {"cell_a": 1e-3, "lambda_A": 1e-3},
    "tiny_distance": {"distance_mm": 1e-3},
    "huge_distance": {"distance_mm": 1e6},
    "tilted_xds": {"convention": "xds", "detector_roty_deg": 80.0, "twotheta_deg": 30.0},
    "phi_full_turn": {"phi_start_deg": 360.0, "phi_steps": 2, "phi_step_deg": 0.0},
    "sources": {"beam": BeamConfig(hdiv_range_mrad=1.0, hdiv_steps=3, vdiv_range_mrad=1.0,
                                   vdiv_steps=3, dispersion_pct=1.0, dispersion_steps=3)},
}


def _params(config: Config, shift: dict[str, float] | None = None) -> dict[str, torch.Tensor]:
    shift = shift or {}
    return {name: torch.tensor(baseline_value(config, name) + shift.get(name, 0.0),
                               dtype=torch.float64, requires_grad=True) for name in PARAMETERS}


def _value_and_gradient(config: Config, shift: dict[str, float] | None = None
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    params = _params(config, shift)
    image = simulate(config, params)
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(1),
                          dtype=torch.float64)
    grads = torch.autograd.grad((image * weights).sum(), list(params.values()),
                                allow_unused=True)
    return image, {n: torch.zeros(()) if g is None else g
                   for n, g in zip(params, grads, strict=True)}


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_value_and_gradient_are_finite_at_the_edges(edge: str) -> None:
    config = BASE.replace(**EDGES[edge])
    image, grads = _value_and_gradient(config)
    assert bool(torch.isfinite(image).all())
    bad = {n: float(g) for n, g in grads.items() if not math.isfinite(float(g))}
    assert not bad, bad
    if edge != "fluence_0":  # a blank image has no gradient; every other edge has one
        assert any(float(g) != 0.0 for g in grads.values())


@pytest.mark.parametrize("shape", ["square", "round", "gauss"])
def test_the_direct_beam_pixel_is_continuous_in_value_and_gradient(shape: str) -> None:
    """At h = k = l = 0 the lattice factors are limits (0/0); they must match a pixel 1e-7 mm
    away, and so must the derivative along the detector."""
    config = BASE.replace(shape=shape)
    at, grads_at = _value_and_gradient(config)
    at = at.detach()
    near, grads_near = _value_and_gradient(config, {"beam_center_f_mm": 1e-7})
    near = near.detach()
    assert abs(float(at[2, 2]) - float(near[2, 2])) <= 1e-6 * float(at[2, 2])
    for name in ("beam_center_f_mm", "cell_a", "lambda_A", "distance_mm"):
        g_at, g_near = float(grads_at[name]), float(grads_near[name])
        assert abs(g_at - g_near) <= 1e-4 * max(abs(g_at), 1e-12 * float(at.abs().max())), name


def test_every_parameter_whose_derivative_can_be_undefined_says_where() -> None:
    """The registry's ``undefined`` text is what docs/errors.md explains; the image is linear
    in fluence and in the Kahn factor, so those two have none."""
    silent = sorted(n for n, p in PARAMETERS.items() if not p.undefined)
    assert silent == ["fluence", "polarization"]
