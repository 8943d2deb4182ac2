"""Progress for long commands: a bar with the time left on a terminal, quiet otherwise.

The bar (tqdm) is drawn on standard error only when it is a terminal and ``CI`` is not set, so
piped output and CI logs stay clean; every run ends with a one-line summary either way.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import TextIO


def interactive(stream: TextIO | None = None) -> bool:
    """True when a progress bar helps: a terminal, and not a CI run."""
    stream = stream or sys.stderr
    is_tty = getattr(stream, "isatty", lambda: False)()
    return bool(is_tty) and not os.environ.get("CI")


class Progress:
    """``with Progress(total, "report") as bar: ... bar.advance("case x")``."""

    def __init__(self, total: int, description: str, stream: TextIO | None = None,
                 unit: str = "step", summary: bool = True) -> None:
        """``summary=False``: the command prints its own closing line."""
        self.total, self.description, self.unit = total, description, unit
        self.summary = summary
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self._bar = None
        if interactive(self.stream):
            from tqdm import tqdm  # only on a terminal: piped runs never import it

            self._bar = tqdm(total=total, desc=description, unit=unit, file=self.stream,
                             leave=False, dynamic_ncols=True, mininterval=0, miniters=1)

    def advance(self, label: str = "") -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.set_postfix_str(label, refresh=False)
            self._bar.update(1)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()
        if not self.summary:
            return
        elapsed = time.perf_counter() - self.start
        state = "interrupted after" if kind is not None else "done:"
        print(f"{self.description}: {state} {self.done}/{self.total} {self.unit}s in "
              f"{elapsed:.1f} s", file=self.stream)
