"""Configurations as human-readable JSON, and back.

A :class:`Config` becomes ``{"crystal": {...}, "beam": {...}, "detector": {...}}`` holding only the
fields that differ from their defaults, so a stored example reads as "the baseline, except ...".
Floats are written with ``repr`` precision, so a round trip is exact. A structure-factor table is
stored by the path it was read from (``"hkl": "file.hkl"``, re-read on load) or left out when it
has no path. Tensors are stored as their float values (a stored file has no graph).
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch

from braggcheck.nanobragg.serialization_inputs import (
    INPUT_FIELDS,
    input_field_from_json,
    input_field_to_json,
)
from braggcheck.sim.config import BeamConfig, Config, CrystalConfig, DetectorConfig
from braggcheck.sim.hkl import read_hkl
from braggcheck.util.errors import ConfigError

SECTIONS: dict[str, type] = {
    "crystal": CrystalConfig,
    "beam": BeamConfig,
    "detector": DetectorConfig,
}
TUPLE_FIELDS = {"spindle_axis", "beam_vector", "polar_vector", "twotheta_axis", "fdet_vector",
                "sdet_vector", "odet_vector", "roi"}


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a field value."""
    if isinstance(value, torch.Tensor):
        return float(value.detach())
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def config_to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The fields of ``config`` that differ from the defaults, section by section."""
    out: dict[str, dict[str, Any]] = {}
    for name, cls in SECTIONS.items():
        section = getattr(config, name)
        default = cls()
        entries: dict[str, Any] = {}
        for f in fields(cls):
            value = getattr(section, f.name)
            if f.name == "hkl":
                if value is not None and value.source:
                    entries["hkl"] = value.source
                continue
            if f.name in INPUT_FIELDS:  # matrix, sources, mask
                if value is not None:
                    entries[f.name] = input_field_to_json(f.name, value)
                continue
            plain = _plain(value)
            if plain != _plain(getattr(default, f.name)):
                entries[f.name] = plain
        out[name] = entries
    return out


def config_from_dict(data: dict[str, Any], base_dir: str | Path | None = None) -> Config:
    """Rebuild a validated :class:`Config`; an ``hkl`` path is relative to ``base_dir``."""
    if not isinstance(data, dict):
        raise ConfigError(f"config: expected a JSON object with crystal/beam/detector, got "
                          f"{type(data).__name__}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"config: unknown section(s) {', '.join(unknown)}; valid: "
                          f"{', '.join(SECTIONS)}")
    sections = {}
    for name, cls in SECTIONS.items():
        entries = dict(data.get(name, {}))
        valid = {f.name for f in fields(cls)}
        bad = sorted(set(entries) - valid)
        if bad:
            raise ConfigError(f"config.{name}: unknown field(s) {', '.join(bad)}")
        for key in set(INPUT_FIELDS) & set(entries):
            entries[key] = input_field_from_json(key, entries[key])
        for key in TUPLE_FIELDS & set(entries):
            if entries[key] is not None:
                entries[key] = tuple(entries[key])
        if name == "crystal" and entries.get("hkl") is not None:
            path = Path(entries["hkl"])
            if base_dir is not None and not path.is_absolute():
                path = Path(base_dir) / path
            entries["hkl"] = read_hkl(path, entries.get("default_F", 0.0))
        sections[name] = cls(**entries)
    return Config(**sections)


def _finite_or_fail(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {value} cannot be stored as JSON")


def config_to_json(config: Config, indent: int = 2) -> str:
    data = config_to_dict(config)
    for section, entries in data.items():
        for key, value in entries.items():
            _finite_or_fail(value, f"config.{section}.{key}")
    return json.dumps(data, indent=indent, sort_keys=True)


def config_from_json(text: str, base_dir: str | Path | None = None) -> Config:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config JSON: {exc.msg} at line {exc.lineno}") from None
    return config_from_dict(data, base_dir)
