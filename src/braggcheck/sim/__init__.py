"""braggcheck.sim: the differentiable simulator (configuration, registry, physics, simulate).

It imports nothing above it: no flag parsing, files or testing (those build on it).
"""

from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
from braggcheck.sim.hkl import HKLTable, read_hkl
from braggcheck.sim.parameter import Parameter
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import baseline_value

__all__ = [
    "PARAMETERS",
    "BeamConfig",
    "Config",
    "CrystalConfig",
    "DetectorConfig",
    "HKLTable",
    "Parameter",
    "baseline_value",
    "read_hkl",
    "simulate",
]
