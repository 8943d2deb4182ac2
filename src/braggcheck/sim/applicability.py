"""Which registry parameters the image of a configuration depends on.

Elsewhere a parameter's derivative is identically zero (it is not used), so a gradient check
asks only for the applicable ones; the registry's ``needs`` of each parameter, as one function.
"""

from __future__ import annotations

from braggcheck.sim.config import Config
from braggcheck.sim.detector import effective_pivot
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sensor_rules import unused_sensor_parameters
from braggcheck.sim.sources import axis_grid, divergence_pairs


def unused_by_features(config: Config) -> set[str]:
    """Registry parameters the per-pixel features switch off (or on: -oversample_polar uses
    the polarization even under -nopolar, so that is handled by the caller)."""
    unused = set()
    if float(config.crystal.water_size_um) == 0 or config.detector.oversample_omega:
        unused.add("water_size_um")
    return unused


def applicable_parameters(config: Config) -> tuple[str, ...]:
    """Registry parameters the image of ``config`` depends on (their ``needs`` are met).

    Elsewhere the derivative is identically zero (the parameter is not used), so a gradient
    check asks only for these.
    """

    beam = config.beam
    unused = set()
    if effective_pivot(config.detector) != "beam":
        unused |= {"beam_center_f_mm", "beam_center_s_mm"}
    if config.detector.close_distance_mm is not None:  # it then places the detector instead
        unused.add("distance_mm")
    if config.crystal.mosaic_domains < 2:
        unused.add("mosaic_spread_deg")
    if beam.nopolar and not config.detector.oversample_polar:  # which computes it anyway
        unused.add("polarization")
    unused |= unused_by_features(config)
    unused |= unused_sensor_parameters(config.detector)
    if beam.sources is not None:  # -sourcefile replaces the divergence/dispersion grid
        unused |= {"divergence_mrad", "dispersion"}
        if all(wavelength is not None for wavelength in beam.sources.wavelengths_A):
            unused.add("lambda_A")  # every source states its own wavelength
    # divergence_mrad scales the configured grid's angles: it needs a grid with an angle.
    if beam.nominal_divergence_mrad <= 0 or not any(h or v for h, v in divergence_pairs(beam)):
        unused.add("divergence_mrad")
    # dispersion sets the spread of the wavelengths: it needs more than one of them.
    if len(axis_grid(float(beam.dispersion_pct), beam.dispersion_steps,
                     beam.dispersion_step_pct)) < 2:
        unused.add("dispersion")
    return tuple(name for name in PARAMETERS if name not in unused)
