"""``braggcheck simulate`` answers bad input with one stderr line and status 2, never a
traceback, and never leaves an output file behind when it fails."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from braggcheck.cli import main as cli
from braggcheck.cli import simulate as simulate_command

PREFIX = "braggcheck simulate: error: "
VALID = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "10", "-N", "2",
         "-detpixels", "4", "-oversample", "1"]


def _run_in_process(args: list[str]) -> tuple[int, list[str], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(["simulate", *args])
    return status, stderr.getvalue().splitlines(), stdout.getvalue()


def _run_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    source = str(Path(simulate_command.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": source, "NANOBRAGG_DISABLE_COMPILE": "1"}
    return subprocess.run([sys.executable, "-m", "braggcheck", "simulate", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def test_a_real_process_answers_garbage_with_one_line(tmp_path: Path) -> None:
    result = _run_process(["-cell", "100", "100", "oops", "-floatfile", "out.bin"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "braggcheck simulate: error: -cell: expected a number, got 'oops'"]
    assert os.listdir(tmp_path) == []


def test_a_missing_output_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    status, errors, stdout = _run_in_process([*VALID, "-floatfile",
                                              str(tmp_path / "absent" / "out.bin")])
    assert status == 2 and stdout == "" and len(errors) == 1
    assert errors[0].startswith(PREFIX + "-floatfile: folder ") and "does not exist" in errors[0]
    assert os.listdir(tmp_path) == []


def test_a_valid_run_writes_the_image(tmp_path: Path) -> None:
    status, errors, _ = _run_in_process([*VALID, "-floatfile", str(tmp_path / "out.bin")])
    assert (status, errors) == (0, [])
    assert os.listdir(tmp_path) == ["out.bin"]
    assert (tmp_path / "out.bin").stat().st_size == 4 * 4 * 4


@pytest.mark.parametrize(("content", "expected"), [
    (None, "does not exist"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe", "is not a text file"),
    (b"0 0 0 1\n1 0 0 1\n1 1 F 1\n", "line 3: not a number"),
    (b"", "holds no reflections"),
])
def test_hkl_problems(tmp_path: Path, content: bytes | None, expected: str) -> None:
    table = tmp_path / "f.hkl"
    if content is not None:
        table.write_bytes(content)
    out = tmp_path / "out.bin"
    status, errors, stdout = _run_in_process([*VALID, "-hkl", str(table), "-nointerpolate",
                                              "-floatfile", str(out)])
    assert status == 2 and len(errors) == 1 and stdout == ""
    assert errors[0].startswith(PREFIX + "-hkl: ") and expected in errors[0]
    assert not out.exists()


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    out = tmp_path / "out.bin"
    status, errors, _ = _run_in_process([*VALID, "-floatfile", str(out)])
    assert status == 2  # the message names the file, like every other bad-output error
    assert errors == [f"braggcheck simulate: error: cannot write {str(out)!r}: "
                      "No space left on device"]
    assert os.listdir(tmp_path) == []


def test_an_interrupted_run_leaves_nothing(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate_command, "simulate", interrupt)
    status, errors, _ = _run_in_process([*VALID, "-floatfile", str(tmp_path / "out.bin")])
    assert (status, errors) == (130, ["braggcheck simulate: interrupted"])
    assert os.listdir(tmp_path) == []


def test_an_unknown_command() -> None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert cli.main(["simulte"]) == 2
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("braggcheck: error: unknown command 'simulte'; valid: simulate")


@pytest.mark.parametrize("word", ["-fro\nb", "-x\r\x0c\u2028y", "stray\x1cword"])
def test_line_breaks_in_arguments_stay_on_one_line(word: str) -> None:
    status, errors, _ = _run_in_process([*VALID, word])
    assert status == 2 and len(errors) == 1 and errors[0].startswith(PREFIX)
