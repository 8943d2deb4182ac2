"""-hkl files: every problem is one line naming the file (and the line); duplicates: last wins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from braggcheck import ConfigError
from braggcheck.sim.hkl import MAX_GRID_POINTS, HKLTable, read_hkl


def _write(tmp_path: Path, content: str | bytes, name: str = "t.hkl") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _message(path: Path) -> str:
    with pytest.raises(ConfigError) as error:
        read_hkl(path)
    text = str(error.value)
    assert "\n" not in text and text.startswith("-hkl: ")
    return text


def test_missing_file(tmp_path: Path) -> None:
    assert "does not exist" in _message(tmp_path / "absent.hkl")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    assert "cannot read" in _message(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (the CI user here), so the refusal is simulated.
    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    path = _write(tmp_path, "0 0 0 1\n")
    monkeypatch.setattr(Path, "read_text", refuse)
    assert "cannot read" in _message(path) and "Permission denied" in _message(path)


def test_binary_file(tmp_path: Path) -> None:
    assert "is not a text file" in _message(_write(tmp_path, bytes(range(128, 256))))


def test_binary_file_that_decodes_as_utf8(tmp_path: Path) -> None:
    text = _message(_write(tmp_path, np.zeros(1000, dtype="<f4").tobytes()))
    assert "is not a text file" in text


def test_a_long_bad_line_is_cut_in_the_message(tmp_path: Path) -> None:
    text = _message(_write(tmp_path, "0 0 0 1\n" + "9 " * 500 + "\n"))
    assert "line 2:" in text and "found 500" in text and len(text) < 250


@pytest.mark.parametrize(("content", "line", "expected"), [
    ("0 0 0 1\n1 0 0\n", 2, "expected 4 numbers 'h k l F', found 3"),
    ("# header\n\n0 0 0 1\n1 0 0 x\n", 4, "not a number"),
    ("0 0 0 1\n0.5 0 0 1\n", 2, "h, k, l must be integers"),
    ("0 0 0 nan\n", 1, "values must be finite"),
    ("0 0 0 1 2\n", 1, "found 5"),
])
def test_malformed_lines_name_the_line(tmp_path: Path, content: str, line: int,
                                       expected: str) -> None:
    text = _message(_write(tmp_path, content))
    assert f"line {line}:" in text and expected in text and "t.hkl" in text


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_tables(tmp_path: Path, content: str) -> None:
    assert "holds no reflections" in _message(_write(tmp_path, content))


def test_a_table_spanning_too_many_grid_points(tmp_path: Path) -> None:
    text = _message(_write(tmp_path, "0 0 0 1\n1000 1000 1000 1\n"))
    assert f"at most {MAX_GRID_POINTS}" in text


def test_duplicates_keep_the_last_value(tmp_path: Path) -> None:
    table = read_hkl(_write(tmp_path, "1 0 0 5\n0 0 0 1\n1 0 0 7\n"), default_F=0.0)
    assert table.origin == (0, 0, 0)
    assert table.amplitudes[1, 0, 0] == 7.0 and table.amplitudes[0, 0, 0] == 1.0


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    table = read_hkl(_write(tmp_path, "\ufeff0 0 0 3\r\n-1 0 0 2\r\n".encode()))
    assert table.origin == (-1, 0, 0) and table.amplitudes[1, 0, 0] == 3.0


@pytest.mark.parametrize(("origin", "grid", "expected"), [
    ((0, 0), np.ones((1, 1, 1)), "hkl origin"),
    ((0, 0, 0.5), np.ones((1, 1, 1)), "hkl origin"),
    ((0, 0, 0), np.ones((2, 2)), "non-empty 3-D"),
    ((0, 0, 0), np.full((1, 1, 1), np.nan), "finite real numbers"),
    ((0, 0, 0), np.array([[["a"]]]), "finite real numbers"),
])
def test_tables_built_by_hand_are_checked(origin: tuple, grid: np.ndarray,
                                          expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        HKLTable(origin=origin, amplitudes=grid)
