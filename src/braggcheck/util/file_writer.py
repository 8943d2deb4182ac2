"""One writer for every file braggcheck writes: images, SMV/PGM, failure files, reports, benchmarks.

What "writing a file" means depends on what the destination is:

* a regular file or a new name: the bytes go to a temporary file beside it, which is then renamed
  over it (atomic: a reader sees the old file or the new one, never half of one);
* a symbolic link: the same, at the link's final target, so the link stays a link (as writing
  through it with a plain ``open`` would);
* a character device, a FIFO, ``-`` (standard output) or a ``/dev/stdout``-like name: streamed
  in place. Renaming over such a thing would replace it (a device node, a pipe the reader is
  waiting on, the shell's redirection) with a regular file.

A failure names the file and the reason in one line (:class:`WriteError`) and leaves neither a
partial destination nor a temporary file; so do Ctrl-C and SIGTERM during the write (the signal
is delivered again once the temporary file is gone, so the process still ends as it would have).
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from braggcheck.util.errors import WriteError

STANDARD_OUTPUT = "-"
STREAM_NAMES = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")
"""Names of already-open descriptors: renaming over whatever they point to would bypass them."""

Kind = Literal["stdout", "stream", "atomic"]


def destination(path: str | Path) -> tuple[Kind, Path]:
    """How ``path`` is written and where: ('stdout' | 'stream' | 'atomic', target path).

    Raises :class:`WriteError` for destinations that are neither files nor streams (a folder, a
    block device, a socket).
    """
    text = os.fspath(path)
    if text == STANDARD_OUTPUT:
        return "stdout", Path(text)
    if text.startswith(STREAM_NAMES):
        return "stream", Path(text)
    try:
        mode = os.stat(text).st_mode  # follows symbolic links
    except FileNotFoundError:
        mode = None  # a new file, or a link whose target does not exist yet
    except OSError as exc:
        raise WriteError(f"cannot write {text!r}: {exc.strerror or exc}") from None
    if mode is None or stat.S_ISREG(mode):
        return "atomic", Path(os.path.realpath(text))
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream", Path(text)
    what = "a folder" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode) \
        else "a socket" if stat.S_ISSOCK(mode) else "a special file"
    raise WriteError(f"cannot write {text!r}: it is {what}; valid: a regular file, a FIFO, "
                     "a character device or - (standard output)")


def write_output(path: str | Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` as :func:`destination` says, all or nothing."""
    kind, target = destination(path)
    with _signals_raise(path):
        try:
            if kind == "stdout":
                sys.stdout.flush()
                sys.stdout.buffer.write(payload)
                sys.stdout.buffer.flush()
            elif kind == "stream":
                with open(target, "wb") as stream:  # no rename: the device or pipe stays
                    stream.write(payload)
            else:
                _replace(target, payload)
        except OSError as exc:
            raise WriteError(f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}") from None


def _replace(target: Path, payload: bytes) -> None:
    """Temporary file in the target's folder, then ``os.replace`` over the target."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    try:
        os.fchmod(handle, _mode_of(target))
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_of(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would leave: the existing file's, else
    0666 less the umask (``mkstemp`` alone would create 0600)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class _Terminated(BaseException):
    """SIGTERM arrived during a write; raised so the cleanup runs, then the signal is re-sent."""


@contextmanager
def _signals_raise(path: str | Path) -> Iterator[None]:
    """During the block, SIGTERM raises (Ctrl-C already raises KeyboardInterrupt), so the
    ``except`` clauses that remove the temporary file run; afterwards the signal is delivered
    again with the previous handler, so the process ends with the status it would have had."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        signal.raise_signal(signal.SIGTERM)
        # Only reached when the previous handler returns: the write did not happen.
        raise WriteError(f"cannot write {os.fspath(path)!r}: interrupted by SIGTERM") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
