"""braggcheck: a differentiable nanoBragg and a property-based gradient testing framework.

The public facade: the simulator (``braggcheck.sim``), nanoBragg's flags
(``braggcheck.nanobragg``); the testing framework is ``braggcheck.testing``. Names are loaded on
first use, so ``import braggcheck.testing.framework`` (which works on any target) does not load
the simulator.
"""

from __future__ import annotations

import typing as _typing

from braggcheck.util.lazy import lazy_attributes as _lazy_attributes
from braggcheck.util.version import VERSION

if _typing.TYPE_CHECKING:
    from braggcheck.nanobragg.args import from_nanobragg_args
    from braggcheck.nanobragg.export import to_nanobragg_args
    from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
    from braggcheck.sim.parameter import Parameter
    from braggcheck.sim.registry import PARAMETERS, VECTOR_PARAMETERS
    from braggcheck.sim.simulator import simulate
    from braggcheck.util.errors import ConfigError, WriteError

_HOMES = {
    "from_nanobragg_args": "braggcheck.nanobragg.args",
    "to_nanobragg_args": "braggcheck.nanobragg.export",
    "BeamConfig": "braggcheck.sim.config",
    "Config": "braggcheck.sim.config",
    "CrystalConfig": "braggcheck.sim.config",
    "DetectorConfig": "braggcheck.sim.config",
    "Parameter": "braggcheck.sim.parameter",
    "PARAMETERS": "braggcheck.sim.registry",
    "VECTOR_PARAMETERS": "braggcheck.sim.registry",
    "simulate": "braggcheck.sim.simulator",
    "ConfigError": "braggcheck.util.errors",
    "WriteError": "braggcheck.util.errors",
}

__all__ = [
    "PARAMETERS",
    "VECTOR_PARAMETERS",
    "BeamConfig",
    "Config",
    "ConfigError",
    "CrystalConfig",
    "DetectorConfig",
    "Parameter",
    "WriteError",
    "from_nanobragg_args",
    "simulate",
    "to_nanobragg_args",
]
__version__ = VERSION

__getattr__, __dir__ = _lazy_attributes(__name__, _HOMES, __all__)
