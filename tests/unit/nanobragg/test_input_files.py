"""-mat, -sourcefile, -mask, -img and -dmin: what the files mean and every way they can be bad.

Bad files and values give one line naming the flag (or field) and file and the valid range;
the CLI then exits 2 and writes nothing.
"""

from __future__ import annotations

import contextlib
import io
import shutil

import numpy as np
import pytest
import torch

from braggcheck import Config, simulate
from braggcheck.cli import main as cli
from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.flags import UNSUPPORTED
from braggcheck.nanobragg.input_files import header_value, mask_file_bytes, read_smv
from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.sim.sections import CrystalConfig, DetectorConfig
from braggcheck.sim.source_list import SourceList

from ...conftest import GOLDEN
from ..error_message import one_line_message

BASE = "-cell 70 80 90 90 90 90 -default_F 100 -N 3 -detpixels 16 -pixel 0.4 -oversample 1"
MATRIX = "-0.0080716 0.0099103 -0.0043524\n0.0066132 0.0034113 -0.0080201\n" \
         "-0.0066547 -0.0053919 -0.0084137\n"


def _parse(args: str):
    return parse_nanobragg_args(args).config


def _message(args: str) -> str:
    return one_line_message(parse_nanobragg_args, args)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "A.mat").write_text(MATRIX)
    (tmp_path / "src.txt").write_text("-10 0 0 1 1e-10\n-10 0.01 0 1\n")
    shutil.copy(GOLDEN / "inputs_header.img", tmp_path / "hdr.img")
    return tmp_path


def test_the_flags_are_no_longer_listed_as_unsupported():
    assert not {"-mat", "-sourcefile", "-mask", "-dmin"} & set(UNSUPPORTED)


def test_the_matrix_is_divided_by_the_wavelength_and_transposed(files):
    config = _parse(f"-mat {files / 'A.mat'} -lambda 2 -default_F 1")
    a_star = config.crystal.reciprocal_matrix[0]
    assert a_star == pytest.approx((-0.0080716 / 2, 0.0066132 / 2, -0.0066547 / 2), rel=1e-15)


def test_without_cell_the_cell_comes_from_the_matrix(files):
    crystal = _parse(f"-mat {files / 'A.mat'} -lambda 1 -default_F 1").crystal
    volume_star = abs(np.linalg.det(np.array(crystal.reciprocal_matrix)))
    a, b, c = (float(getattr(crystal, f"cell_{x}")) for x in "abc")
    angles = [np.radians(float(getattr(crystal, f"cell_{x}"))) for x in ("alpha", "beta",
                                                                          "gamma")]
    s = sum(angles) / 2
    volume = 2 * a * b * c * np.sqrt(np.sin(s) * np.prod([np.sin(s - x) for x in angles]))
    assert volume * volume_star == pytest.approx(1.0, rel=1e-12)


def test_with_cell_only_the_matrix_directions_count(files):
    """A matrix scaled by 3 (another wavelength) gives the same image when -cell is given."""
    one = _parse(f"{BASE} -mat {files / 'A.mat'} -lambda 1")
    three = _parse(f"{BASE} -mat {files / 'A.mat'} -lambda 3").replace(lambda_A=1.0)
    assert not np.allclose(one.crystal.reciprocal_matrix, three.crystal.reciprocal_matrix)
    image_one, image_three = simulate(one), simulate(three)
    # equal up to the rounding of unit(b* x c*) of scaled vectors (a few ulps)
    assert torch.allclose(image_one, image_three, rtol=1e-12, atol=1e-12 * image_one.max())


def test_the_misset_rotates_the_matrix(files):
    plain = simulate(_parse(f"{BASE} -mat {files / 'A.mat'}"))
    turned = simulate(_parse(f"{BASE} -mat {files / 'A.mat'} -misset 0 0 30"))
    assert not torch.allclose(plain, turned)


def test_a_source_line_without_wavelength_uses_the_run_s(files):
    sources = _parse(f"{BASE} -sourcefile {files / 'src.txt'} -lambda 1.5").beam.sources
    assert sources.wavelengths_A == (pytest.approx(1.0), None)
    assert sources.positions == ((-10.0, 0.0, 0.0), (-10.0, 0.01, 0.0))


def test_missing_position_columns_lie_along_the_beam(files):
    (files / "one.txt").write_text("-3\n")
    sources = _parse(f"{BASE} -xds -sourcefile {files / 'one.txt'}").beam.sources
    assert sources.positions == ((-3.0, 0.0, -10.0),)  # XDS beam (0, 0, 1)


def test_header_keys_match_by_substring_as_in_the_reference():
    header = "DISTANCE=80;\nXDS_ORGX=12;\nCLOSE_DISTANCE=79;\n"
    assert header_value(header, "DISTANCE") == 79.0  # the last occurrence: CLOSE_DISTANCE
    assert header_value(header, "ORGX") == 12.0
    assert header_value(header, "PHI") is None


def test_the_mask_header_flips_the_slow_centre_and_the_img_header_does_not(files):
    shutil.copy(files / "hdr.img", files / "mask.img")  # its pixels are all nonzero
    base = "-cell 70 80 90 90 90 90 -default_F 100 -N 3 -oversample 1"
    masked = parse_nanobragg_args(f"{base} -mask {files / 'mask.img'}")
    image = parse_nanobragg_args(f"{base} -img {files / 'hdr.img'}")
    # header: BEAM_CENTER_Y=11, PIXEL_SIZE=0.3, 64 slow pixels: a mask reads 19.2 - 11
    assert image.header["ybeam_mm"] == 11.0
    assert masked.header["ybeam_mm"] == pytest.approx(64 * 0.3 - 11.0)
    assert masked.config.detector.beam_center_f_mm == pytest.approx(8.2 + 0.15)


def _smv(header_bytes: int, keys: str, pixels: np.ndarray) -> bytes:
    """An SMV image whose header (``keys`` after HEADER_BYTES, blank-padded) is
    ``header_bytes`` long; ``keys`` may reach past byte 512."""
    text = f"{{\nHEADER_BYTES={header_bytes};\n{keys}}}\f".encode()
    assert len(text) <= header_bytes
    return text.ljust(header_bytes, b" ") + pixels.astype("<u2").tobytes()


def test_a_header_longer_than_512_bytes_is_read_whole(files):
    """Real ADSC headers are often 1024 bytes or more (the reference writes 512 but reads any
    HEADER_BYTES): the pixels start after the whole header and keys past byte 512 count."""
    pixels = np.arange(1, 7).reshape(2, 3)
    keys = "DIM=2;\nTYPE=unsigned_short;\n".ljust(700) + "SIZE1=3;\nSIZE2=2;\nPIXEL_SIZE=0.25;\n"
    (files / "long.img").write_bytes(_smv(1536, keys, pixels))
    header, read = read_smv("-img", files / "long.img")
    assert header.index("PIXEL_SIZE") > 512
    assert read.tolist() == pixels.tolist()
    detector = _parse(f"-cell 70 80 90 90 90 90 -default_F 1 -img {files / 'long.img'}").detector
    assert (detector.fpixels, detector.spixels, detector.pixel_mm) == (3, 2, 0.25)


def test_a_header_close_distance_overrides_a_command_line_distance(files):
    base = "-cell 70 80 90 90 90 90 -default_F 100 -N 3 -oversample 1 -roi 0 7 0 7"
    near = _parse(f"{base} -img {files / 'hdr.img'} -distance 50")
    plain = _parse(f"{base} -img {files / 'hdr.img'}")
    assert near.detector.close_distance_mm == 79.6956
    assert torch.equal(simulate(near), simulate(plain))


def test_command_line_flags_win_over_the_header(files):
    config = _parse(f"-cell 70 80 90 90 90 90 -default_F 1 -img {files / 'hdr.img'} "
                    "-lambda 1.7 -detpixels 32")
    assert (config.beam.lambda_A, config.detector.fpixels, config.detector.pixel_mm) == (
        1.7, 32, 0.3)


def test_masked_pixels_are_zero_and_the_rest_unchanged(files):
    kept = np.random.default_rng(3).random((16, 16)) > 0.5
    (files / "m.img").write_bytes(mask_file_bytes(kept))
    masked = simulate(_parse(f"{BASE} -mask {files / 'm.img'}"))
    plain = simulate(_parse(BASE))
    assert torch.equal(masked[torch.as_tensor(kept)], plain[torch.as_tensor(kept)])
    assert (masked[~torch.as_tensor(kept)] == 0).all()


def test_dmin_removes_high_resolution_pixels_only():
    plain = simulate(_parse(BASE + " -distance 40"))
    cut = simulate(_parse(BASE + " -distance 40 -dmin 12"))
    assert (cut == 0).any() and (cut > 0).any()
    inside = cut > 0
    # fully kept pixels are untouched, up to the rounding of the polarization factor, which
    # the cut evaluates per pixel (its own source direction) in another order of operations
    assert torch.allclose(cut[inside], plain[inside], rtol=1e-13, atol=0)


BAD = [
    ("-mat {d}/none.mat", "-mat: file '{d}/none.mat' does not exist"),
    ("-mat {d}", "-mat: '{d}' is a directory; valid: a file"),
    ("-mat {d}/short.mat", "-mat: '{d}/short.mat' holds 8 finite numbers before its end"),
    ("-mat {d}/word.mat", "-mat: '{d}/word.mat': not a number among the first nine words"),
    ("-mat {d}/left.mat", "right-handed"),
    ("-mat {d}/flat.mat", "non-coplanar"),
    ("-sourcefile {d}/none.txt", "-sourcefile: file '{d}/none.txt' does not exist"),
    ("-sourcefile {d}/empty.txt", "-sourcefile: '{d}/empty.txt' holds no sources"),
    ("-sourcefile {d}/six.txt", "-sourcefile: '{d}/six.txt' line 1: 6 numbers; valid: at most 5"),
    ("-sourcefile {d}/word.txt", "-sourcefile: '{d}/word.txt' line 2: not a number"),
    ("-sourcefile {d}/zero.txt", "lambda = 0 m; valid: > 0 (metres)"),
    ("-sourcefile {d}/origin.txt", "the source position is (0, 0, 0)"),
    ("-sourcefile {d}/binary.txt", "is not a text file"),
    ("-mask {d}/A.mat", "-mask: '{d}/A.mat' is not an SMV (ADSC) image"),
    ("-mask {d}/cut.img", "-mask: '{d}/cut.img' holds 600 bytes; its header promises 8704"),
    ("-img {d}/zero.img", "-img '{d}/zero.img': PIXEL_SIZE = 0; valid: > 0"),
    ("-mask {d}/hdr.img -detpixels 32", "mask: 64 x 64 pixels (fast x slow) for a detector"),
    ("-dmin -1", "-dmin = -1; valid: >= 0"),
    ("-dmin", "-dmin: expected a value after it"),
    ("-mat", "-mat: expected a value after it"),
    ("-mask {d}/word_size.img", "-mask: '{d}/word_size.img': HEADER_BYTES = 'abc'; valid: an "
                                "even whole number of bytes from 12 to the file's 8704"),
    ("-img {d}/fraction_size.img", "-img: '{d}/fraction_size.img': HEADER_BYTES = '512.5';"),
    ("-mask {d}/odd_size.img", "-mask: '{d}/odd_size.img': HEADER_BYTES = '513'; valid: an "
                               "even"),
    ("-mask {d}/huge_size.img", "-mask: '{d}/huge_size.img': HEADER_BYTES = '9000'; valid: an "
                                "even whole number of bytes from 12 to the file's 8704"),
    ("-mask {d}/empty_size.img", "HEADER_BYTES = (no value); valid: an even"),
    ("-mask {d}/no_size.img", "HEADER_BYTES = (missing); valid: an even"),
]


@pytest.fixture
def bad_files(files):
    d = files
    (d / "short.mat").write_text("1 2 3\n4 5 6\n7 8\n")
    (d / "word.mat").write_text("1 0 0\n0 1 x\n0 0 1\n")
    (d / "left.mat").write_text("-0.01 0 0\n0 0.01 0\n0 0 0.01\n")
    (d / "flat.mat").write_text("0.01 0.01 0\n0 0 0.01\n0 0 0\n")
    (d / "empty.txt").write_text("\n \n")
    (d / "six.txt").write_text("1 2 3 4 5 6\n")
    (d / "word.txt").write_text("-10 0 0\n-10 zero 0\n")
    (d / "zero.txt").write_text("-10 0 0 1 0\n")
    (d / "origin.txt").write_text("0 0 0\n")
    (d / "binary.txt").write_bytes(b"\xff\xfe\x00")
    header = (d / "hdr.img").read_bytes()
    (d / "cut.img").write_bytes(header[:600])
    (d / "zero.img").write_bytes(header.replace(b"PIXEL_SIZE=0.3;", b"PIXEL_SIZE=0.0;"))
    for name, size in (("word", b"abc;"), ("fraction", b"512.5"), ("odd", b"513;"),
                       ("huge", b"9000"), ("empty", b";\n  ")):
        (d / f"{name}_size.img").write_bytes(header.replace(b"512;", size, 1))
    (d / "no_size.img").write_bytes(header.replace(b"HEADER_BYTES=", b"HEADER_BYTE =", 1))
    return d


@pytest.mark.parametrize(("args", "expected"), BAD)
def test_bad_input_files_name_flag_file_and_valid_range(bad_files, args, expected):
    d = str(bad_files)
    message = _message(f"-cell 70 80 90 90 90 90 -default_F 1 {args.format(d=d)}")
    assert expected.format(d=d) in message


@pytest.mark.parametrize(("args", "expected"), BAD[:3] + BAD[13:15])
def test_the_cli_exits_2_and_writes_nothing(bad_files, args, expected):
    d = str(bad_files)
    out = bad_files / "out.bin"
    words = ["-cell", "70", "80", "90", "90", "90", "90", "-default_F", "1",
             *args.format(d=d).split(), "-floatfile", str(out)]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["simulate", *words])
    assert status == 2
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1 and expected.format(d=d) in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: CrystalConfig(reciprocal_matrix=((1, 0, 0), (0, 1, 0))), "reciprocal_matrix:"),
    (lambda: CrystalConfig(reciprocal_matrix=((1, 0, 0), (0, 1, 0), (0, 0, float("nan")))),
     "3 finite numbers"),
    (lambda: SourceList(positions=(), wavelengths_A=()), "sources: 0 positions"),
    (lambda: SourceList(positions=((1.0, 0.0, 0.0),), wavelengths_A=(-1.0,)),
     "sources wavelength 0 = -1.0 A; valid: > 0"),
    (lambda: SourceList(positions=((1.0, 0.0, 0.0),), wavelengths_A=()), "one wavelength"),
    (lambda: PixelMask(kept=np.ones((2, 2))), "mask: valid: a 2-D numpy array of booleans"),
    (lambda: DetectorConfig(fpixels=2, spixels=3, mask=PixelMask(np.ones((2, 2), bool))),
     "mask: 2 x 2 pixels (fast x slow) for a detector of 2 x 3"),
    (lambda: DetectorConfig(dmin_A=-1.0), "dmin_A"),
    (lambda: Config().replace(sources=[(1, 0, 0)]), "sources: expected a SourceList"),
])
def test_the_api_fields_are_validated(call, expected):
    assert expected in one_line_message(call)
