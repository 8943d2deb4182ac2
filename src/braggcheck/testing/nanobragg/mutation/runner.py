"""Run one or more commands against each mutant in a throw-away copy of the tree.

For each mutant: copy ``src/``, ``tests/`` and ``pyproject.toml`` to a temporary folder, apply
the mutant there (:func:`.catalogue.mutate_tree` checks it applied), and run the commands
(:data:`SUITES`, in the order given) with ``PYTHONPATH=<copy>/src`` so the copy is what gets
imported. A command that fails kills the mutant; one that passes lets it survive; one past
the time limit is a timeout. By default the next command runs only while no command has
killed the mutant; ``per_command`` runs them all, so the report can say which commands kill
which mutant. An equivalent mutant is not given to the commands: its probe (:mod:`.probes`)
must find the copy's outputs bit-identical to the unmutated tree's.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from braggcheck.testing.nanobragg.mutation.catalogue import MutantError, mutate_tree
from braggcheck.testing.nanobragg.mutation.mutant import Mutant
from braggcheck.testing.nanobragg.mutation.probes import tree_fingerprint

# The catalogue's own tests check that every snippet is still in the tree, which a mutated
# copy fails by construction: they are left out.
_OWN_TESTS = ("--ignore=tests/unit/testing/nanobragg/mutation/test_catalogue.py",
              "--ignore=tests/unit/testing/nanobragg/mutation/test_runner.py")
SUITES: dict[str, tuple[str, ...]] = {
    # The framework's self-tests (bugs they plant themselves, the toy target) are left out:
    # they say nothing about a mutant of the simulator, and a failure there would be a kill
    # for the wrong reason.
    "properties": ("-m", "pytest", "tests/properties", "--hypothesis-profile", "ci", "-x",
                   "-q", "-p", "no:cacheprovider", "-m", "not slow and not framework"),
    "gradcheck": ("-m", "pytest", "tests/gradcheck", "-x", "-q", "-p", "no:cacheprovider"),
    # The rest of tests/: unit, parity, docs (and the framework's self-tests, which are
    # where a mutant of the framework's guards can die).
    "rest": ("-m", "pytest", "tests", "-x", "-q", "-p", "no:cacheprovider",
             "--ignore=tests/properties", "--ignore=tests/gradcheck", *_OWN_TESTS),
    # The short check a user runs (exit status 1 on a failed check, as pytest's).
    "check": ("-m", "braggcheck", "check"),
    "all": ("-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *_OWN_TESTS),
}
"""Each command, as the interpreter's arguments (run in the copy of the tree)."""
COMMANDS = ("properties", "gradcheck", "rest", "check")
"""The four commands a developer runs, in the order ``--suite commands`` runs them."""
COPIED = ("src", "tests", "examples", "docs", "reports", "README.md", "pyproject.toml")
"""What the suites read: the toy target's tests load examples/, the docs tests run README.md
and docs/, tests/gradcheck compares reports/gradients/coverage.md (a copy without them fails,
which must not pass for a kill)."""
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
    commands: tuple[tuple[str, str, str | None], ...] = ()
    """(command, status, killer) of each command run, in order; a command not listed was not
    run (an earlier one had killed the mutant)."""


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


def combined(commands: Sequence[tuple[str, str, str | None]]) -> tuple[str, str | None]:
    """(status, killer) of a mutant from its commands': killed by any; else an error, a
    timeout or survived, in that order (an error or a timeout leaves the verdict open)."""
    for wanted in ("killed", "error", "timeout"):
        for _, status, killer in commands:
            if status == wanted:
                return status, killer
    return "survived", None


class Runner:
    """Runs mutants of the tree at ``root``. ``suite`` is the interpreter's arguments of one
    command, or a mapping of command names to them (run in its order). With several commands
    the next one runs only while the mutant lives, unless ``per_command``; ``timeout`` bounds
    each command."""

    def __init__(self, root: Path, suite: Sequence[str] | Mapping[str, Sequence[str]],
                 timeout: float, reference: str | None = None,
                 fingerprint: Callable[[Path], str] = tree_fingerprint,
                 per_command: bool = False) -> None:
        commands = suite if isinstance(suite, Mapping) else {"suite": suite}
        self.commands = {name: tuple(argv) for name, argv in commands.items()}
        self.root, self.timeout = root, timeout
        self.reference, self.per_command = reference, per_command
        self._fingerprint = fingerprint
        self._original_fingerprint: str | None = None

    @property
    def suite(self) -> tuple[str, ...]:
        """The first command's arguments."""
        return next(iter(self.commands.values()))

    def baseline(self) -> tuple[int | None, str, float]:
        """The commands on the unmutated copy (each must pass for any kill to mean something):
        the first nonzero exit status (or None on a timeout) and its output, or 0; seconds in
        all."""
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="braggcheck-baseline-") as folder:
            copy = copy_tree(self.root, Path(folder))
            for name, argv in self.commands.items():
                returncode, output, _ = run_suite(copy, argv, self.timeout, self.reference)
                if returncode != 0:
                    prefix = f"{name}: " if len(self.commands) > 1 else ""
                    return returncode, prefix + output, time.monotonic() - start
        return 0, "", time.monotonic() - start

    def run(self, mutant: Mutant) -> MutantResult:
        start = time.monotonic()
        done: list[tuple[str, str, str | None]] = []
        with tempfile.TemporaryDirectory(prefix=f"braggcheck-mutant-{mutant.id}-") as folder:
            copy = copy_tree(self.root, Path(folder))
            try:
                mutate_tree(copy, mutant)
            except MutantError as exc:
                return self._result(mutant, "error", time.monotonic() - start, str(exc))
            if mutant.equivalent:
                return self._probe(mutant, copy, start)
            seconds = 0.0
            for name, argv in self.commands.items():
                returncode, output, took = run_suite(copy, argv, self.timeout, self.reference)
                seconds += took
                done.append((name, *classify(returncode, output)))
                if done[-1][1] == "killed" and not self.per_command:
                    break
        status, killer = combined(done)
        return self._result(mutant, status, seconds, killer,
                            tuple(done) if len(self.commands) > 1 else ())

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
    def _result(mutant: Mutant, status: str, seconds: float, killer: str | None,
                commands: tuple[tuple[str, str, str | None], ...] = ()) -> MutantResult:
        return MutantResult(mutant.id, mutant.file, mutant.category, mutant.description,
                            status, round(seconds, 1), killer, commands)


def result_dict(result: MutantResult) -> dict:
    return asdict(result)
