"""``braggcheck report``: files, their content, and bad arguments (exit 2, nothing written)."""

from __future__ import annotations

import json

import pytest
import torch

from braggcheck import PARAMETERS
from braggcheck.cli.main import main as cli_main
from braggcheck.cli.report import main
from braggcheck.testing.nanobragg.tier2.report import coverage_markdown, node_ids
from braggcheck.testing.nanobragg.tier2.table import CASES

# torch loads its forward-mode decompositions with torch.jit.script on first use (torch 2.13).
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "gradients"
    threads = torch.get_num_threads()
    status = main(["--out", str(out), "--date", "2026-01-02", "--cases", "fluence@direct",
                   "--no-plots"])
    assert torch.get_num_threads() == threads, "the report must restore the thread count"
    return status, out


def test_report_writes_the_dated_markdown_json_and_coverage(report):
    status, out = report
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "2026-01-02-tier2.json", "2026-01-02-tier2.md", "coverage.md"]


def test_the_json_twin_holds_derivatives_errors_tolerances_and_times(report):
    _, out = report
    record = json.loads((out / "2026-01-02-tier2.json").read_text())
    (row,) = record["cases"]
    assert row["case"] == "fluence@direct" and row["passed"]
    for key in ("analytic", "numerical", "max_abs_error", "max_rel_error", "eps", "atol",
                "rtol", "seconds"):
        assert isinstance(row[key], float), key
    assert row["analytic"] == pytest.approx(row["numerical"], rel=1e-6)
    assert min(record["taylor"]["exact"]["rates"]) >= 1.9
    assert record["taylor"]["gradient_x_1.01"]["failure"]
    assert record["wall_seconds"] > 0


def test_the_markdown_report_names_the_case_and_the_result(report):
    _, out = report
    text = (out / "2026-01-02-tier2.md").read_text()
    assert "# Tier-2 gradient report, 2026-01-02" in text
    assert "`fluence@direct`" in text and "**Result: PASS**" in text


def test_coverage_lists_every_parameter_with_its_tests():
    text = coverage_markdown()
    for name in PARAMETERS:
        assert f"| `{name}` |" in text
    assert "**NONE**" not in text


def test_test_ids_match_the_parametrized_tests():
    (pin,) = [c for c in CASES if c.id == "misset_rot_x@misset89"]
    assert node_ids(pin) == [
        f"tests/gradcheck/test_tier2.py::{t}[misset_rot_x@misset89]"
        for t in ("test_gradcheck", "test_forward_mode", "test_gradgradcheck")]


@pytest.mark.parametrize("args, message", [
    (["--date", "2026-13-01"], "--date"),
    (["--cases", "no-such-case"], "--cases"),
    (["--pytest", "--tests", "/no/such/folder"], "--tests"),
])
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(args, message, tmp_path,
                                                               capsys):
    out = tmp_path / "gradients"
    assert cli_main(["report", "--out", str(out), *args]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not out.exists()


def test_an_out_path_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep")
    assert cli_main(["report", "--out", str(target), "--coverage-only"]) == 2
    assert "--out" in capsys.readouterr().err
    assert target.read_text() == "keep"


def test_coverage_only_writes_just_the_audit(tmp_path):
    assert main(["--out", str(tmp_path), "--coverage-only"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["coverage.md"]
    assert (tmp_path / "coverage.md").read_text() == coverage_markdown()
