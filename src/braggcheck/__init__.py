"""braggcheck: a differentiable nanoBragg and a property-based gradient testing framework."""

from .config import BeamConfig, Config, CrystalConfig, DetectorConfig
from .errors import ConfigError, WriteError
from .registry import PARAMETERS, Parameter
from .simulator import simulate

__all__ = [
    "PARAMETERS",
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
