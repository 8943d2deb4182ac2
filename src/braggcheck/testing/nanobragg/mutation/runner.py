"""Run a test suite against each mutant in a throw-away copy of the tree.

For each mutant: copy ``src/``, ``tests/`` and ``pyproject.toml`` to a temporary folder, apply
the mutant there (:func:`.catalogue.mutate_tree` checks it applied), and run the suite with
``PYTHONPATH=<copy>/src`` so the copy is what gets imported. A failing suite kills the
mutant; a passing one lets it survive; one past the time limit is a timeout. An equivalent
mutant is not given to the suite: its probe (:mod:`.probes`) must find the copy's outputs
bit-identical to the unmutated tree's.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from braggcheck.testing.nanobragg.mutation.catalogue import MutantError, mutate_tree
from braggcheck.testing.nanobragg.mutation.mutant import Mutant
from braggcheck.testing.nanobragg.mutation.probes import tree_fingerprint

SUITES: dict[str, tuple[str, ...]] = {
    # The framework's self-tests (bugs they plant themselves, the toy target) are left out:
    # they say nothing about a mutant of the simulator, and a failure there would be a kill
    # for the wrong reason.
    "properties": ("-m", "pytest", "tests/properties", "--hypothesis-profile", "ci", "-x",
                   "-q", "-p", "no:cacheprovider", "-m", "not slow and not framework"),
    # The catalogue's own tests check that every snippet is still in the tree, which a
    # mutated copy fails by construction: they are left out.
    "all": ("-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
            "--ignore=tests/unit/testing/nanobragg/mutation/test_catalogue.py",
            "--ignore=tests/unit/testing/nanobragg/mutation/test_runner.py"),
}
COPIED = ("src", "tests", "examples", "docs", "README.md", "pyproject.toml")
"""What the suites read: the toy target's tests load examples/, the docs tests run README.md
and docs/ (a copy without them fails at collection, which must not pass for a kill)."""
IGNORED = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc", ".pytest_cache")
STATUSES = ("killed", "survived", "timeout", "equivalent", "not-equivalent", "error")
_FAILED = re.compile(r"^(FAILED|ERROR) (\S+?)(?: - .*)?$", re.MULTILINE)


@dataclass(frozen=True)
class MutantResult:
    id: str
    file: str
    category: str
    description: str
    status: str  # one of STATUSES
    seconds: float
    killer: str | None  # the first failing test (killed), or what went wrong (error)


def copy_tree(root: Path, destination: Path) -> Path:
    """Copy what the suite needs (not .git, .venv or caches) to ``destination``."""
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, destination / name)
    return destination


def suite_environment(copy: Path, reference: str | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(copy / "src"), NANOBRAGG_DISABLE_COMPILE="1",
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("NANOBRAGG_REFERENCE", None)
    if reference is not None:
        env["NANOBRAGG_REFERENCE"] = reference
    return env


def first_failure(output: str) -> str | None:
    """The first ``FAILED``/``ERROR`` test id of pytest's short summary."""
    found = _FAILED.search(output)
    return found.group(2) if found else None


def run_suite(copy: Path, suite: Sequence[str], timeout: float, reference: str | None
              ) -> tuple[int | None, str, float]:
    """(exit status or None on timeout, output, seconds) of the suite run in ``copy``."""
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, *suite], cwd=copy,
                               env=suite_environment(copy, reference), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output, time.monotonic() - start
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the suite and anything it started
        output, _ = process.communicate()
        return None, output, time.monotonic() - start


def classify(returncode: int | None, output: str) -> tuple[str, str | None]:
    """pytest's exit status -> (status, killer)."""
    if returncode is None:
        return "timeout", None
    if returncode == 0:
        return "survived", None
    if returncode == 1:  # tests ran and some failed
        return "killed", first_failure(output) or _last_line(output)
    # 2: interrupted, collection errors among them (a test module that cannot even import is
    # no evidence against the mutant: the copy may lack a file); 3: pytest's internal error.
    what = first_failure(output) or _last_line(output)
    return "error", f"pytest exit status {returncode}: {what}"


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(no output)"


class Runner:
    """Runs mutants of the tree at ``root``; ``suite`` is the interpreter's arguments."""

    def __init__(self, root: Path, suite: Sequence[str], timeout: float,
                 reference: str | None = None,
                 fingerprint: Callable[[Path], str] = tree_fingerprint) -> None:
        self.root, self.suite, self.timeout = root, tuple(suite), timeout
        self.reference = reference
        self._fingerprint = fingerprint
        self._original_fingerprint: str | None = None

    def baseline(self) -> tuple[int | None, str, float]:
        """The suite on the unmutated copy (it must pass for any kill to mean something)."""
        with tempfile.TemporaryDirectory(prefix="braggcheck-baseline-") as folder:
            copy = copy_tree(self.root, Path(folder))
            return run_suite(copy, self.suite, self.timeout, self.reference)

    def run(self, mutant: Mutant) -> MutantResult:
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"braggcheck-mutant-{mutant.id}-") as folder:
            copy = copy_tree(self.root, Path(folder))
            try:
                mutate_tree(copy, mutant)
            except MutantError as exc:
                return self._result(mutant, "error", time.monotonic() - start, str(exc))
            if mutant.equivalent:
                return self._probe(mutant, copy, start)
            returncode, output, seconds = run_suite(copy, self.suite, self.timeout,
                                                    self.reference)
        status, killer = classify(returncode, output)
        return self._result(mutant, status, seconds, killer)

    def _probe(self, mutant: Mutant, copy: Path, start: float) -> MutantResult:
        try:
            if self._original_fingerprint is None:
                self._original_fingerprint = self._fingerprint(self.root)
            same = self._fingerprint(copy) == self._original_fingerprint
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return self._result(mutant, "error", time.monotonic() - start, str(exc))
        status = "equivalent" if same else "not-equivalent"
        detail = None if same else "probe: outputs differ from the unmutated tree's"
        return self._result(mutant, status, time.monotonic() - start, detail)

    @staticmethod
    def _result(mutant: Mutant, status: str, seconds: float, killer: str | None
                ) -> MutantResult:
        return MutantResult(mutant.id, mutant.file, mutant.category, mutant.description,
                            status, round(seconds, 1), killer)


def result_dict(result: MutantResult) -> dict:
    return asdict(result)
