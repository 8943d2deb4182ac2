"""ran1 and the mosaic draws reproduce the reference program's check values (brief 2.6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from braggcheck.nanobragg.counting_rules import random_misset_angles
from braggcheck.sim.crystal import mosaic_matrices
from braggcheck.sim.rng import Ran1


def test_first_draws_from_default_mosaic_seed():
    rng = Ran1(-12345678)
    draws = [rng() for _ in range(6)]
    expected = [0.765989304, 0.023453664, 0.589726627, 0.535101593, 0.982231438, 0.693016112]
    assert draws == pytest.approx(expected, abs=5e-10)


def test_draws_are_float32_values_in_unit_interval():
    rng = Ran1(-1)
    for _ in range(1000):
        value = rng()
        assert 0.0 < value < 1.0
        assert float(np.float32(value)) == value


def test_mosaic_matrices_match_reference_printout():
    matrices = mosaic_matrices(torch.tensor(1.0, dtype=torch.float64), 3, 12345678).numpy()
    u1 = [[0.999863685922, -0.015948771660, 0.004271563781],
          [0.015952848100, 0.999872320169, -0.000921952516],
          [-0.004256314378, 0.000989970450, 0.999990451828]]
    u2 = [[0.999965744385, 0.005666308339, 0.006033490347],
          [-0.005733674275, 0.999920758686, 0.011207199805],
          [-0.005969508795, -0.011241409964, 0.999918994552]]
    np.testing.assert_array_equal(matrices[0], np.eye(3))
    # 1e-9: the reference computes the angle in float32, braggcheck in float64 (brief 2.6).
    np.testing.assert_allclose(matrices[1], u1, atol=1e-9)
    np.testing.assert_allclose(matrices[2], u2, atol=1e-9)


def test_mosaic_matrices_are_rotations():
    matrices = mosaic_matrices(torch.tensor(5.0, dtype=torch.float64), 20, 99)
    identity = torch.eye(3, dtype=torch.float64).expand(20, 3, 3)
    torch.testing.assert_close(matrices @ matrices.transpose(1, 2), identity)
    torch.testing.assert_close(torch.linalg.det(matrices), torch.ones(20, dtype=torch.float64))


def test_random_misset_matches_reference_angles():
    angles = random_misset_angles(5)
    assert angles == pytest.approx((142.144470, 55.074207, 35.266329), abs=2e-6)
    assert all(math.isfinite(a) for a in angles)
