"""Property-test cases and their JSON form; the stored example files load and are valid."""

from __future__ import annotations

import threading

import pytest
import torch

from braggcheck import Config, ConfigError
from braggcheck.sim import simulator
from braggcheck.sim.chunking import Chunking, current_chunking
from braggcheck.testing.framework.case import case_from_json, case_to_json
from braggcheck.testing.framework.projection import Projection
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.harness import EXAMPLES_DIR, read_case_file, stored_examples
from braggcheck.testing.nanobragg.target import NANOBRAGG


def test_case_round_trip():
    case = Case(names=("cell_a", "twotheta_deg"), projection=Projection("pixel", pixel=(3, 4)),
                direction=(0.5, -1.0), factor=3.0, turns=-2, angle="phi_start_deg")
    assert case_from_json(NANOBRAGG, case_to_json(NANOBRAGG, case)) == case


def test_direction_is_scaled_to_unit_max():
    case = Case(names=("cell_a", "cell_b"), direction=(1e-300, -2e-300))
    assert torch.equal(case.direction_tensor(), torch.tensor([0.5, -1.0], dtype=torch.float64))


def test_pixel_projection_picks_one_pixel():
    weights = Projection("pixel", pixel=(20, 3)).weights((16, 8))
    assert float(weights.sum()) == 1.0 and float(weights[4, 3]) == 1.0


@pytest.mark.parametrize("bad", [
    {"names": ("nothing",)}, {"names": ()}, {"angle": "cell_a"}, {"factor": 0.0},
    {"names": ("cell_a",), "direction": (1.0, 2.0)},
])
def test_bad_cases_are_config_errors(bad):
    with pytest.raises(ConfigError):
        Case(**bad)


def test_stored_examples_load():
    found = stored_examples()
    assert len(found) == len(list(EXAMPLES_DIR.glob("*.json"))) >= 10
    names = {name for name, _ in found}
    assert {"direct_beam_on_sample_point", "misset_89_degrees",
            "exact_right_angles_orthorhombic"} <= names


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_case_file(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="no 'case'"):
        read_case_file(tmp_path / "bad.json")


def test_chunking_round_trips_and_applies_only_inside_the_context():
    config = Config().replace(fpixels=6, spixels=5, oversample=1)
    case = Case(config=config, pixels_per_chunk=7, stored_chunks=1)
    assert case_from_json(NANOBRAGG, case_to_json(NANOBRAGG, case)) == case
    seen_by_another_thread = []
    with case.simulation():
        inside = current_chunking()
        assert inside.pixels_per_chunk == 7
        assert 0 < inside.stored_bytes_limit < simulator.STORED_BYTES_LIMIT
        thread = threading.Thread(target=lambda: seen_by_another_thread.append(
            current_chunking()))
        thread.start()
        thread.join()
        chunked = simulator.simulate(config)
    assert seen_by_another_thread == [Chunking()]  # no global was changed
    assert current_chunking() == Chunking()
    assert torch.equal(chunked, simulator.simulate(config))


@pytest.mark.parametrize("bad", [{"pixels_per_chunk": 0}, {"stored_chunks": 1},
                                 {"pixels_per_chunk": 4, "stored_chunks": -1}])
def test_bad_chunking_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        Case(**bad)
