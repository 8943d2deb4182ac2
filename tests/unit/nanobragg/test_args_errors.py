"""Flag errors: each names the flag, the value and what would be valid, in one line."""

from __future__ import annotations

import pytest

from braggcheck import ConfigError
from braggcheck.nanobragg.args import parse_nanobragg_args

BASE = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "10", "-detpixels", "8",
        "-oversample", "1"]


def _message(*extra: str) -> str:
    with pytest.raises(ConfigError) as error:
        parse_nanobragg_args([*BASE, *extra])
    text = str(error.value)
    assert "\n" not in text
    return text


def test_base_is_valid() -> None:
    parse_nanobragg_args(BASE)


@pytest.mark.parametrize(("extra", "expected"), [
    (["-lambda"], "-lambda: expected a value after it, found the end of input"),
    (["-misset", "1", "2"], "-misset: expected 3 numbers, found 2"),
    (["-beam_vector", "1"], "-beam_vector: expected 3 numbers, found 1"),
    (["-roi", "0", "1", "2"], "-roi: expected 4 numbers, found 3"),
    (["-distance", "far"], "-distance: expected a number, got 'far'"),
    (["-distance", "nan"], "-distance: expected a finite number, got 'nan'"),
    (["-N", "five"], "-N: expected an integer, got 'five'"),
    (["-N", "inf"], "-N: expected an integer, got 'inf'"),
    (["-lambda", "-N", "3"], "-lambda: expected a number, got '-N'"),
    (["-floatfile", "-N", "3"], "-floatfile: expected a value after it, found the flag -N"),
    (["-hkl", "-default_F"], "-hkl: expected a value after it, found the flag -default_F"),
    (["-frobnicate"], "-frobnicate: unknown flag"),
    (["--cell"], "--cell: unknown flag"),
    (["stray"], "unexpected argument 'stray': expected a flag"),
    (["5"], "unexpected argument '5'"),
    (["-mat", "x.mat"], "-mat: file 'x.mat' does not exist"),
    (["-N", "0"], "-N = 0; valid: an integer >= 1 (the reference program silently uses 1)"),
    (["-Nb", "-2"], "-Nb = -2; valid: an integer >= 1"),
    (["-mosaic", "-1"], "-mosaic = -1 deg; valid: >= 0"),
    (["-distance", "0"], "-distance = 0; valid: > 0"),
    (["-lambda", "-1"], "-lambda = -1; valid: > 0"),
    (["-detsize", "0"], "-detsize = 0; valid: > 0"),
    (["-pixel", "-0.1"], "-pixel = -0.1; valid: > 0"),
    (["-energy", "0"], "-energy = 0; valid: > 0"),
    (["-beamsize", "-1", "-flux", "1e12"], "-beamsize = -1; valid: >= 0"),
    (["-exposure", "-1"], "-exposure = -1; valid: >= 0"),
    (["-dispersion", "-5"], "-dispersion = -5; valid: >= 0"),
    (["-osc", "1", "-phistep", "0"], "-phistep = 0 with -osc: valid: > 0"),
    (["-xtalsize", "1e308"], "-xtalsize: 1e+308 mm holds inf unit cells along axis a"),
    (["-pivot", "middle"], "-pivot 'middle': valid: beam or sample"),
    (["-detpixels", "0"], "-detpixels = 0; valid: an integer >= 1"),
    (["-polar", "2"], "polarization = 2.0 is out of range; valid: [-1, 1]"),
    (["-roi", "0", "8", "0", "7"], "roi fast_max = 8 is out of range; valid: an integer >= 0"),
    (["-twotheta", "90"], "detector placement: the detector plane passes through the sample"),
])
def test_flag_errors(extra: list[str], expected: str) -> None:
    assert expected in _message(*extra)


@pytest.mark.parametrize(("cell", "expected"), [
    ("100 100", "-cell: expected 6 numbers, found 2 before -default_F"),
    ("0 100 100 90 90 90", "-cell: length a = 0 A; valid: > 0"),
    ("100 100 100 90 0 90", "-cell: angle beta = 0 deg; valid: (0, 180)"),
    ("100 100 100 120 120 120", "sum to 360 deg; valid: alpha + beta + gamma < 360"),
    ("100 100 100 100 30 60", "cell_alpha = 100 deg admits no real cell"),
])
def test_cell_errors(cell: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_nanobragg_args(["-cell", *cell.split(), "-default_F", "1"])
    assert expected in str(error.value)


def test_missing_cell_and_unbalanced_quotes() -> None:
    with pytest.raises(ConfigError, match="-cell: a unit cell is required"):
        parse_nanobragg_args(["-default_F", "1"])
    with pytest.raises(ConfigError, match="arguments: cannot split"):
        parse_nanobragg_args("-cell 1 1 1 90 90 90 -hkl 'open")
    with pytest.raises(ConfigError, match="expected a string or a list of strings"):
        parse_nanobragg_args(["-cell", 100])  # type: ignore[list-item]
