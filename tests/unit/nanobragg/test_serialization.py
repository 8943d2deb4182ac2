"""Config <-> JSON: readable (only non-default fields), exact round trips, clear errors."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given

from braggcheck import Config, ConfigError
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.serialization import (
    config_from_dict,
    config_from_json,
    config_to_dict,
    config_to_json,
)
from braggcheck.testing.nanobragg.strategies.cases import configs
from braggcheck.testing.nanobragg.strategies.configs import ALL_SHAPES

from ...conftest import GOLDEN


@given(config=configs(shapes=ALL_SHAPES))
def test_round_trip_is_exact(config):
    text = config_to_json(config)
    again = config_from_json(text)
    assert again == config  # frozen dataclasses compare field by field (floats exactly)
    assert config_to_json(again) == text


def test_baseline_is_empty_and_readable():
    assert config_to_dict(Config()) == {"crystal": {}, "beam": {}, "detector": {}}
    data = json.loads(config_to_json(Config().replace(cell_a=70.5, convention="xds",
                                                      roi=(1, 2, 3, 4))))
    assert data["crystal"] == {"cell_a": 70.5}
    assert data["detector"] == {"convention": "xds", "roi": [1, 2, 3, 4]}


def test_tensors_are_stored_as_numbers():
    config = Config().replace(distance_mm=torch.tensor(123.25, dtype=torch.float64))
    assert config_to_dict(config)["detector"]["distance_mm"] == 123.25


def test_hkl_table_by_path(monkeypatch):
    monkeypatch.chdir(GOLDEN)
    config = from_nanobragg_args("-cell 80 90 100 90 90 90 -hkl rand8.hkl -N 5")
    data = config_to_dict(config)
    assert data["crystal"]["hkl"] == "rand8.hkl"
    again = config_from_dict(data, base_dir=GOLDEN)
    assert (again.crystal.hkl.amplitudes == config.crystal.hkl.amplitudes).all()


@pytest.mark.parametrize(("data", "message"), [
    ({"crystal": {"cell_a": -1.0}}, "cell_a"),
    ({"crystal": {"colour": 1}}, "colour"),
    ({"sample": {}}, "sample"),
])
def test_bad_input_is_one_config_error(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data)


def test_bad_json_is_a_config_error():
    with pytest.raises(ConfigError, match="config JSON"):
        config_from_json("{not json")
