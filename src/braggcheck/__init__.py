"""braggcheck: a differentiable nanoBragg and a property-based gradient testing framework."""

from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
from braggcheck.sim.registry import PARAMETERS, VECTOR_PARAMETERS, Parameter
from braggcheck.sim.simulator import simulate
from braggcheck.util.errors import ConfigError, WriteError

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
    "simulate",
]
__version__ = "0.1.0"
