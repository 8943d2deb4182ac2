"""Detector conventions: bases, beam, pivots, beam centres and pix0 against the physics brief
(tables 6.2-6.5 and the values the reference binary printed in section 10)."""

from __future__ import annotations

import math

import pytest
import torch

from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.sim.detector import detector_geometry
from braggcheck.sim.state import build_state

COMMON = "-cell 100 100 100 90 90 90 -default_F 100 -lambda 1 -distance 100 -detpixels 64 -N 5"


def placed(args: str):
    config = from_nanobragg_args(f"{COMMON} {args}")
    state = build_state(config, None, torch.float64, torch.device("cpu"))
    det, beam = config.detector, config.beam
    return config, detector_geometry(det, state, beam.beam_vector, beam.polar_vector)


def beam_spot_px(geometry) -> tuple[float, float]:
    """Where the direct beam meets the plane, in pixels along (fast, slow) from pixel (0,0)'s
    outer corner (the reference's recomputed Fbeam/Sbeam divided by the pixel size)."""
    spot = geometry.distance * geometry.beam - geometry.pix0
    return (float(spot @ geometry.fdet) / geometry.pixel,
            float(spot @ geometry.sdet) / geometry.pixel)


def close(vector: torch.Tensor, expected, abs_tol: float = 1e-12) -> bool:
    return torch.allclose(vector, torch.tensor(expected, dtype=vector.dtype), rtol=0,
                          atol=abs_tol)


# convention: (fast, slow, normal, beam, polarization) from brief 6.2 and 5.2
BASES = {
    "mosflm": ((0, 0, 1), (0, -1, 0), (1, 0, 0), (1, 0, 0), (0, 0, 1)),
    "denzo": ((0, 0, 1), (0, -1, 0), (1, 0, 0), (1, 0, 0), (0, 0, 1)),
    "xds": ((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (1, 0, 0)),
    "dials": ((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (0, 1, 0)),
    "adxv": ((1, 0, 0), (0, -1, 0), (0, 0, 1), (0, 0, 1), (1, 0, 0)),
}


@pytest.mark.parametrize("convention", list(BASES))
def test_basis_beam_and_polarization_per_convention(convention):
    _, geometry = placed(f"-{convention}")
    fast, slow, normal, beam, polar = BASES[convention]
    assert close(geometry.fdet, fast) and close(geometry.sdet, slow)
    assert close(geometry.odet, normal) and close(geometry.beam, beam)
    assert close(geometry.polar, polar)


@pytest.mark.parametrize(("convention", "spot"), [
    ("mosflm", 33.0),  # one full pixel past the centre (N/2 + 1)
    ("denzo", 32.5),  # centre of pixel N/2
    ("adxv", 32.5),
    ("xds", 32.0),  # the true centre
    ("dials", 32.0),
])
def test_default_beam_centre_half_pixel_offsets(convention, spot):
    _, geometry = placed(f"-{convention}")
    fast, slow = beam_spot_px(geometry)
    assert fast == pytest.approx(spot, abs=1e-9)
    assert slow == pytest.approx(spot, abs=1e-9)


def test_mosflm_pix0_and_printed_centres():
    # brief 10.1: dials origin (-3.3, 3.3, -100) mm, so pix0 = (0.1, 0.0033, -0.0033) m
    config, geometry = placed("")
    assert close(geometry.pix0, (0.1, 0.0033, -0.0033))
    assert float(geometry.close) == pytest.approx(0.1, abs=1e-15)
    assert config.detector.beam_center_f_mm == pytest.approx(3.3)
    assert config.detector.beam_center_s_mm == pytest.approx(3.3)


def test_mosflm_swaps_xbeam_and_ybeam():
    # brief 6.3: -Xbeam 3.0 -Ybeam 3.5 gives Fbeam = 3.55 mm, Sbeam = 3.05 mm
    _, geometry = placed("-Xbeam 3.0 -Ybeam 3.5")
    fast, slow = beam_spot_px(geometry)
    assert fast * 0.1 == pytest.approx(3.55, abs=1e-12)
    assert slow * 0.1 == pytest.approx(3.05, abs=1e-12)


def test_adxv_beam_centre_counts_slow_from_the_far_edge():
    _, geometry = placed("-adxv -Xbeam 2.0 -Ybeam 1.5")
    fast, slow = beam_spot_px(geometry)
    assert fast * 0.1 == pytest.approx(2.0, abs=1e-12)
    assert slow * 0.1 == pytest.approx(6.4 - 1.5, abs=1e-12)


def test_xds_pix0_default_centre():
    # brief 10.2: dials origin (100, -3.2, 3.2), so pix0 = (-0.0032, -0.0032, 0.1)
    config, geometry = placed("-xds")
    assert close(geometry.pix0, (-0.0032, -0.0032, 0.1))
    assert config.detector.close_f_mm == pytest.approx(3.2)


def test_xds_orgx_orgy_and_twotheta_match_the_printed_geometry():
    # brief 10.3
    _, geometry = placed("-xds -ORGX 20 -ORGY 40 -twotheta 10")
    assert close(geometry.sdet, (0, 0.984808, 0.173648), 1e-6)
    assert close(geometry.odet, (0, -0.173648, 0.984808), 1e-6)
    # printed in mm with 6 significant digits: half a unit of the last digit is 5e-8 m
    assert close(geometry.pix0, (-0.00195, -0.0212548, 0.0977949), 5e-8)
    assert float(-(geometry.pix0 @ geometry.fdet)) == pytest.approx(0.00195, abs=1e-12)
    assert float(-(geometry.pix0 @ geometry.sdet)) == pytest.approx(0.00395, abs=1e-12)
    fast, slow = beam_spot_px(geometry)
    assert fast * 1e-4 == pytest.approx(0.00195, abs=1e-12)
    assert slow * 1e-4 == pytest.approx(0.0213148, abs=5e-8)  # %g: 6 significant digits


def test_beam_pivot_keeps_the_beam_spot_under_rotations():
    _, flat = placed("")
    _, tilted = placed("-detector_rotx 5 -detector_roty 3 -detector_rotz 2")
    assert beam_spot_px(tilted) == pytest.approx(beam_spot_px(flat), abs=1e-9)
    # with two-theta the distance ratio leaves the swing out, so the recomputed distance is
    # not the input one (brief 6.5: 98.4808 mm)
    _, swung = placed("-twotheta 10")
    assert float(swung.distance) == pytest.approx(0.0984808, abs=5e-8)


def test_sample_pivot_keeps_the_near_point():
    _, flat = placed("-xds")
    _, tilted = placed("-xds -detector_rotx 5 -detector_roty 3")
    near = [-float(g.pix0 @ g.fdet) for g in (flat, tilted)]
    assert near[0] == pytest.approx(near[1], abs=1e-12)


@pytest.mark.parametrize(("args", "pivot"), [
    ("-twotheta 10 -pivot sample", "beam"),  # MOSFLM forces BEAM
    ("-xds -pivot beam", "sample"),  # XDS forces SAMPLE
    ("-dials -distance 100", "sample"),
    ("-denzo -ORGX 10", "beam"),
    ("-adxv -close_distance 90", "beam"),
])
def test_named_conventions_force_their_pivot(args, pivot):
    config, _ = placed(args)
    assert config.detector.pivot is None
    from braggcheck.sim.detector import effective_pivot

    assert effective_pivot(config.detector) == pivot


@pytest.mark.parametrize(("args", "pivot"), [
    ("-fdet_vector 0 0 1", "beam"),
    ("-fdet_vector 0 0 1 -twotheta 10", "sample"),
    ("-fdet_vector 0 0 1 -twotheta 10 -distance 100", "beam"),
    ("-fdet_vector 0 0 1 -ORGX 30", "sample"),
    ("-fdet_vector 0 0 1 -close_distance 90 -Xbeam 3", "beam"),
    ("-fdet_vector 0 0 1 -Xclose 3", "sample"),
    ("-fdet_vector 0 0 1 -pivot sample", "sample"),
    ("-xds -fdet_vector 1 0 0", "sample"),  # -xds set SAMPLE while parsing; CUSTOM keeps it
    ("-dials -fdet_vector 1 0 0", "beam"),  # -dials sets BEAM while parsing
    ("-twotheta_axis 0 1 0", "sample"),  # substring match: it is also -twotheta
])
def test_custom_pivot_follows_the_last_pivot_flag(args, pivot):
    config, _ = placed(args)
    assert config.detector.convention == "custom"
    assert config.detector.pivot == pivot


def test_a_later_convention_flag_overrides_earlier_vectors():
    config, geometry = placed("-fdet_vector 0 1 0 -xds")
    assert config.detector.convention == "xds"
    assert close(geometry.fdet, (1, 0, 0))


def test_custom_vectors_not_given_keep_the_custom_defaults():
    # (a beam along z would lie in the CUSTOM default detector plane: a rejected placement)
    config, geometry = placed("-xds -beam_vector 2 0 0")
    assert config.detector.convention == "custom"
    assert close(geometry.beam, (1, 0, 0))  # normalised
    assert close(geometry.fdet, (0, 0, 1)) and close(geometry.sdet, (0, -1, 0))
    assert close(geometry.polar, (0, 0, 1))


def test_pix0_vector_only_selects_custom():
    with_pix0, a = placed("-pix0_vector 0.5 0.1 -0.2")
    _, b = placed("-fdet_vector 0 0 1")
    assert with_pix0.detector.convention == "custom"
    assert torch.equal(a.pix0, b.pix0)


def test_odet_is_rebuilt_when_not_unit_length():
    _, geometry = placed("-fdet_vector 0 0 1 -sdet_vector 0 -1 0 -odet_vector 0 0 2")
    assert close(geometry.odet, (1, 0, 0))


def test_twotheta_axis_is_not_normalised():
    # Rodrigues with |t| = 2: R v = v cos + (t x v) sin + t (t.v)(1 - cos)
    _, geometry = placed("-twotheta_axis 0 2 0 -twotheta 10 -pivot beam")
    angle = math.radians(10)
    axis = torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64)
    fast = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    expected = (fast * math.cos(angle) + torch.linalg.cross(axis, fast) * math.sin(angle)
                + axis * (axis @ fast) * (1 - math.cos(angle)))
    assert torch.allclose(geometry.fdet, expected, atol=1e-15)


def test_twotheta_axis_also_sets_the_angle_like_the_reference():
    # -twotheta_axis x y z matches -twotheta by substring: the angle becomes x degrees
    before, _ = placed("-twotheta 10 -twotheta_axis 0 1 0")
    after, _ = placed("-twotheta_axis 0 1 0 -twotheta 10")
    assert before.detector.twotheta_deg == 0.0
    assert after.detector.twotheta_deg == 10.0


def test_close_distance_sets_the_perpendicular_distance():
    _, geometry = placed("-detector_rotx 10 -close_distance 80")
    assert float(geometry.close) == pytest.approx(0.08, abs=1e-12)
