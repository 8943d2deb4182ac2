"""``braggcheck replay`` and ``braggcheck check`` from the command line."""

from __future__ import annotations

import subprocess
import sys

from braggcheck import PARAMETERS
from braggcheck.cli.main import main
from braggcheck.testing.nanobragg.harness import EXAMPLES_DIR

from ...toy import EXAMPLES, TOY_EXAMPLES


def test_replay_prints_per_parameter_derivatives(capsys):
    path = EXAMPLES_DIR / "triclinic_obtuse_misset.json"
    assert main(["replay", str(path), "--check", "gradient"]) == 0
    out = capsys.readouterr().out
    assert "analytic" in out and "numerical" in out and "cell_alpha" in out
    assert "gradient: PASS" in out


def test_replay_every_check_of_an_example(capsys):
    assert main(["replay", str(EXAMPLES_DIR / "baseline.json")]) == 0
    out = capsys.readouterr().out
    assert "all checks passed" in out and "brightest_spot: PASS" in out


def test_replay_missing_file_exits_2(capsys, tmp_path):
    assert main(["replay", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_check_runs_and_summarises(tmp_path):
    command = [sys.executable, "-m", "braggcheck", "check", "--examples", "2", "--seed", "3",
               "--checks", "gradient"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configurations tried" in result.stdout
    assert "worst relative error" in result.stdout
    # Focused cases top up what two random draws miss: every registry parameter is resolved.
    assert f"parameters checked: {len(PARAMETERS)} (" in result.stdout, result.stdout
    assert "parameters not resolved" not in result.stdout


def test_check_rejects_unknown_check(capsys):
    assert main(["check", "--checks", "nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_check_fails_on_a_broken_simulator_and_prints_the_replay(tmp_path, monkeypatch,
                                                                  capsys):
    import braggcheck.sim.simulator

    original = braggcheck.sim.simulator.build_state

    def detached(*args, **kwargs):  # every parameter's gradient cut off
        return {k: v.detach() for k, v in original(*args, **kwargs).items()}

    monkeypatch.setattr(braggcheck.sim.simulator, "build_state", detached)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--examples", "5", "--checks", "gradient"]) == 1
    out = capsys.readouterr().out
    assert "gradient         FAIL" in out
    assert "braggcheck replay reports/failures/check_gradient.json" in out
    assert (tmp_path / "reports" / "failures" / "check_gradient.json").exists()


def test_replay_a_case_of_another_target_by_naming_it(capsys):
    path = TOY_EXAMPLES / "thin_textured_ring_odd_detector.json"
    assert main(["replay", str(path), "--target", f"{EXAMPLES / 'toy_target.py'}:TOY"]) == 0
    out = capsys.readouterr().out
    assert "target toy" in out and "gradient: PASS" in out and "all checks passed" in out
    assert main(["replay", str(path), "--target", f"{EXAMPLES / 'toy_target.py'}:TOY",
                 "--check", "taylor"]) == 0
    assert "taylor: PASS" in capsys.readouterr().out


def test_replay_of_another_targets_case_without_target_says_how(capsys):
    path = TOY_EXAMPLES / "thin_textured_ring_odd_detector.json"
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "target 'toy'" in err and "--target MODULE:NAME" in err


def test_replay_with_a_check_the_target_lacks_exits_2(capsys):
    path = TOY_EXAMPLES / "thin_textured_ring_odd_detector.json"
    assert main(["replay", str(path), "--target", f"{EXAMPLES / 'toy_target.py'}:TOY",
                 "--check", "brightest_spot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "brightest_spot" in err and "gradient" in err
