"""The whole configuration of one simulation: crystal, beam and detector sections.

A Config that exists is one the simulator accepts: each section validates its fields, and the
Config validates what needs the placed detector (and fixes the oversample). Build one from
nanoBragg's flags with :func:`braggcheck.nanobragg.args.from_nanobragg_args`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from braggcheck.sim.geometry_checks import check_placement
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import BeamConfig, CrystalConfig, DetectorConfig
from braggcheck.util.errors import ConfigError

__all__ = ["BeamConfig", "Config", "CrystalConfig", "DetectorConfig"]


@dataclass(frozen=True)
class Config:
    """A whole simulation: crystal, beam and detector."""

    crystal: CrystalConfig = field(default_factory=CrystalConfig)
    beam: BeamConfig = field(default_factory=BeamConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    oversample: int = field(default=0, init=False, compare=False, repr=False)
    """Subpixels per pixel edge actually used: ``detector.oversample``, or the reference
    program's automatic choice for *this configuration's* values. It is a discrete choice of
    the configuration: tensors passed to ``simulate(params=...)`` do not change it, so the
    image stays a smooth function of them."""

    def __post_init__(self) -> None:
        for name, cls in (("crystal", CrystalConfig), ("beam", BeamConfig),
                          ("detector", DetectorConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"{name}: expected a {cls.__name__}, "
                                  f"got {type(getattr(self, name)).__name__}")
        object.__setattr__(self, "oversample", check_placement(self))

    def replace(self, **changes: Any) -> Config:
        """A copy with registry parameters (by name) or section objects replaced."""
        sections: dict[str, dict[str, Any]] = {"crystal": {}, "beam": {}, "detector": {}}
        direct = {}
        for name, value in changes.items():
            if name in sections:
                direct[name] = value
            elif name in PARAMETERS:
                parameter = PARAMETERS[name]
                sections[parameter.section][parameter.field] = value
            else:
                section = _section_of_field(name)
                sections[section][name] = value
        # One Config construction at the end: each one places the detector to validate it.
        parts = {name: direct.get(name, getattr(self, name)) for name in sections}
        for name, values in sections.items():
            if values and isinstance(parts[name], type(getattr(self, name))):
                parts[name] = replace(parts[name], **values)
        return replace(self, **parts)


def _section_of_field(name: str) -> str:
    for section, cls in (("crystal", CrystalConfig), ("beam", BeamConfig),
                         ("detector", DetectorConfig)):
        if name in {f.name for f in fields(cls)}:
            return section
    raise ConfigError(f"{name!r} is neither a registry parameter nor a configuration field")

