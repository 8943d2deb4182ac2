"""A property-test case: one configuration plus everything a check draws around it.

Every property takes a :class:`Case`, so one stored example (a JSON file) can be replayed by
every property, and a failure from any property is stored the same way. The fields beyond the
configuration are the parts Hypothesis draws for the checks: which parameters are differentiated,
how the image is projected to a scalar, the direction in parameter space, and a few numbers that
individual properties use (a scale factor, a number of full turns, an angle and a shift).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from braggcheck.sim.chunking import chunking
from braggcheck.sim.config import Config
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import simulate, stored_bytes
from braggcheck.sim.state import build_state
from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.projection import Projection
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import check_int


@dataclass(frozen=True)
class Case(TargetCase):
    """One example for nanoBragg's property suite: the framework's case type (the nanoBragg
    target's ``case_type``) with defaults and three extra fields."""

    config: Config = field(default_factory=Config)
    names: tuple[str, ...] = ("cell_a",)
    """Registry parameters differentiated by the gradient properties."""
    projection: Projection = field(default_factory=Projection)
    direction: tuple[float, ...] = ()
    """A direction in scaled parameter space, one entry per name; empty means all ones."""
    factor: float = 2.0
    """A positive factor: fluence multiplier (linearity), distance multiplier (scaling)."""
    turns: int = 1
    """Full turns added to ``angle`` by the periodicity property."""
    angle: str | None = "misset_rot_x"
    """A periodic registry angle."""
    shift_deg: float = 30.0
    """An angle moved between misset and phi by the equivalence property."""
    pixels_per_chunk: int | None = None
    """Pixels evaluated at once (``simulate(pixels_per_chunk=...)``); None: the default."""
    stored_chunks: int | None = None
    """With ``pixels_per_chunk``: how many chunks keep their autograd state before the rest is
    recomputed in the backward pass (``simulator.STORED_BYTES_LIMIT``); None: the default."""

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in PARAMETERS]
        if unknown or not self.names:
            raise ConfigError(f"case names {list(self.names)}: need registry parameters")
        super().__post_init__()
        angle = PARAMETERS.get(self.angle) if self.angle is not None else None
        if angle is None or angle.period is None:
            raise ConfigError(f"case angle {self.angle!r} is not a periodic registry angle")
        if self.pixels_per_chunk is not None:
            check_int("case pixels_per_chunk", self.pixels_per_chunk, 1)
        if self.stored_chunks is not None:
            if self.pixels_per_chunk is None:
                raise ConfigError("case stored_chunks: needs pixels_per_chunk")
            check_int("case stored_chunks", self.stored_chunks, 0)

    @contextmanager
    def simulation(self) -> Iterator[None]:
        """While active, every ``simulate`` call in this thread uses this case's chunking:
        ``pixels_per_chunk``, and a stored-bytes limit that keeps exactly ``stored_chunks``
        chunks' autograd state (the rest is recomputed in the backward pass). A context
        variable (:func:`braggcheck.sim.chunking.chunking`), so threads do not share it."""
        if self.pixels_per_chunk is None:
            yield
            return
        limit = None
        if self.stored_chunks is not None:
            limit = self.stored_chunks * self.pixels_per_chunk * \
                _stored_bytes_per_pixel(self.config)
        with chunking(self.pixels_per_chunk, limit):
            yield

    @property
    def shape(self) -> tuple[int, int]:
        return (self.config.detector.spixels, self.config.detector.fpixels)

    def weights(self) -> torch.Tensor:
        """The projection's pixel weights for this case's image."""
        image = None
        if self.projection.kind == "rank":
            with torch.no_grad():
                image = simulate(self.config)
        return self.projection.weights(self.shape, image)


def _stored_bytes_per_pixel(config: Config) -> int:
    """What one pixel's autograd state costs in ``simulator.stored_bytes`` (float64)."""

    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state, torch.float64)
        return stored_bytes(scene, 1, state["cell_a"])
