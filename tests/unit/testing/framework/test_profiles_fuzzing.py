"""HypoFuzz runs braggcheck's properties: a short fuzzing run finds a planted bug, its failure
file replays with ``braggcheck replay``, and a shared example database is honoured."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis.database import DirectoryBasedExampleDatabase

import braggcheck
from braggcheck.testing.framework.profiles import DATABASE_VARIABLE, shared_database

SOURCE = Path(braggcheck.__file__).parent.parent
PLANTED = '''
"""A planted bug: the wavelength's gradient is cut (detached)."""
import braggcheck.sim.simulator as simulator

_original = simulator.build_state


def _broken(*args, **kwargs):
    state = _original(*args, **kwargs)
    state["lambda_A"] = state["lambda_A"].detach()
    return state


simulator.build_state = _broken
'''
TARGET = '''
import os

import planted  # noqa: F401
from hypothesis import given

from braggcheck.testing.nanobragg.harness import run_property
from braggcheck.testing.nanobragg.strategies.cases import cases


@given(case=cases(focus="lambda_A"))
def test_planted(case):
    try:
        run_property("gradient", case, "test_planted", failures_dir="failures")
    except BaseException:
        if os.path.exists(os.path.join("failures", "test_planted.json")):
            _tell_the_test()
        raise


def _tell_the_test():
    """One byte into the waiting test's FIFO: a failure file is on disk."""
    try:
        found = os.open(os.environ["BRAGGCHECK_TEST_FOUND"], os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # the test has stopped listening
        return
    try:
        os.write(found, b"!")
    except OSError:  # its FIFO is full: it has been told already
        pass
    finally:
        os.close(found)
'''
FUZZ_SECONDS = 300
"""Upper bound only, never a sync point: the planted bug is found in ~15 s on two cores
(start-up included); the test waits for the target's word that a failure file exists."""


def _env(folder: Path) -> dict[str, str]:
    """A developer's environment: not CI (whose profile keeps no database, by design)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return {**env, "PYTHONPATH": f"{folder}{os.pathsep}{SOURCE}",
            DATABASE_VARIABLE: str(folder / "shared-db")}


def _replay(folder: Path, planted: bool) -> int:
    prelude = "import planted\n" if planted else ""
    code = prelude + ("from braggcheck.cli.main import main\n"
                      "raise SystemExit(main(['replay', 'failures/test_planted.json']))")
    return subprocess.run([sys.executable, "-c", code], cwd=folder, env=_env(folder),
                          capture_output=True, timeout=120).returncode


def test_hypofuzz_finds_a_planted_bug_that_replays(tmp_path: Path) -> None:
    (tmp_path / "planted.py").write_text(textwrap.dedent(PLANTED))
    (tmp_path / "test_fuzz_target.py").write_text(textwrap.dedent(TARGET))
    # The fuzzed project opts in to braggcheck's profiles (which honour the shared database).
    (tmp_path / "pytest.ini").write_text("[pytest]\nbraggcheck_profiles = true\n")
    failure = tmp_path / "failures" / "test_planted.json"
    fifo = tmp_path / "found.fifo"
    os.mkfifo(fifo)
    found = os.open(fifo, os.O_RDWR)  # Linux: opens at once, and the target's open never fails
    fuzzer = subprocess.Popen(
        [sys.executable, "-c", "from hypothesis.extra.cli import main; main()", "fuzz", "-n",
         "1", "--no-dashboard", "--",
         "test_fuzz_target.py", "-p", "no:cacheprovider"], cwd=tmp_path,
        env={**_env(tmp_path), "BRAGGCHECK_TEST_FOUND": str(fifo)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ended = os.pidfd_open(fuzzer.pid)  # readable if the fuzzer ends first
    try:
        # The worker saved its identity in the shared database before it ran the target, so
        # once the failure file is announced the database holds something too.
        select.select([found, ended], [], [], FUZZ_SECONDS)
    finally:
        if fuzzer.poll() is None:
            os.killpg(fuzzer.pid, signal.SIGTERM)
        fuzzer.wait(timeout=60)
        os.close(found)
        os.close(ended)
    assert failure.exists(), "HypoFuzz did not find the planted bug"
    assert _replay(tmp_path, planted=True) == 1  # the bug replays from the stored file
    assert _replay(tmp_path, planted=False) == 0  # and the intact simulator passes it
    assert any((tmp_path / "shared-db").rglob("*")), "the shared database was not used"


def test_the_shared_database_is_a_folder_or_redis(tmp_path: Path) -> None:
    assert shared_database("") is None
    database = shared_database(str(tmp_path / "db"))
    assert isinstance(database, DirectoryBasedExampleDatabase)
    database.save(b"key", b"value")
    assert list(DirectoryBasedExampleDatabase(str(tmp_path / "db")).fetch(b"key")) == [b"value"]
