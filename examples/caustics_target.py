"""caustics (a PyTorch gravitational-lensing simulator from the package index) as a target.

A small strong-lensing image: a singular isothermal ellipsoid (SIE) lens with external shear
bends the light of an elliptical Sersic source onto a square grid of pixels (caustics's
``LensSource`` simulator), optionally blurred by a Gaussian PSF (FFT convolution) and
supersampled. Fourteen continuous parameters: the lens's Einstein radius, axis ratio, position
angle and centre, the shear's strength and angle, and the source's centre, axis ratio, position
angle, Sersic index, effective radius and intensity. Position angles are periodic in pi (an
ellipse turned half a turn is itself), the intensity is linear.

caustics is imported only when a configuration is rendered, so this module (its parameters,
configurations and Tier-2 table) imports without it; ``pip install '.[interop]'`` installs it.
It uses only braggcheck's public facade, :mod:`braggcheck.testing`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from hypothesis import strategies as st

from braggcheck.testing import ParameterSpec, TableCase

FIELD_ARCSEC = 2.8
"""Width of the field of view: the Einstein ring (radius ~1 arcsec) fits with a margin."""

PSF_SIZE = 7
"""Side of the PSF kernel in (supersampled) pixels, odd so that it has a centre."""


@dataclass(frozen=True)
class LensConfig:
    """One lens + source image. Angles in radians, lengths in arcsec."""

    theta_E: float = 1.0
    lens_q: float = 0.75
    lens_phi: float = 0.4
    lens_x0: float = 0.03
    lens_y0: float = -0.02
    shear_gamma: float = 0.05
    shear_phi: float = 0.8
    source_x0: float = 0.1
    source_y0: float = 0.05
    source_q: float = 0.7
    source_phi: float = 1.1
    source_n: float = 1.5
    source_Re: float = 0.4
    source_Ie: float = 10.0
    pixels: int = 24
    """Pixels a side; the field of view stays FIELD_ARCSEC wide."""
    upsample: int = 1
    """Supersampling factor (caustics's ``upsample_factor``): pixels are means of u x u."""
    psf_sigma: float = 0.0
    """Gaussian PSF width in supersampled pixels; 0: no PSF."""

    @property
    def pixelscale(self) -> float:
        return FIELD_ARCSEC / self.pixels


DEFAULT = LensConfig()
"""What a user of this target runs most: the configuration the strategies draw first."""


def _spec(name: str, units: str, typical: tuple[float, float], scale: float,
          valid: tuple[float | None, float | None] = (None, None),
          **capabilities: Any) -> ParameterSpec:
    baseline = getattr(DEFAULT, name)
    return ParameterSpec(name, units, baseline, valid, typical, scale, **capabilities)


def _elliptic(axis_ratio: str):
    """A position angle matters only for a non-round ellipse."""
    return lambda config: getattr(config, axis_ratio) < 1.0


PARAMETERS = {s.name: s for s in (
    _spec("theta_E", "arcsec", (0.6, 1.3), 1.0, (0.0, None), second_derivative=True),
    _spec("lens_q", "", (0.5, 0.95), 0.1, (0.0, 1.0)),
    _spec("lens_phi", "rad", (0.0, math.pi), 1.0, period=math.pi, needs=_elliptic("lens_q")),
    _spec("lens_x0", "arcsec", (-0.2, 0.2), 0.1),
    _spec("lens_y0", "arcsec", (-0.2, 0.2), 0.1),
    _spec("shear_gamma", "", (0.0, 0.1), 0.05, (0.0, None), closed=(True, False)),
    _spec("shear_phi", "rad", (0.0, math.pi), 1.0, period=math.pi,
          needs=lambda config: config.shear_gamma > 0),
    _spec("source_x0", "arcsec", (-0.3, 0.3), 0.1),
    _spec("source_y0", "arcsec", (-0.3, 0.3), 0.1),
    _spec("source_q", "", (0.4, 0.95), 0.1, (0.0, 1.0)),
    _spec("source_phi", "rad", (0.0, math.pi), 1.0, period=math.pi,
          needs=_elliptic("source_q")),
    _spec("source_n", "", (0.5, 4.0), 1.0, (0.36, 10.0), second_derivative=True),
    _spec("source_Re", "arcsec", (0.15, 0.8), 0.1, (0.0, None)),
    _spec("source_Ie", "flux", (0.1, 100.0), 10.0, (0.0, None), linear=True),
)}


@cache
def _simulator(pixels: int, upsample: int, psf_sigma: float) -> tuple[Any, dict[int, str]]:
    """caustics's LensSource for one grid, every parameter of PARAMETERS dynamic, and the map
    from each dynamic caskade Param (by id) to its name here: caskade fills dynamic parameters
    in its own graph order, not ours."""
    import caustics  # the optional dependency: only rendering needs it

    d = DEFAULT
    cosmology = caustics.FlatLambdaCDM(name="cosmology")
    sie = caustics.SIE(cosmology=cosmology, name="sie", z_l=None, z_s=None, x0=d.lens_x0,
                       y0=d.lens_y0, q=d.lens_q, phi=d.lens_phi, Rein=d.theta_E)
    shear = caustics.ExternalShear(cosmology=cosmology, name="shear", z_l=None, z_s=None,
                                   x0=0.0, y0=0.0, parametrization="angular",
                                   gamma=d.shear_gamma, phi=d.shear_phi)
    lens = caustics.SinglePlane(lenses=[sie, shear], cosmology=cosmology, name="lens",
                                z_l=0.5, z_s=1.0)
    source = caustics.Sersic(name="source", x0=d.source_x0, y0=d.source_y0, q=d.source_q,
                             phi=d.source_phi, n=d.source_n, Re=d.source_Re, Ie=d.source_Ie)
    psf = [[1.0]]
    if psf_sigma > 0:
        offsets = torch.arange(PSF_SIZE, dtype=torch.float64) - PSF_SIZE // 2
        profile = torch.exp(-(offsets / psf_sigma) ** 2 / 2)
        psf = torch.outer(profile, profile)
    simulator = caustics.LensSource(lens=lens, source=source,
                                    pixelscale=FIELD_ARCSEC / pixels, pixels_x=pixels,
                                    upsample_factor=upsample, psf=psf, name="simulator")
    # Cast while every value is set: caskade's .to() of a module with an unset dynamic
    # parameter fails (the angular shear's gamma_1 is computed from it).
    simulator.to(dtype=torch.float64)
    params = {"theta_E": sie.Rein, "lens_q": sie.q, "lens_phi": sie.phi, "lens_x0": sie.x0,
              "lens_y0": sie.y0, "shear_gamma": shear.gamma, "shear_phi": shear.phi,
              "source_x0": source.x0, "source_y0": source.y0, "source_q": source.q,
              "source_phi": source.phi, "source_n": source.n, "source_Re": source.Re,
              "source_Ie": source.Ie}
    for param in params.values():
        param.to_dynamic()
    names = {id(param): name for name, param in params.items()}
    assert len(simulator.dynamic_params) == len(PARAMETERS)
    return simulator, names



class CausticsTarget:
    name = "caustics"
    parameters = PARAMETERS

    def configs(self) -> st.SearchStrategy[LensConfig]:
        # The default configuration first (what users run, and where a shortcut branch would
        # hide: Hypothesis shrinks toward the first branch), then each parameter at its
        # baseline or drawn, on one of three grids, supersampled or not, with or without PSF.
        values = {n: st.one_of(st.just(s.baseline), st.floats(*s.typical_range))
                  for n, s in PARAMETERS.items()}
        drawn = st.builds(LensConfig, **values, pixels=st.sampled_from((24, 16, 20)),
                          upsample=st.sampled_from((1, 2)),
                          psf_sigma=st.sampled_from((0.0, 1.0)))
        return st.one_of(st.just(DEFAULT), drawn)

    def render(self, config: LensConfig, params: dict[str, torch.Tensor]) -> torch.Tensor:
        simulator, names = _simulator(config.pixels, config.upsample, config.psf_sigma)
        values = [params[names[id(p)]] if names[id(p)] in params
                  else torch.tensor(getattr(config, names[id(p)]), dtype=torch.float64)
                  for p in simulator.dynamic_params]
        return simulator(params=values)

    def value(self, config: LensConfig, name: str) -> float:
        return float(getattr(config, name))

    def shape(self, config: LensConfig) -> tuple[int, ...]:
        return (config.pixels, config.pixels)

    def accepts(self, config: LensConfig, name: str, value: float) -> bool:
        # No joint constraint. (The SIE deflection is 0/0 at the lens centre, but caustics
        # builds its grid in float32 and casts it, so no drawn centre lands on a sample point:
        # even the middle sample of an odd grid sits at -4e-8 arcsec.)
        return True
    def missing_signal(self, config: LensConfig, image: torch.Tensor) -> str | None:
        peak, least = float(image.max()), float(image.min())
        return None if peak > 10 * max(least, 0.0) else "no lensed-arc contrast on the grid"

    def config_to_json(self, config: LensConfig) -> dict[str, Any]:
        return dataclasses.asdict(config)

    def config_from_json(self, data: Any, base_dir: Path | None = None) -> LensConfig:
        return LensConfig(**data)


CAUSTICS = CausticsTarget()
SETUPS = {
    "default": LensConfig,
    "round_source": lambda: dataclasses.replace(DEFAULT, source_q=0.95, shear_gamma=0.08),
    "psf_supersampled": lambda: dataclasses.replace(DEFAULT, upsample=2, psf_sigma=1.0),
}
TABLE = tuple(TableCase((name,), setup, target=CAUSTICS, setups=SETUPS)
              for name in PARAMETERS for setup in ("default", "psf_supersampled"))
"""The Tier-2 table: every parameter on the default image and on a supersampled, blurred one."""
