"""Ctrl-C at any moment of a ``braggcheck`` command ends with one "interrupted" line and status
130, never a traceback: while torch (or numpy, or hypothesis) is still being imported, and in the
middle of writing the image. SIGTERM still ends the process as SIGTERM does.

Each moment is reached by an event, never by a sleep: the command runs under a launcher whose
import hook (``sys.meta_path``) writes one byte to a pipe when the named module starts to
import and then waits there (for the signal, or a go byte the test writes after it); the
exit moment is an ``atexit`` handler that does the same; the mid-write moment is an image
larger than a pipe's buffer written into a FIFO that the test stops reading after the first
byte. No hook lives in the package itself.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import braggcheck

SOURCE = Path(braggcheck.__file__).parent.parent
ENTRY_POINT = tomllib.loads((SOURCE.parent / "pyproject.toml").read_text())[
    "project"]["scripts"]["braggcheck"]
"""The console script's entry point, as installed ("braggcheck.cli.main:main")."""
SIMULATE = ["simulate", "-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100",
            "-N", "5", "-detpixels", "8"]
WAIT_S = 300
"""Upper bound only (a torch import on a loaded machine takes seconds); never a sync point."""

LAUNCHER = textwrap.dedent('''
    import os, signal, sys
    # As a terminal starts it: the test runner may itself run with SIGINT ignored (a background
    # job of a non-interactive shell), which the child would otherwise inherit.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ready, go, stage, entry = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]


    def pause():
        """Say the moment has come, then wait for the test's go byte (or for the signal,
        whose KeyboardInterrupt then leaves from right here)."""
        os.write(ready, b"!")
        os.close(ready)
        os.read(go, 1)


    class PauseAt:
        def find_spec(self, name, path=None, target=None):
            if name == stage:
                sys.meta_path.remove(self)
                pause()
            return None


    if stage == "exit":
        import atexit
        atexit.register(pause)  # registered first, so it runs last: after torch's own
    elif stage:
        sys.meta_path.insert(0, PauseAt())
    else:
        os.close(ready)
    sys.argv = ["braggcheck", *sys.argv[5:]]
    if entry == "-m":
        import runpy
        runpy.run_module("braggcheck", run_name="__main__", alter_sys=True)
    else:  # what the console script does
        module, _, function = entry.partition(":")
        sys.exit(getattr(__import__(module, fromlist=[function]), function)())
''')


def _launch(stage: str, args: list[str], entry: str = ENTRY_POINT
            ) -> tuple[subprocess.Popen[bytes], int, int]:
    """The command under the launcher, the read end of its readiness pipe and the write end
    of its go pipe."""
    read, ready = os.pipe()
    wait, go = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(SOURCE), "NANOBRAGG_DISABLE_COMPILE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-B", "-c", LAUNCHER, str(ready), str(wait), stage, entry, *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(ready, wait))
    os.close(ready)
    os.close(wait)
    return process, read, go


def _signal_when_ready(process: subprocess.Popen[bytes], read: int, go: int, signum: int,
                       what: str) -> tuple[int, str]:
    """Wait for the first byte on ``read`` (the child has reached ``what``), send ``signum``,
    then the go byte, and return the exit status and stderr. ``read`` is closed only once the
    process has ended (a FIFO's reader must outlive the writer)."""
    ended = os.pidfd_open(process.pid)  # readable once the process has ended
    try:
        ready, _, _ = select.select([read, ended], [], [], WAIT_S)
        byte = os.read(read, 1) if read in ready else b""
        if not byte:  # it ended (or hung) before reaching the moment: fail loudly
            process.kill()
            _, stderr = process.communicate(timeout=WAIT_S)
            pytest.fail(f"the command never reached {what}: "
                        f"{stderr.decode(errors='replace')}")
        process.send_signal(signum)  # queued before the go byte exists: it comes first
        os.write(go, b"!")
        _, stderr = process.communicate(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for fd in (read, go, ended):
            os.close(fd)
    return process.returncode, stderr.decode(errors="replace")


def _assert_interrupted(status: int, stderr: str, command: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert (status, stderr.splitlines()) == (130, [f"braggcheck {command}: interrupted"])


@pytest.mark.parametrize(("entry", "stage", "args"), [
    (ENTRY_POINT, "numpy", SIMULATE),  # the command's first heavy import
    (ENTRY_POINT, "torch", SIMULATE),
    (ENTRY_POINT, "torch.nn", SIMULATE),  # half-way through torch's own import
    ("-m", "torch", SIMULATE),  # python -m braggcheck
    (ENTRY_POINT, "hypothesis", ["check", "--help"]),
], ids=["numpy", "torch", "inside-torch", "python-m-torch", "check-hypothesis"])
def test_ctrl_c_while_importing_is_one_line_and_130(entry: str, stage: str,
                                                    args: list[str]) -> None:
    process, read, go = _launch(stage, args, entry)
    status, stderr = _signal_when_ready(process, read, go, signal.SIGINT, f"import {stage}")
    _assert_interrupted(status, stderr, args[0])


def test_ctrl_c_while_exiting_is_ignored() -> None:
    """The command is over (its output complete); a Ctrl-C during the exit handlers (torch's
    included) neither prints a traceback nor changes the status."""
    process, read, go = _launch("exit", SIMULATE)
    status, stderr = _signal_when_ready(process, read, go, signal.SIGINT, "the exit")
    assert (status, stderr) == (0, "")


def test_ctrl_c_mid_write_is_one_line_and_130_and_leaves_the_fifo(tmp_path: Path) -> None:
    """160 x 160 float32 = 102400 bytes: more than a pipe holds, so after the test has read
    one byte the command is blocked inside its write until the signal comes."""
    fifo = tmp_path / "image.fifo"
    os.mkfifo(fifo)
    process, ready, go = _launch("", [*SIMULATE[:-1], "160", "-floatfile", str(fifo)])
    os.close(ready)
    reader = os.open(fifo, os.O_RDWR)  # Linux: opens at once; stays open for the command
    status, stderr = _signal_when_ready(process, reader, go, signal.SIGINT, "the write")
    _assert_interrupted(status, stderr, "simulate")
    assert os.listdir(tmp_path) == ["image.fifo"]


def test_sigterm_while_importing_torch_ends_the_process_as_sigterm_does() -> None:
    process, read, go = _launch("torch", SIMULATE)
    status, stderr = _signal_when_ready(process, read, go, signal.SIGTERM, "import torch")
    assert (status, stderr) == (-signal.SIGTERM, "")


def test_the_entry_point_imports_nothing_heavy() -> None:
    module = ENTRY_POINT.partition(":")[0]
    code = (f"import sys, {module}; "
            "print(sorted({'torch', 'numpy', 'hypothesis'} & set(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": str(SOURCE)}
    done = subprocess.run([sys.executable, "-B", "-c", code], env=env, capture_output=True,
                          text=True, timeout=WAIT_S, check=True)
    assert done.stdout.strip() == "[]"
