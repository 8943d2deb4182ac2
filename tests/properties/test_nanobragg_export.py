"""``Config.to_nanobragg_args`` is exact: parsing its flags gives back the configuration.

For every drawn configuration (the gradient suite's, all spot shapes, and the oracle's), either
``from_nanobragg_args(to_nanobragg_args(c))`` equals ``c`` bit for bit (with the defaults the
parser always spells out filled in: ``canonical``), or the configuration is one no flag list
expresses and the export says which field in one line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, given

from braggcheck import Config, ConfigError
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.export import canonical, first_difference, to_nanobragg_args
from braggcheck.sim.detector import FRAMES, resolved_beam_center_mm, resolved_close_mm
from braggcheck.sim.hkl import HKLTable, read_hkl
from braggcheck.testing.nanobragg.oracle.strategies import oracle_configs
from braggcheck.testing.nanobragg.strategies.cases import configs
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES

DERIVED = ("close_f_mm", "close_s_mm", "beam_center_f_mm", "beam_center_s_mm")
"""Fields the parser derives by arithmetic (-ORGX, -Xbeam + pixel / 2, ...): some floats are
between two consecutive results and no flag value reaches them exactly."""


def _inexpressible(config: Config) -> str | None:
    """The field that makes ``config`` inexpressible as flags, judged without the exporter."""
    crystal, beam = config.crystal, config.beam
    if float(crystal.mosaic_spread_deg) == 0 and crystal.mosaic_domains > 1:
        return "mosaic_domains"
    for axis in ("hdiv", "vdiv"):
        steps, range_ = getattr(beam, f"{axis}_steps"), getattr(beam, f"{axis}_range_mrad")
        if (steps > 1) != (range_ > 0) and getattr(beam, f"{axis}_step_mrad") is None:
            return f"{axis}_steps"
    if (beam.dispersion_steps > 1) != (float(beam.dispersion_pct) > 0):
        return "dispersion_steps"
    det = config.detector
    if det.convention != "custom" and det.pivot not in (None, FRAMES[det.convention].pivot):
        return "pivot"  # a named convention's block sets its own pivot: no flag overrides it
    if det.convention == "custom" and resolved_beam_center_mm(det) != resolved_close_mm(det):
        return "beam_center_f_mm"  # -Xbeam/-Ybeam set both there: they cannot differ
    return None


def _round_trip(config: Config) -> None:
    words = to_nanobragg_args(config, verify=False)
    back = from_nanobragg_args(words)
    where = first_difference(back, canonical(config))
    assert where is None, f"{where} differs after {' '.join(words)}"
    assert all(isinstance(word, str) for word in words)


@given(config=configs(shapes=ALL_SHAPES))
def test_gradient_suite_configurations_round_trip(config):
    reason = _inexpressible(config)
    if reason is not None:
        with pytest.raises(ConfigError, match=reason):
            to_nanobragg_args(config, verify=False)
        event(f"inexpressible: {reason}")
        return
    try:
        _round_trip(config)
        event("round trip exact")
    except ConfigError as exc:
        assert str(exc).split(" ")[0] in DERIVED, exc
        event("a derived field no flag value reaches exactly")


@given(config=oracle_configs())
def test_oracle_configurations_round_trip(config):
    assert canonical(config) == config  # drawn through the parser: nothing left to fill in
    _round_trip(config)


def test_the_default_flags_are_left_out():
    config = from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 100")
    assert to_nanobragg_args(config) == ["-cell", "100.0", "100.0", "100.0", "90.0", "90.0",
                                         "90.0", "-default_F", "100.0"]


def test_floats_come_back_bit_identical():
    config = Config().replace(lambda_A=0.1 + 0.2, distance_mm=math.pi * 30)
    back = from_nanobragg_args(to_nanobragg_args(config))
    assert back.beam.lambda_A == 0.1 + 0.2
    assert back.detector.distance_mm == math.pi * 30


def test_an_in_memory_table_needs_a_path(tmp_path):
    table = HKLTable(origin=(0, 0, 0), amplitudes=np.full((1, 1, 1), 7.0))
    config = Config().replace(hkl=table, default_F=0.0)
    with pytest.raises(ConfigError, match=r"^hkl: an in-memory table"):
        to_nanobragg_args(config)
    path = tmp_path / "table.hkl"
    path.write_text("0 0 0 7\n")
    words = to_nanobragg_args(config, hkl_path=str(path))
    assert words[words.index("-hkl") + 1] == str(path)
    path.write_text("0 0 0 8\n")  # a file that does not hold the table is refused
    with pytest.raises(ConfigError, match=r"crystal\.hkl"):
        to_nanobragg_args(config, hkl_path=str(path))


def test_a_read_table_is_exported_by_its_path(tmp_path):
    path = tmp_path / "t.hkl"
    path.write_text("1 0 0 5\n0 1 0 6\n")
    config = Config().replace(hkl=read_hkl(path, 0.0), default_F=0.0, n_a=2)
    words = to_nanobragg_args(config)
    assert "-nointerpolate" in words  # N <= 2: the reference would interpolate otherwise


@pytest.mark.parametrize(("changes", "field"), [
    ({"divergence_mrad": 1.0}, "divergence_mrad"),
    ({"pivot": "sample"}, "pivot"),
    ({"spindle_axis": (0.0, 1.0, 0.0)}, "spindle_axis"),
    ({"convention": "custom"}, "convention"),
    ({"dispersion_step_pct": 0.1, "dispersion_pct": 1.0, "dispersion_steps": 3},
     "dispersion_step_pct"),
    ({"mosaic_domains": 3}, "mosaic_domains"),
])
def test_inexpressible_fields_are_named(changes, field):
    with pytest.raises(ConfigError, match=field) as caught:
        to_nanobragg_args(Config().replace(**changes))
    assert "\n" not in str(caught.value)
