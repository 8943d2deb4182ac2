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
from typing import Any

import torch

from braggcheck.nanobragg.serialization import config_from_dict, config_to_dict
from braggcheck.sim.chunking import chunking
from braggcheck.sim.config import Config
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.scene import build_scene
from braggcheck.sim.simulator import simulate, stored_bytes
from braggcheck.sim.state import build_state
from braggcheck.testing.framework.case import scaled_direction
from braggcheck.testing.framework.projection import Projection
from braggcheck.util.errors import ConfigError
from braggcheck.util.validation import check_int


@dataclass(frozen=True)
class Case:
    """One example for the property suite."""

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
    angle: str = "misset_rot_x"
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
        if self.direction and len(self.direction) != len(self.names):
            raise ConfigError("case direction: one entry per name")
        if PARAMETERS.get(self.angle) is None or PARAMETERS[self.angle].period is None:
            raise ConfigError(f"case angle {self.angle!r} is not a periodic registry angle")
        if not self.factor > 0:
            raise ConfigError(f"case factor = {self.factor}: must be > 0")
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

    def direction_tensor(self) -> torch.Tensor:
        return scaled_direction(self.direction, len(self.names))

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": config_to_dict(self.config),
            "names": list(self.names),
            "projection": {"kind": self.projection.kind, "seed": self.projection.seed,
                           "pixel": list(self.projection.pixel), "rank": self.projection.rank},
            "direction": list(self.direction),
            "factor": self.factor,
            "turns": self.turns,
            "angle": self.angle,
            "shift_deg": self.shift_deg,
            **({"pixels_per_chunk": self.pixels_per_chunk}
               if self.pixels_per_chunk is not None else {}),
            **({"stored_chunks": self.stored_chunks} if self.stored_chunks is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: Any = None) -> Case:
        projection = dict(data.get("projection", {}))
        if "pixel" in projection:
            projection["pixel"] = tuple(projection["pixel"])
        defaults = cls.__dataclass_fields__
        return cls(
            config=config_from_dict(data.get("config", {}), base_dir),
            names=tuple(data.get("names", defaults["names"].default)),
            projection=Projection(**projection),
            direction=tuple(float(v) for v in data.get("direction", ())),
            factor=float(data.get("factor", defaults["factor"].default)),
            turns=int(data.get("turns", defaults["turns"].default)),
            angle=str(data.get("angle", defaults["angle"].default)),
            shift_deg=float(data.get("shift_deg", defaults["shift_deg"].default)),
            pixels_per_chunk=_optional_int(data.get("pixels_per_chunk")),
            stored_chunks=_optional_int(data.get("stored_chunks")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else value


def _stored_bytes_per_pixel(config: Config) -> int:
    """What one pixel's autograd state costs in ``simulator.stored_bytes`` (float64)."""

    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        scene = build_scene(config, state, torch.float64)
        return stored_bytes(scene, 1, state["cell_a"])
