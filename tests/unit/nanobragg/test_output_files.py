"""Output paths are checked before any work: missing folders, folders, special files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from braggcheck import ConfigError
from braggcheck.nanobragg.output_files import check_output_path


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


def test_standard_output_and_streams_are_accepted(tmp_path: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    for path in ("-", "/dev/stdout", str(fifo)):
        assert check_output_path("-floatfile", path) == Path(path)


def test_a_symlink_is_checked_at_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "absent" / "target.bin")
    with pytest.raises(ConfigError, match=r"folder .*absent.* does not exist"):
        check_output_path("-floatfile", link)
    link.unlink()
    link.symlink_to(tmp_path / "target.bin")
    assert check_output_path("-floatfile", link) == link


def test_a_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(ConfigError, match="neither a regular file, a FIFO nor a character"):
            check_output_path("-floatfile", path)
