"""The reference runner: every way a program can fail is one line naming it and the reason."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.reference import (
    ENVIRONMENT_VARIABLE,
    ReferenceError,
    compare,
    reference_program,
    run_reference,
    using_reference,
)

CONFIG = from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 100 -N 5 "
                                    "-detpixels 8")


def _script(tmp_path, body: str, name: str = "prog"):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def _one_line(caught, *words):
    text = str(caught.value)
    assert "\n" not in text
    for word in words:
        assert word in text


def test_a_missing_program(tmp_path):
    with pytest.raises(ReferenceError) as caught:
        reference_program(tmp_path / "nope")
    _one_line(caught, "nope", "no such file")


def test_a_program_that_is_not_executable(tmp_path):
    path = tmp_path / "plain"
    path.write_text("data")
    with pytest.raises(ReferenceError) as caught:
        reference_program(path)
    _one_line(caught, "plain", "not executable")


def test_no_program_configured(monkeypatch):
    monkeypatch.delenv("NANOBRAGG_REFERENCE", raising=False)
    with pytest.raises(ReferenceError) as caught:
        reference_program()
    _one_line(caught, "NANOBRAGG_REFERENCE")


def test_a_non_zero_exit(tmp_path):
    path = _script(tmp_path, "echo 'bad flag' >&2; exit 3")
    with pytest.raises(ReferenceError) as caught:
        run_reference(path, ["-cell", "1"], 8, 8)
    _one_line(caught, str(path), "exit status 3", "bad flag")


def test_a_timeout(tmp_path):
    """The program waits to read a FIFO nobody ever writes: it can only end by the timeout
    (a ``sleep 5`` could end first on a machine that stalls the test for 5 s)."""
    never = tmp_path / "never.fifo"
    os.mkfifo(never)
    path = _script(tmp_path, f"exec cat '{never}'")
    with pytest.raises(ReferenceError) as caught:
        run_reference(path, [], 8, 8, timeout_s=0.2)
    _one_line(caught, str(path), "timed out after 0.2 s")


def test_a_float_file_of_the_wrong_size(tmp_path):
    # The last two words are "-floatfile PATH": write 3 bytes there.
    path = _script(tmp_path, 'for last; do :; done; printf abc > "$last"')
    with pytest.raises(ReferenceError) as caught:
        run_reference(path, [], 8, 8)
    _one_line(caught, str(path), "3 bytes", "expected 256")


def test_no_float_file(tmp_path):
    with pytest.raises(ReferenceError) as caught:
        run_reference(_script(tmp_path, "exit 0"), [], 8, 8)
    _one_line(caught, "wrote no -floatfile")


def test_it_runs_in_a_temporary_folder_and_reads_float32(tmp_path, monkeypatch):
    """Default output files land in a temporary folder, never in the working directory."""
    monkeypatch.chdir(tmp_path)
    # The image is made here and copied by the program: a bare ``python3`` in the program
    # would be whatever PATH finds (a pyenv shim, a system Python without numpy).
    image_file = tmp_path / "image.f32"
    image_file.write_bytes(np.arange(64, dtype="<f4").tobytes())
    body = ('for last; do :; done; touch intimage.img; pwd > "$HOME/where"; '
            f'cp "{image_file}" "$last"')
    monkeypatch.setenv("HOME", str(tmp_path))
    image = run_reference(_script(tmp_path, body), ["-cell", "1"], 8, 8)
    assert image.shape == (8, 8) and image[1, 0] == 8.0 and image.dtype == np.float64
    assert not (tmp_path / "intimage.img").exists()
    assert (tmp_path / "where").read_text().strip() != str(tmp_path)


def test_compare_passes_only_within_the_tolerance(tmp_path):
    """A program writing braggcheck's own image (float32) passes; 1e-4 off fails."""
    from braggcheck.nanobragg.output_files import write_float_image
    from braggcheck.sim.simulator import simulate

    good = tmp_path / "good.bin"
    write_float_image(good, simulate(CONFIG))
    image = simulate(CONFIG)
    bad = tmp_path / "bad.bin"
    write_float_image(bad, image * (1 + 1e-4))
    for source, passes in ((good, True), (bad, False)):
        program = _script(tmp_path, f'for last; do :; done; cp {source} "$last"',
                          name=f"copy_{source.stem}")
        result = compare(CONFIG, program)
        assert result.passed is passes, result.summary()


def test_the_automatic_oversample_tie_found_by_the_oracle():
    """lambda 0.5, 5 x 100 A, 100 mm, 0.1 mm: 3 x 500 A x 0.1 mm / (0.5 A x 100 mm) is exactly 3;
    the reference program prints 'auto-selected 3-fold oversampling'. Another order of
    operations gave 3 + 1 ulp and 4 subpixels, 1.4 % off the reference image."""
    config = from_nanobragg_args("-cell 100 100 100 90 90 90 -default_F 1 -N 5 "
                                        "-lambda 0.5 -detpixels 8")
    assert config.oversample == 3


def test_a_chosen_program_reaches_the_checks_of_this_thread_only(tmp_path, monkeypatch):
    """``braggcheck diff --reference`` passes its program down explicitly (a context variable),
    never through the environment: another thread and the code after the block do not see it."""
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    program = tmp_path / "fake_nanoBragg"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    elsewhere: list[str] = []

    def look() -> None:
        try:
            reference_program()
        except ReferenceError as exc:
            elsewhere.append(str(exc))

    with using_reference(program):
        assert reference_program() == program.absolute()
        assert ENVIRONMENT_VARIABLE not in os.environ
        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
    assert len(elsewhere) == 1 and "none given" in elsewhere[0]
    with pytest.raises(ReferenceError, match="none given"):
        reference_program()
