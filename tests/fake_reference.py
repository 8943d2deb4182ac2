"""A fake reference program with a planted forward bug, for tests that need no C program.

The "program" is a tiny Python script (stdlib only, so it starts in milliseconds) that sends
its nanoBragg flags over a Unix socket to a renderer in the test process; the renderer parses
them with braggcheck, renders, plants the bug (point pixels' solid angle 0.1 % too large) and
writes the -floatfile. To the differential check it is just another nanoBragg-compatible
program: it takes the flags and writes the float image.
"""

from __future__ import annotations

import json
import socketserver
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.output_files import write_float_image
from braggcheck.sim.simulator import simulate

POINT_PIXEL_ERROR = 1e-3
"""The planted bug: point pixels' solid angle 1 + this times too large (100x the tolerance)."""

SCRIPT = """#!{python} -SE
import json, os, socket, sys
connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
connection.connect({socket!r})
connection.sendall(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}).encode() + b"\\n")
reply = connection.makefile().readline().strip()
if reply != "ok":
    sys.stderr.write(reply + "\\n")
    sys.exit(3)
"""


def render_with_bug(argv: list[str], cwd: str, planted: bool = True) -> None:
    parsed = parse_nanobragg_args(argv)
    with torch.no_grad():
        image = simulate(parsed.config, dtype=torch.float64)
    if planted and parsed.config.detector.point_pixel:
        image = image * (1 + POINT_PIXEL_ERROR)
    write_float_image(Path(cwd) / parsed.outputs.floatfile, image)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request = json.loads(self.rfile.readline())
        try:
            render_with_bug(request["argv"], request["cwd"], self.server.planted)
            reply = "ok"
        except Exception as exc:  # reported to the script, which exits non-zero
            reply = f"fake reference: {type(exc).__name__}: {exc}".replace("\n", " ")
        self.wfile.write(reply.encode() + b"\n")


@contextmanager
def fake_reference(folder: Path, planted: bool = True) -> Iterator[Path]:
    """Serve the renderer while the block runs; yields the executable script's path.
    ``planted=False``: a fake without the bug (it agrees with braggcheck everywhere)."""
    address = folder / "fake.sock"
    server = socketserver.UnixStreamServer(str(address), _Handler)
    server.planted = planted  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = folder / "fake_nanobragg"
    script.write_text(SCRIPT.format(python=sys.executable, socket=str(address)))
    script.chmod(0o755)
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
