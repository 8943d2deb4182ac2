"""The mutation runner on a toy tree (a few seconds): a killed, a surviving, a timed-out and
an equivalent mutant are classified correctly; the command's options and its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from braggcheck.cli import main as cli
from braggcheck.testing.nanobragg.mutation.catalogue import catalogue
from braggcheck.testing.nanobragg.mutation.mutant import Mutant
from braggcheck.testing.nanobragg.mutation.report import score, write_report
from braggcheck.testing.nanobragg.mutation.runner import (
    COMMANDS,
    SUITES,
    MutantResult,
    Runner,
    classify,
    combined,
    copy_tree,
    first_failure,
    suite_environment,
)

# The toy package is called braggcheck so that mutate_tree finds it; the installed braggcheck
# pytest plugin would then import the toy instead, so it is switched off for the toy suite.
TOY_SUITE = ("-m", "pytest", "tests", "-x", "-q", "-p", "no:cacheprovider",
             "-p", "no:braggcheck")
TOY = '''def double(x):
    # twice x
    return 2 * x
'''
TOY_TEST = '''from braggcheck.toy import double


def test_double():
    assert double(3) == 6
'''


def _toy_tree(root: Path) -> Path:
    package = root / "src" / "braggcheck"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "toy.py").write_text(TOY)
    (root / "tests").mkdir()
    (root / "tests" / "test_toy.py").write_text(TOY_TEST)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = ''\n")
    return root


def _code_only(root: Path) -> str:
    """A fake probe: the toy's code without comments."""
    text = (root / "src" / "braggcheck" / "toy.py").read_text()
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))


def _mutant(id_: str, original: str, replacement: str, equivalent: bool = False) -> Mutant:
    return Mutant(id_, "toy.py", original, replacement, "factor", "toy", equivalent)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(_toy_tree(tmp_path / "toy"), TOY_SUITE, timeout=60,
                  fingerprint=_code_only)


def test_a_wrong_factor_is_killed_and_the_killing_test_named(runner: Runner) -> None:
    result = runner.run(_mutant("toy-factor", "return 2 * x", "return 3 * x"))
    assert result.status == "killed"
    assert result.killer == "tests/test_toy.py::test_double"
    assert (runner.root / "src" / "braggcheck" / "toy.py").read_text() == TOY  # copy only


def test_a_change_the_tests_cannot_see_survives(runner: Runner) -> None:
    result = runner.run(_mutant("toy-abs", "return 2 * x", "return 2 * abs(x)"))
    assert (result.status, result.killer) == ("survived", None)


def test_a_hanging_mutant_times_out(tmp_path: Path) -> None:
    slow = Runner(_toy_tree(tmp_path / "toy"), TOY_SUITE, timeout=3)
    result = slow.run(_mutant("toy-hang", "return 2 * x",
                              "while True:\n        pass"))
    assert result.status == "timeout" and result.seconds < 30


def test_equivalence_is_decided_by_the_probe(runner: Runner) -> None:
    same = runner.run(_mutant("toy-comment", "# twice x", "# two times x", equivalent=True))
    assert same.status == "equivalent"
    wrong = runner.run(_mutant("toy-claimed", "return 2 * x", "return x + x + 0 * x - 0",
                               equivalent=True))
    assert wrong.status == "not-equivalent"


def test_a_mutant_that_does_not_apply_is_an_error(runner: Runner) -> None:
    result = runner.run(_mutant("toy-stale", "return 4 * x", "return 5 * x"))
    assert result.status == "error" and "toy-stale" in result.killer


def test_the_copy_holds_sources_and_tests_but_no_caches(tmp_path: Path) -> None:
    root = _toy_tree(tmp_path / "toy")
    (root / ".git").mkdir()
    (root / ".venv").mkdir()
    (root / "src" / "braggcheck" / "__pycache__").mkdir()
    # The toy target's, the docs' and tests/gradcheck's (reports/gradients) tests read them.
    for folder in ("examples", "docs", "reports"):
        (root / folder).mkdir()
        (root / folder / "page.md").write_text("x")
    (root / "README.md").write_text("# toy")
    copy = copy_tree(root, tmp_path / "copy")
    assert sorted(p.name for p in copy.iterdir()) == ["README.md", "docs", "examples",
                                                       "pyproject.toml", "reports", "src",
                                                       "tests"]
    assert not (copy / "src" / "braggcheck" / "__pycache__").exists()
    env = suite_environment(copy, "/opt/nanoBragg")
    assert env["PYTHONPATH"] == str(copy / "src") and env["NANOBRAGG_DISABLE_COMPILE"] == "1"
    assert env["NANOBRAGG_REFERENCE"] == "/opt/nanoBragg"
    assert "NANOBRAGG_REFERENCE" not in suite_environment(copy, None)


def test_pytest_statuses_are_classified() -> None:
    output = "..F\nFAILED tests/a.py::test_b[x] - AssertionError: no\n1 failed"
    assert first_failure(output) == "tests/a.py::test_b[x]"
    assert classify(1, output) == ("killed", "tests/a.py::test_b[x]")
    # A collection error (exit 2) is no kill: the copy may lack what a test module imports.
    assert classify(2, "ERROR tests/c.py\n") == ("error", "pytest exit status 2: tests/c.py")
    assert classify(0, "") == ("survived", None)
    assert classify(None, "") == ("timeout", None)
    assert classify(5, "no tests ran")[0] == "error"


def _result(id_: str, status: str) -> MutantResult:
    return MutantResult(id_, "toy.py", "sign", "a slip", status, 1.0,
                        "t::k" if status == "killed" else None)


def test_the_report_is_markdown_with_json_beside_it(tmp_path: Path) -> None:
    results = [_result("a", "killed"), _result("b", "survived"), _result("c", "equivalent")]
    assert score(results) == (1, 2)
    meta = {"suite": "properties", "suite_command": "python -m pytest", "timeout_s": 5.0,
            "reference": None, "selected": 3}
    write_report(tmp_path / "m.md", results, meta)
    text = (tmp_path / "m.md").read_text()
    assert "**Score: 1 / 2 killed (50%)**" in text and "`b` (toy.py, survived)" in text
    data = json.loads((tmp_path / "m.json").read_text())
    assert [r["status"] for r in data["results"]] == ["killed", "survived", "equivalent"]
    assert (data["killed"], data["counted"]) == (1, 2)


@pytest.mark.parametrize(("args", "expected"), [
    (["--suite", "some"], "--suite = 'some'; valid: properties, gradcheck, rest, check, all, "
                          "commands"),
    (["--suite", "rest,rest"], "--suite = 'rest,rest'; valid:"),
    (["--timeout", "0"], "--timeout = 0; valid: > 0 seconds"),
    (["--jobs", "0"], "--jobs = 0; valid: 1 to 64"),
    (["--reference", "/nonexistent/nanoBragg"], "--reference: '/nonexistent/nanoBragg' is not"),
    (["--report", "/nonexistent/folder/m.md"], "--report: folder '/nonexistent/folder'"),
    (["--only", "no-such-mutant"], "--only: unknown mutant id(s) no-such-mutant"),
    (["--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_options_give_one_line_and_status_2(args, expected, capsys) -> None:
    assert cli.main(["mutants", *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("braggcheck mutants: error: ")
    assert expected in lines[0] and captured.out == ""


def test_list_names_every_mutant(capsys) -> None:
    assert cli.main(["mutants", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [m.id for m in catalogue()]


def test_the_command_runs_selected_mutants_of_a_tree(tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    # The real suites are too slow here; the toy suite stands in for them.
    monkeypatch.setitem(SUITES, "properties", TOY_SUITE)
    toy = _mutant("toy-factor", "return 2 * x", "return 3 * x")
    monkeypatch.setattr("braggcheck.cli.mutants.select", lambda ids: (toy,))
    root = _toy_tree(tmp_path / "toy")
    report = tmp_path / "mutation.md"
    assert cli.main(["mutants", "--root", str(root), "--report", str(report),
                     "--only", "toy-factor"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("baseline: the unmutated suite passed")
    assert out[1].split()[:2] == ["toy-factor", "killed"]
    assert out[-1] == "mutation score: 1 / 1 killed"
    assert json.loads(report.with_suffix(".json").read_text())["results"][0]["killer"] == (
        "tests/test_toy.py::test_double")


@pytest.mark.slow
def test_a_real_backward_mutant_is_killed_by_the_property_suite() -> None:
    real_root = Path(cli.__file__).resolve().parents[3]  # src/braggcheck/cli/main.py
    mutant = next(m for m in catalogue() if m.id == "bwd-offset-sign")
    result = Runner(real_root, SUITES["properties"], timeout=600).run(mutant)
    assert result.status == "killed" and result.killer.startswith("tests/properties/")


def test_parallel_jobs_report_in_catalogue_order(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(SUITES, "properties", TOY_SUITE)
    mutants = (_mutant("toy-survives", "# twice x", "# two times x"),
               _mutant("toy-factor", "return 2 * x", "return 3 * x"))
    monkeypatch.setattr("braggcheck.cli.mutants.select", lambda ids: mutants)
    report = tmp_path / "mutation.md"
    assert cli.main(["mutants", "--root", str(_toy_tree(tmp_path / "toy")), "--report",
                     str(report), "--jobs", "2", "--no-baseline"]) == 0
    data = json.loads(report.with_suffix(".json").read_text())
    assert [(r["id"], r["status"]) for r in data["results"]] == [
        ("toy-survives", "survived"), ("toy-factor", "killed")]
    assert capsys.readouterr().out.splitlines()[-1] == "mutation score: 1 / 2 killed"


# A second toy command that only sees x = 0 (it cannot tell 2x from 3x).
TOY_ZERO_TEST = '''from braggcheck.toy import double


def test_zero():
    assert double(0) == 0
'''


def _two_command_tree(root: Path) -> tuple[Path, dict[str, tuple[str, ...]]]:
    _toy_tree(root)
    (root / "tests" / "zero").mkdir()
    (root / "tests" / "zero" / "test_zero.py").write_text(TOY_ZERO_TEST)
    blind = ("-m", "pytest", "tests/zero", "-x", "-q", "-p", "no:cacheprovider",
             "-p", "no:braggcheck")
    sees = (*TOY_SUITE, "--ignore=tests/zero")
    return root, {"blind": blind, "sees": sees}


def test_commands_run_until_the_first_kill_unless_per_command(tmp_path: Path) -> None:
    root, commands = _two_command_tree(tmp_path / "toy")
    factor = _mutant("toy-factor", "return 2 * x", "return 3 * x")
    first = Runner(root, dict(reversed(commands.items())), timeout=60).run(factor)
    assert first.status == "killed" and [c[:2] for c in first.commands] == [("sees", "killed")]
    every = Runner(root, dict(reversed(commands.items())), timeout=60,
                   per_command=True).run(factor)
    assert [c[:2] for c in every.commands] == [("sees", "killed"), ("blind", "survived")]
    assert every.killer == "tests/test_toy.py::test_double"
    blind_only = Runner(root, {"blind": commands["blind"]}, timeout=60).run(factor)
    assert blind_only.status == "survived" and blind_only.commands == ()


def test_a_mutant_is_killed_by_any_command_and_open_on_an_error() -> None:
    assert combined([("a", "survived", None), ("b", "killed", "t")]) == ("killed", "t")
    assert combined([("a", "error", "x"), ("b", "survived", None)]) == ("error", "x")
    assert combined([("a", "timeout", None), ("b", "survived", None)]) == ("timeout", None)
    assert combined([("a", "survived", None)]) == ("survived", None)


def test_the_four_commands_are_the_developers_commands() -> None:
    assert COMMANDS == ("properties", "gradcheck", "rest", "check")
    assert "tests/properties" in SUITES["properties"] and "framework" in SUITES["properties"][-1]
    assert "tests/gradcheck" in SUITES["gradcheck"]
    assert {"--ignore=tests/properties", "--ignore=tests/gradcheck"} <= set(SUITES["rest"])
    assert SUITES["check"] == ("-m", "braggcheck", "check")


def test_the_report_scores_each_command_and_their_union(tmp_path: Path) -> None:
    results = [
        MutantResult("a", "toy.py", "sign", "s", "killed", 1.0, "t::k",
                     (("properties", "killed", "t::k"), ("rest", "survived", None))),
        MutantResult("b", "toy.py", "sign", "s", "killed", 1.0, "u::k",
                     (("properties", "survived", None), ("rest", "killed", "u::k"))),
        MutantResult("c", "toy.py", "sign", "s", "survived", 1.0, None,
                     (("properties", "survived", None), ("rest", "survived", None))),
        MutantResult("d", "toy.py", "sign", "s", "killed", 1.0, "t::k",
                     (("properties", "killed", "t::k"),)),
    ]
    meta = {"suite": "properties,rest", "suite_command": "python -m pytest", "timeout_s": 5.0,
            "reference": None, "selected": 4}
    write_report(tmp_path / "m.md", results, meta)
    text = (tmp_path / "m.md").read_text()
    assert "| properties | 2 | 2 | 0 | 0 | 2 / 4 |" in text
    assert "| rest | 1 | 2 | 0 | 1 | 1 / 3 |" in text
    assert "| **union** | 3 | 1 | 0 | 0 | 3 / 4 |" in text
    assert "| `d` | killed | - |" in text
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["results"][1]["commands"][1] == ["rest", "killed", "u::k"]
