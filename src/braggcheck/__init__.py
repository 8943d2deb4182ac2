"""braggcheck: a differentiable nanoBragg and a property-based gradient testing framework.

The public facade: the simulator (``braggcheck.sim``), nanoBragg's flags
(``braggcheck.nanobragg``); the testing framework is ``braggcheck.testing``.
"""

from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.export import to_nanobragg_args
from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
from braggcheck.sim.parameter import Parameter
from braggcheck.sim.registry import PARAMETERS, VECTOR_PARAMETERS
from braggcheck.sim.simulator import simulate
from braggcheck.util.errors import ConfigError, WriteError
from braggcheck.util.version import VERSION

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
