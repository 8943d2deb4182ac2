"""The one file writer: atomic for files, in place for pipes and devices, through symlinks, and
nothing left behind by a failure, Ctrl-C or SIGTERM. No test writes to a real device node."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import braggcheck
from braggcheck import WriteError
from braggcheck.util.file_writer import destination, write_output

SOURCE = Path(braggcheck.__file__).parent
VALID = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "5",
         "-detpixels", "64"]
"""A run whose float image is 64 * 64 * 4 = 16384 bytes."""


AS_FROM_A_TERMINAL = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
"""
"""The signal handling a command started from a terminal has. A child inherits ignored signals:
run from a background job of a non-interactive shell (``pytest ... &``, as on a loaded machine
beside another run), pytest and every interpreter it starts have SIGINT ignored, Python then
installs no KeyboardInterrupt handler, and a Ctrl-C test sees the write complete."""


def _python(code: str, **kwargs: object) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports this tree's braggcheck, with the signal
    handling of a command started from a terminal."""
    env = {**os.environ, "PYTHONPATH": str(SOURCE.parent)}
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    program = AS_FROM_A_TERMINAL + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-B", "-c", program], env=env,
                          timeout=120, **streams)  # type: ignore[call-overload]


def test_a_regular_file_is_replaced_completely(tmp_path: Path) -> None:
    target = tmp_path / "image.bin"
    target.write_bytes(b"old contents that are longer")
    write_output(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["image.bin"]


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"),
                                     KeyboardInterrupt()])
def test_a_failure_during_writing_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 failure: BaseException) -> None:
    def fail(*args: object) -> None:
        raise failure

    monkeypatch.setattr(os, "replace", fail)
    expected = WriteError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        write_output(tmp_path / "image.bin", b"x" * 1000)
    assert os.listdir(tmp_path) == []  # neither the target nor the temporary file


def test_a_failure_names_the_file_in_one_line(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen
    target = tmp_path / "image\nname.bin"
    target.write_bytes(b"previous")

    def broken_fdopen(handle: int, mode: str) -> object:
        """A stream that writes half the payload, then fails as a full disk would."""
        stream = real_fdopen(handle, mode)
        real_write = stream.write

        def write(data: bytes) -> int:
            real_write(data[: len(data) // 2])
            stream.flush()
            raise OSError(28, "No space left on device")

        stream.write = write
        return stream

    monkeypatch.setattr(os, "fdopen", broken_fdopen)
    with pytest.raises(WriteError) as caught:
        write_output(target, b"y" * 4096)
    assert str(caught.value) == f"cannot write {str(target)!r}: No space left on device"
    assert "\n" not in str(caught.value)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == [target.name]


def test_a_new_file_gets_the_mode_a_plain_open_would_give(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = tmp_path / "image.bin"
        write_output(target, b"\x00" * 8)
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(umask)


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "private.bin"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_output(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_fifo_is_streamed_to_its_reader_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    payload = bytes(range(256)) * 1024  # larger than a pipe buffer
    write_output(fifo, payload)
    reader.join(timeout=30)
    assert received == [payload]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["results.fifo"]


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "data" / "image.bin"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(Path("data") / "image.bin")  # relative, as users make them
    write_output(link, b"new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "image.bin")
    assert target.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["data", "link.bin"]
    assert os.listdir(target.parent) == ["image.bin"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "new.bin")
    write_output(link, b"abc")
    assert link.is_symlink() and (tmp_path / "new.bin").read_bytes() == b"abc"


def test_a_character_device_is_written_in_place(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in: a regular file that ``os.stat`` reports as a character device. Written in
    place its inode stays; a rename (what replaced /dev/full) would give it a new one."""
    stand_in = tmp_path / "device"
    stand_in.write_bytes(b"")
    inode = stand_in.stat().st_ino
    real_stat = os.stat

    def device_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        result = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if os.fspath(path) == str(stand_in):  # type: ignore[arg-type]
            fields = list(result)
            fields[0] = stat.S_IFCHR | 0o666
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(os, "stat", device_stat)
    assert destination(stand_in)[0] == "stream"
    write_output(stand_in, b"payload")
    assert stand_in.read_bytes() == b"payload" and real_stat(stand_in).st_ino == inode
    assert os.listdir(tmp_path) == ["device"]


@pytest.mark.parametrize(("kind", "what"), [(stat.S_IFBLK, "a block device"),
                                            (stat.S_IFSOCK, "a socket")])
def test_block_devices_and_sockets_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               kind: int, what: str) -> None:
    stand_in = tmp_path / "special"
    stand_in.write_bytes(b"")
    real_stat = os.stat

    def special_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        fields = list(real_stat(path, *args, **kwargs))  # type: ignore[arg-type]
        fields[0] = kind | 0o666
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", special_stat)
    with pytest.raises(WriteError, match=f"it is {what}; valid: a regular file, a FIFO"):
        write_output(stand_in, b"x")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="it is a folder"):
        write_output(tmp_path, b"x")


def test_standard_output_by_dash_and_by_dev_stdout(tmp_path: Path) -> None:
    dash = _python("from braggcheck.util.file_writer import write_output; "
                   "write_output('-', b'abc\\x00')")
    assert dash.returncode == 0 and dash.stdout == b"abc\x00"
    redirected = tmp_path / "redirected.bin"
    with redirected.open("wb") as stream:
        inode = os.fstat(stream.fileno()).st_ino
        run = _python("from braggcheck.util.file_writer import write_output; "
                      "write_output('/dev/stdout', b'through the shell')", stdout=stream)
    assert run.returncode == 0, run.stderr
    # Written through the open descriptor: the shell's file, not a file renamed over it.
    assert redirected.read_bytes() == b"through the shell"
    assert redirected.stat().st_ino == inode and os.listdir(tmp_path) == ["redirected.bin"]


def test_a_file_size_limit_names_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    run = _python(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        from braggcheck.cli.main import main
        sys.exit(main(["simulate", *{VALID!r}, "-floatfile", {str(out)!r}]))
    """)
    lines = run.stderr.decode().splitlines()
    assert run.returncode == 2, run.stderr
    assert lines == [f"braggcheck simulate: error: cannot write {str(out)!r}: File too large"]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(("signal_name", "status"), [("SIGTERM", -15), ("SIGINT", 130)])
def test_a_signal_mid_write_leaves_nothing(tmp_path: Path, signal_name: str,
                                           status: int) -> None:
    """Half the image is on disk when the signal arrives; afterwards nothing is, and the
    process ends as that signal ends it (killed by SIGTERM; the CLI's 130 for Ctrl-C). The
    child sends the signal to itself at that point: ``os.kill`` runs the handler before it
    returns, so no timing is involved."""
    out = tmp_path / "out.bin"
    previous = tmp_path / "kept.bin"
    previous.write_bytes(b"previous")
    run = _python(f"""
        import os, signal, sys
        real_fdopen = os.fdopen

        def fdopen(handle, mode):
            stream = real_fdopen(handle, mode)
            real_write = stream.write

            def write(data):
                real_write(data[: len(data) // 2])
                stream.flush()
                os.kill(os.getpid(), signal.{signal_name})
                return real_write(data[len(data) // 2:])

            stream.write = write
            return stream

        os.fdopen = fdopen
        from braggcheck.cli.main import main
        sys.exit(main(["simulate", *{VALID!r}, "-floatfile", {str(out)!r}]))
    """)
    assert run.returncode == status, run.stderr
    assert os.listdir(tmp_path) == ["kept.bin"] and previous.read_bytes() == b"previous"


WRITES = re.compile(r"os\.replace\(|mkstemp\(|\.write_text\(|\.write_bytes\(|\.tofile\(|"
                    r"open\([^)]*['\"][wax]b?['\"]")


def test_every_file_the_package_writes_goes_through_the_one_writer() -> None:
    offenders = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in sorted(SOURCE.rglob("*.py")) if path.name != "file_writer.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if WRITES.search(line)
    ]
    assert offenders == []


def test_the_cli_writes_through_a_symlink_and_into_a_fifo(tmp_path: Path) -> None:
    from braggcheck.cli.main import main

    target = tmp_path / "image.bin"
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert main(["simulate", *VALID, "-floatfile", str(link), "-intfile", str(fifo)]) == 0
    reader.join(timeout=30)
    assert link.is_symlink() and target.stat().st_size == 64 * 64 * 4
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(received) == 1 and len(received[0]) == 512 + 64 * 64 * 2  # SMV header + counts
