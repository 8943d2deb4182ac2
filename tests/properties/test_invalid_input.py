"""Every invalid input is rejected with a one-line ConfigError (and nothing else); valid input
drawn from the registry's typical ranges is never rejected."""

from __future__ import annotations

import contextlib
import io
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from braggcheck import PARAMETERS, Config, ConfigError, DetectorConfig, simulate
from braggcheck.cli.main import main as cli_main
from braggcheck.nanobragg.args import from_nanobragg_args, parse_nanobragg_args
from braggcheck.sim.sections import MIN_VOLUME_FRACTION, volume_fraction
from braggcheck.sim.state import baseline_value
from braggcheck.testing.nanobragg.strategies.invalid import (
    SECTIONS,
    config_fields,
    flag_soup,
    garbage_args,
    garbage_strings,
    impossible_cell_angles,
    invalid_field,
    invalid_parameter,
    invalid_values_for,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = Config(detector=DetectorConfig(fpixels=3, spixels=3, oversample=1))


def _one_line(error: pytest.ExceptionInfo[ConfigError]) -> str:
    message = str(error.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


@FAST
@given(invalid_parameter())
def test_registry_parameter_out_of_range_is_rejected(case: tuple[str, object]) -> None:
    name, value = case
    with pytest.raises(ConfigError) as error:
        Config().replace(**{name: value})
    assert name in _one_line(error)


@FAST
@given(invalid_parameter())
def test_simulate_rejects_bad_params(case: tuple[str, object]) -> None:
    name, value = case
    with pytest.raises(ConfigError) as error:
        simulate(SMALL, {name: value})
    assert name in _one_line(error)


@FAST
@given(invalid_field())
def test_dataclass_field_out_of_range_is_rejected(case: tuple[str, str, object]) -> None:
    section, name, value = case
    with pytest.raises(ConfigError) as error:
        SECTIONS[section](**{name: value})
    assert name in _one_line(error)


def test_every_dataclass_field_has_an_invalid_value_rule() -> None:
    """A new field needs a rule in braggcheck.testing.nanobragg.strategies.invalid (and
    validation)."""
    missing = [f"{s}.{n}" for s, n in config_fields() if invalid_values_for(s, n) is None]
    assert not missing, missing


@FAST
@given(impossible_cell_angles())
def test_impossible_cell_angles_are_rejected(angles: tuple[float, float, float]) -> None:
    alpha, beta, gamma = angles
    with pytest.raises(ConfigError) as error:
        Config().replace(cell_alpha=alpha, cell_beta=beta, cell_gamma=gamma)
    assert "cell" in _one_line(error)
    tensors = {f"cell_{n}": torch.tensor(v, dtype=torch.float64)
               for n, v in zip(("alpha", "beta", "gamma"), angles, strict=True)}
    with pytest.raises(ConfigError):
        simulate(SMALL, tensors)


@FAST
@given(garbage_args())
def test_parser_rejects_garbage_argument_lists(args: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        parse_nanobragg_args(args)
    _one_line(error)


@FAST
@given(garbage_strings())
def test_parser_rejects_garbage_strings(text: str) -> None:
    with pytest.raises(ConfigError) as error:
        from_nanobragg_args(text)
    _one_line(error)


@settings(max_examples=40, deadline=None)
@given(garbage_args())
def test_cli_answers_garbage_with_one_line_and_status_2(args: list[str]) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli_main(["simulate", *args])
    lines = stderr.getvalue().splitlines()
    assert status == 2
    assert len(lines) == 1 and lines[0].startswith("braggcheck simulate: error: ")
    assert stdout.getvalue() == ""


# ---- valid input is never rejected ---------------------------------------------------------

def _typical(name: str) -> st.SearchStrategy[float]:
    low, high = PARAMETERS[name].typical_range
    if PARAMETERS[name].integer_in_config:  # the cell counts: integers in a Config
        return st.integers(math.ceil(low), math.floor(high))
    return st.floats(min_value=low, max_value=high, allow_nan=False)


def _real_cell(values: dict[str, float]) -> bool:
    angles = [values[f"cell_{n}"] for n in ("alpha", "beta", "gamma")]
    return (sum(angles) < 360 and all(2 * a < sum(angles) for a in angles)
            and volume_fraction(*angles) >= MIN_VOLUME_FRACTION)


TYPICAL = st.fixed_dictionaries({name: _typical(name) for name in PARAMETERS}).filter(_real_cell)
"""Every registry parameter inside its typical range, the cell angles forming a real cell."""


@settings(max_examples=25, deadline=None)
@given(TYPICAL, st.integers(1, 3), st.sampled_from(["square", "round", "gauss", "tophat"]))
def test_valid_configurations_are_accepted(values: dict[str, float], domains: int,
                                           shape: str) -> None:
    config = Config(detector=DetectorConfig(fpixels=3, spixels=3)).replace(
        mosaic_domains=domains, shape=shape, **values)
    image = simulate(config)
    assert image.shape == (3, 3) and bool(torch.isfinite(image).all())


@settings(max_examples=25, deadline=None)
@given(TYPICAL)
def test_valid_flag_lists_are_accepted(values: dict[str, float]) -> None:
    v = {name: repr(x) for name, x in values.items()}
    args = ["-cell", *(v[f"cell_{n}"] for n in ("a", "b", "c", "alpha", "beta", "gamma")),
            "-default_F", "10", "-N", "2", "-detpixels", "4", "-oversample", "1",
            "-misset", v["misset_rot_x"], v["misset_rot_y"], v["misset_rot_z"],
            "-phi", v["phi_start_deg"], "-mosaic", v["mosaic_spread_deg"],
            "-mosaic_domains", "2", "-distance", v["distance_mm"],
            "-Fbeam", v["beam_center_f_mm"], "-Sbeam", v["beam_center_s_mm"],
            "-detector_rotx", v["detector_rotx_deg"], "-detector_roty", v["detector_roty_deg"],
            "-detector_rotz", v["detector_rotz_deg"], "-twotheta", v["twotheta_deg"],
            "-lambda", v["lambda_A"], "-fluence", v["fluence"], "-polar", v["polarization"]]
    config = parse_nanobragg_args(args).config
    assert config.crystal.cell_alpha == values["cell_alpha"]
    assert config.detector.distance_mm == values["distance_mm"]
    assert math.isclose(config.beam.fluence, values["fluence"])


@settings(max_examples=40, deadline=None)
@given(flag_soup())
def test_any_flag_list_gives_a_finite_image_and_gradient_or_a_config_error(
        args: list[str]) -> None:
    try:
        config = parse_nanobragg_args(args).config
        params = {name: torch.tensor(baseline_value(config, name), dtype=torch.float64,
                                     requires_grad=True) for name in PARAMETERS}
        image = simulate(config, params)
    except ConfigError as error:
        assert "\n" not in str(error)
        return
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(0),
                          dtype=torch.float64)
    grads = torch.autograd.grad((image * weights).sum(), list(params.values()),
                                allow_unused=True)
    assert bool(torch.isfinite(image).all())
    assert all(g is None or bool(torch.isfinite(g)) for g in grads)
