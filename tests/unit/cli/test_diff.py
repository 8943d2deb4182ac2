"""``braggcheck diff`` finds a planted forward bug with no C program: a fake reference.

The fake (tests/fake_reference.py) renders with braggcheck and makes point pixels' solid angle
0.1 % too large; the command must find it, shrink it to a short flag list that holds
-point_pixel, store it, and the stored file must replay (exit 1) with the fake as reference.
"""

from __future__ import annotations

import re

import pytest

from braggcheck.cli.main import main

from ...fake_reference import fake_reference


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NANOBRAGG_REFERENCE", raising=False)
    with fake_reference(tmp_path) as script:
        yield script


@pytest.fixture
def faithful_fake(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with fake_reference(tmp_path, planted=False) as script:
        yield script


def test_diff_finds_and_shrinks_a_planted_point_pixel_bug(fake, capsys, monkeypatch):
    # Generated examples only: stored ones with point pixels would fail first, unshrunk.
    assert main(["diff", "--reference", str(fake), "--examples", "40", "--no-stored"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH (shrunk)" in out
    minimal = re.search(r"^minimal flag list: (.*)$", out, re.MULTILINE).group(1).split()
    flags = [w for w in minimal if w.startswith("-") and w[1:2].isalpha()]
    assert "-point_pixel" in flags
    assert len(flags) <= 8, minimal
    assert "regions reached:" in out
    assert "replay with: braggcheck replay reports/failures/diff_reference.json" in out
    # The stored failure replays with the program from NANOBRAGG_REFERENCE ...
    monkeypatch.setenv("NANOBRAGG_REFERENCE", str(fake))
    assert main(["replay", "reports/failures/diff_reference.json"]) == 1
    assert "reference: FAIL" in capsys.readouterr().out
    # ... and without one it says so in one line, exit 2.
    monkeypatch.delenv("NANOBRAGG_REFERENCE")
    assert main(["replay", "reports/failures/diff_reference.json"]) == 2
    err = capsys.readouterr().err
    assert "NANOBRAGG_REFERENCE" in err and err.count("\n") == 1


def test_diff_with_a_bad_program_exits_2_in_one_line(tmp_path, capsys):
    assert main(["diff", "--reference", str(tmp_path / "missing"), "--examples", "1"]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and "no such file" in err and err.count("\n") == 1
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 7\n")
    broken.chmod(0o755)
    assert main(["diff", "--reference", str(broken), "--examples", "1"]) == 2
    err = capsys.readouterr().err
    assert "exit status 7" in err and err.count("\n") == 1


def test_check_says_when_no_reference_is_configured(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NANOBRAGG_REFERENCE", raising=False)
    assert main(["check", "--examples", "1", "--checks", "finite"]) == 0
    out = capsys.readouterr().out
    assert "reference        not run: no reference program configured" in out


def test_check_runs_the_differential_check_with_a_reference(faithful_fake, capsys):
    # The stored examples and one generated one, against a fake without the bug: all agree.
    assert main(["check", "--examples", "1", "--checks", "finite", "--reference",
                 str(faithful_fake)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^reference        ok \(.*fake_nanobragg: \d+ configurations", out,
                     re.MULTILINE), out


def test_stored_examples_that_reach_the_bug_fail_first(fake, capsys):
    """Without --no-stored the stored examples run first; several hold point pixels."""
    assert main(["diff", "--reference", str(fake), "--examples", "1"]) == 1
    assert "-point_pixel" in capsys.readouterr().out
