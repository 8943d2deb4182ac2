"""Output paths are checked before any work, and a write either completes or leaves nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from braggcheck import ConfigError
from braggcheck.output_files import check_output_path, write_atomically


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"-floatfile: folder .* does not exist"):
        check_output_path("-floatfile", tmp_path / "absent" / "x.bin")


def test_a_folder_as_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder; give a file name"):
        check_output_path("-floatfile", tmp_path)


@pytest.mark.parametrize("name", ["", "a\0b", 5])
def test_unusable_names_are_refused(name: object) -> None:
    with pytest.raises(ConfigError, match="is not a usable file name"):
        check_output_path("-floatfile", name)  # type: ignore[arg-type]


def test_a_good_path_passes(tmp_path: Path) -> None:
    assert check_output_path("-floatfile", tmp_path / "x.bin") == tmp_path / "x.bin"


def test_write_replaces_the_file_completely(tmp_path: Path) -> None:
    target = tmp_path / "image.bin"
    target.write_bytes(b"old contents that are longer")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["image.bin"]


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"),
                                     KeyboardInterrupt()])
def test_a_failure_during_writing_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 failure: BaseException) -> None:
    def fail(*args: object) -> None:
        raise failure

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(type(failure)):
        write_atomically(tmp_path / "image.bin", b"x" * 1000)
    assert os.listdir(tmp_path) == []  # neither the target nor the temporary file


def test_a_failure_keeps_the_previous_file_intact(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "image.bin"
    target.write_bytes(b"previous")

    real_fdopen = os.fdopen

    def broken_fdopen(handle: int, mode: str) -> object:
        """A stream that writes half the payload, then fails as a full disk would."""
        stream = real_fdopen(handle, mode)
        real_write = stream.write

        def write(data: bytes) -> int:
            real_write(data[: len(data) // 2])
            stream.flush()
            raise OSError(28, "No space left on device")

        stream.write = write
        return stream

    monkeypatch.setattr(os, "fdopen", broken_fdopen)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, b"y" * 4096)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["image.bin"]


def test_written_file_has_the_mode_a_plain_open_would_give(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = tmp_path / "image.bin"
        write_atomically(target, b"\x00" * 8)
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(umask)
