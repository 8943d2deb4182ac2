"""Progress: a bar only on a terminal outside CI, a one-line summary always."""

from __future__ import annotations

import io

import pytest

from braggcheck.cli.progress import Progress, interactive


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_output_gets_only_the_summary():
    stream = io.StringIO()
    with Progress(3, "cases", stream=stream, unit="case") as bar:
        for label in "abc":
            bar.advance(label)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("cases: done: 3/3 cases in ")


def test_a_terminal_gets_a_bar_unless_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    stream = Terminal()
    assert interactive(stream)
    with Progress(2, "cases", stream=stream) as bar:
        bar.advance("first")
        assert "cases:  50%" in stream.getvalue()  # tqdm's bar with the estimate
        bar.advance("second")
    monkeypatch.setenv("CI", "true")
    assert not interactive(Terminal())


def test_an_interrupted_run_says_so():
    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt), Progress(5, "bench", stream=stream, unit="row") as bar:
        bar.advance()
        raise KeyboardInterrupt
    assert stream.getvalue().startswith("bench: interrupted after 1/5 rows in ")


def test_a_command_with_its_own_closing_line_gets_no_summary():
    stream = io.StringIO()
    with Progress(2, "check gradient", stream=stream, summary=False) as bar:
        bar.advance()
    assert stream.getvalue() == ""
