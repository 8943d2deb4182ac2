"""Pixel chunking set for a block of code (a context variable), never through globals.

Property cases that move the chunking (``pixels_per_chunk``, and how many chunks keep their
autograd state before the rest is recomputed in the backward pass) run every ``simulate`` call
of a check inside ``with chunking(...)``. A context variable is per thread and per task, so
checks running side by side in threads do not see each other's settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunking:
    """Chunk settings; None means the simulator's own default."""

    pixels_per_chunk: int | None = None
    stored_bytes_limit: int | None = None
    """Autograd state kept before chunks are recomputed in the backward pass (bytes)."""


_CURRENT: ContextVar[Chunking] = ContextVar(
    "braggcheck_chunking", default=Chunking())  # noqa: B039 (frozen, so immutable)


def current_chunking() -> Chunking:
    return _CURRENT.get()


@contextmanager
def chunking(pixels_per_chunk: int | None = None,
             stored_bytes_limit: int | None = None) -> Iterator[Chunking]:
    """Every ``simulate`` call in this block (this thread or task only) uses these settings,
    unless the call passes ``pixels_per_chunk`` itself."""
    settings = Chunking(pixels_per_chunk, stored_bytes_limit)
    token = _CURRENT.set(settings)
    try:
        yield settings
    finally:
        _CURRENT.reset(token)
