"""Hypothesis strategies for INVALID input: each draws one bad value at a time.

They are derived from the parameter registry (values outside ``valid_range``) and from the
configuration dataclasses' fields and type hints (values of the wrong type, non-finite numbers,
out-of-range integers and vectors), plus garbage argument lists for ``braggcheck simulate``.
Every draw must be rejected with a :class:`~braggcheck.ConfigError` and nothing else; the
property tests in ``tests/properties/test_invalid_input.py`` check that. Strategies for VALID
configurations live in :mod:`braggcheck.testing.nanobragg.strategies.configs`.
"""

from __future__ import annotations

import math
import shlex
import types
import typing
from dataclasses import fields
from typing import Any, Literal

import numpy as np
import torch
from hypothesis import strategies as st

from braggcheck.nanobragg.flags import (
    FLAG_ALIASES,
    INTEGER_FLAGS,
    KNOWN_FLAGS,
    NO_VALUE_FLAGS,
    SCALAR_FLAGS,
    UNSUPPORTED,
    VECTOR_FLAGS,
)
from braggcheck.sim.hkl import HKLTable
from braggcheck.sim.limits import FIELD_LIMITS
from braggcheck.sim.parameter import Parameter
from braggcheck.sim.pixel_mask import PixelMask
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.sections import BeamConfig, CrystalConfig, DetectorConfig
from braggcheck.sim.sensor_rules import unset_attenuation
from braggcheck.testing.nanobragg.strategies.pixels import BAD_FLAG_VALUES as PIXEL_BAD_FLAG_VALUES

SECTIONS: dict[str, type] = {"crystal": CrystalConfig, "beam": BeamConfig,
                             "detector": DetectorConfig}

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NOT_A_NUMBER = st.sampled_from(["1.0", "abc", "", b"1", [1.0], (1.0,), {"value": 1.0}, 1j,
                                object()])
"""Things that are not a real number (strings that look like one included)."""




def _outside(low: float | None, high: float | None, low_inclusive: bool,
             high_inclusive: bool, integer: bool) -> list[st.SearchStrategy[Any]]:
    """Strategies for finite numbers just and far outside an interval."""
    options: list[st.SearchStrategy[Any]] = []
    if integer:
        if low is not None:
            options.append(st.integers(max_value=int(low) - 1))
        if high is not None:
            options.append(st.integers(min_value=int(high) + 1))
        return options
    finite = {"allow_nan": False, "allow_infinity": False}
    # Filters rather than exclude_*: next_down(0.0) is -0.0, which equals the bound.
    if low is not None:
        below = st.floats(max_value=low, **finite)
        options.append(below.filter(lambda v: v < low) if low_inclusive else below)
    if high is not None:
        above = st.floats(min_value=high, **finite)
        options.append(above.filter(lambda v: v > high) if high_inclusive else above)
    return options


def _as_tensors(values: st.SearchStrategy[float]) -> st.SearchStrategy[torch.Tensor]:
    return values.map(lambda v: torch.tensor(v, dtype=torch.float64))


BAD_TENSORS = st.sampled_from([
    torch.ones(2, dtype=torch.float64),  # not a scalar
    torch.ones(1, 3, dtype=torch.float64),
    torch.tensor(True),
    torch.tensor(1 + 0j),
])


def out_of_range(parameter: Parameter) -> st.SearchStrategy[Any]:
    """Values of registry ``parameter`` that validation must reject: outside, NaN/Inf, types."""
    low, high = parameter.valid_range
    numbers = _outside(low, high, parameter.low_inclusive, parameter.high_inclusive, False)
    options = [*numbers, NON_FINITE, NOT_A_NUMBER, st.booleans(), BAD_TENSORS,
               _as_tensors(NON_FINITE)]
    options += [_as_tensors(s) for s in numbers]
    hint = typing.get_type_hints(SECTIONS[parameter.section])[parameter.field]
    if type(None) not in _hint_args(hint):  # None means "the convention's default" if allowed
        options.append(st.none())
    # An infinite attenuation length is a valid setting (no absorption), not an error.
    return st.one_of(options).filter(lambda value: not unset_attenuation(parameter.field, value))


def invalid_parameter() -> st.SearchStrategy[tuple[str, Any]]:
    """A (registry name, bad value) pair: one parameter out of range at a time."""
    return st.sampled_from(sorted(PARAMETERS)).flatmap(
        lambda name: out_of_range(PARAMETERS[name]).map(lambda value: (name, value))
    )


def impossible_cell_angles() -> st.SearchStrategy[tuple[float, float, float]]:
    """Three angles, each inside (0, 180), that admit no real cell."""
    angle = st.floats(min_value=0.0, max_value=180.0, exclude_min=True, exclude_max=True)
    drawn = st.tuples(angle, angle, angle).filter(
        lambda t: sum(t) >= 360 or any(2 * x >= sum(t) for x in t)
    )
    edges = st.sampled_from([(60.0, 30.0, 30.0), (30.0, 60.0, 30.0), (30.0, 30.0, 60.0),
                             (120.0, 120.0, 120.0), (179.0, 179.0, 2.0), (1.0, 1.0, 178.0)])
    return st.one_of(edges, drawn)


INPUT_FIELD_INVALID: dict[str, list[Any]] = {
    "reciprocal_matrix": [((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), "A.mat", 1.0,
                          ((-0.01, 0.0, 0.0), (0.0, 0.01, 0.0), (0.0, 0.0, 0.01)),
                          ((math.nan, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
                          ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))],
    "sources": [[(1.0, 0.0, 0.0)], "sources.txt", 1.0],
    "mask": [np.ones((2, 2)), "mask.img", PixelMask(kept=np.ones((2, 2), dtype=bool))],
}
"""Bad in-memory forms of the input files (a wrongly shaped but valid mask included)."""


def _hint_args(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _invalid_vectors() -> st.SearchStrategy[Any]:
    component = st.floats(-10, 10, allow_nan=False)
    return st.one_of(
        st.just((0.0, 0.0, 0.0)),
        st.tuples(component, component),
        st.tuples(component, component, component, component),
        st.tuples(NON_FINITE, component, component),
        st.tuples(component, NOT_A_NUMBER, component),
        st.tuples(st.booleans(), component, component),
        st.sampled_from(["1 0 0", 1.0, torch.tensor([1.0, 0.0, 0.0])]),
    )


def _invalid_roi() -> st.SearchStrategy[Any]:
    """ROIs that fit no detector of the default size (1024 x 1024)."""
    inside = st.integers(0, 1023)
    return st.one_of(
        st.tuples(st.integers(max_value=-1), inside, inside, inside),
        st.tuples(inside, st.integers(min_value=1024), inside, inside),
        st.tuples(st.integers(1, 1023), st.just(0), inside, inside),  # min > max
        st.tuples(inside, inside, inside),
        st.tuples(st.floats(0, 10), inside, inside, inside),
        st.sampled_from(["0 1 2 3", 5, [0, 1, 2, 3, 4]]),
    )


def invalid_values_for(section: str, name: str) -> st.SearchStrategy[Any] | None:
    """Bad values for dataclass field ``name`` of ``section``, from its type hint; None when
    the hint is not understood (a new field needs a rule here)."""
    for parameter in PARAMETERS.values():
        if parameter.section == section and parameter.field == name:
            return out_of_range(parameter)
    if name in INPUT_FIELD_INVALID:  # -mat, -sourcefile, -mask contents
        return st.sampled_from(INPUT_FIELD_INVALID[name])
    hint = typing.get_type_hints(SECTIONS[section])[name]
    args = _hint_args(hint)
    optional = type(None) in args
    kinds = [a for a in args if a is not type(None)]
    options: list[st.SearchStrategy[Any]] = [] if optional else [st.none()]
    if len(kinds) != 1:
        return None
    kind = kinds[0]
    limits = FIELD_LIMITS.get(name)
    if typing.get_origin(kind) is Literal:
        choices = typing.get_args(kind)
        options += [st.text(max_size=8).filter(lambda s: s not in choices),
                    st.sampled_from([1, b"mosflm", ["beam"]])]
    elif kind is HKLTable:
        options.append(st.sampled_from(["rand8.hkl", {(0, 0, 0): 1.0}, 1.0]))
    elif kind is bool:
        options.append(st.sampled_from(["false", "yes", 0, 1, 1.0]))
    elif kind in (int, float):
        integer = kind is int
        options += [NON_FINITE, NOT_A_NUMBER, st.booleans()]
        if integer:
            options.append(st.sampled_from([1.0, 2.5, "3"]))
        if limits is not None:
            options += _outside(limits.low, limits.high, limits.low_inclusive,
                                limits.high_inclusive, integer)
    elif typing.get_origin(kind) is tuple and len(typing.get_args(kind)) == 3:
        options.append(_invalid_vectors())
    elif name == "roi":
        options.append(_invalid_roi())
    else:
        return None
    return st.one_of(options)


def config_fields() -> list[tuple[str, str]]:
    """Every (section, field) of the configuration dataclasses."""
    return [(section, f.name) for section, cls in SECTIONS.items() for f in fields(cls)]


def invalid_field() -> st.SearchStrategy[tuple[str, str, Any]]:
    """A (section, field, bad value) triple: one dataclass field wrong at a time."""
    known = [(s, n) for s, n in config_fields() if invalid_values_for(s, n) is not None]
    return st.sampled_from(known).flatmap(
        lambda sn: invalid_values_for(*sn).map(lambda v: (sn[0], sn[1], v))  # type: ignore
    )


# ---- the command line -------------------------------------------------------------------

VALID_ARGS: tuple[str, ...] = (
    "-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "3",
    "-lambda", "1", "-distance", "100", "-pixel", "0.1", "-detpixels", "8", "-oversample", "1",
)
"""A small valid argument list that the corruptions below start from."""

_VALUE_COUNTS = {"-cell": 6, "-default_F": 1, "-N": 1, "-lambda": 1, "-distance": 1,
                 "-pixel": 1, "-detpixels": 1, "-oversample": 1}

BAD_FLAG_VALUES: dict[str, list[str]] = {
    "-distance": ["0", "-100", "-1e-300"],
    "-lambda": ["0", "-1"],
    "-energy": ["0", "-12398"],
    "-pixel": ["0", "-0.1"],
    "-detpixels": ["0", "-5", "100000"],
    "-detsize": ["0", "-10"],
    "-N": ["0", "-1", "1001"],
    "-Na": ["0", "-3"],
    "-mosaic": ["-0.5", "90", "1e9"],
    "-polar": ["1.5", "-1.01", "7"],
    "-fluence": ["-1", "-1e24"],
    "-flux": ["-1e12"],
    "-beamsize": ["-0.1"],
    "-oversample": ["65", "1000000"],
    "-default_F": ["-1"],
    "-dispersion": ["-1", "200", "500"],
    "-divergence": ["-1", "1e9"],
    "-phisteps": ["-2", "200000"],
    "-roi": ["0 8 0 7", "-1 3 0 3", "5 4 0 3"],
    "-cell": ["0 100 100 90 90 90", "100 -1 100 90 90 90", "100 100 100 0 90 90",
              "100 100 100 90 180 90", "100 100 100 120 120 120", "100 100 100 30 30 90"],
    "-misset": ["nan 0 0", "0 inf 0"],
    "-fdet_vector": ["0 0 0", "nan 0 1"],
    "-detector_roty": ["90", "-90"],
    "-twotheta": ["90"],
    "-xtalsize": ["1e308", "-1"],
    "-hkl": ["/nonexistent/file.hkl", "."],
    "-pivot": ["middle"],
    "-mat": ["/nonexistent/A.mat", "."], "-sourcefile": ["/nonexistent/s.txt", "."],
    "-mask": ["/nonexistent/m.img", "."], "-img": ["/nonexistent/h.img"], "-dmin": ["-1"],
}
"""Flag values that are out of range, impossible or refer to nothing (one flag at a time)."""
BAD_FLAG_VALUES.update(PIXEL_BAD_FLAG_VALUES)  # braggcheck.testing.nanobragg.strategies.pixels

NOT_NUMBERS = st.sampled_from(["abc", "1..2", "1,5", "0x10", "nan", "inf", "-inf", "", "1e",
                               "--5", "one", "1 2"])
"""Words that are not a finite number (``float()`` fails or gives NaN/Inf)."""


def _flag_positions() -> list[int]:
    return [i for i, w in enumerate(VALID_ARGS) if w in _VALUE_COUNTS]


@st.composite
def truncated_args(draw: st.DrawFn) -> list[str]:
    """Too few values after a flag: the list ends early, or the next flag comes too soon."""
    index = draw(st.sampled_from(_flag_positions()))
    needed = _VALUE_COUNTS[VALID_ARGS[index]]
    given = draw(st.integers(0, needed - 1))
    head = list(VALID_ARGS[: index + 1 + given])
    rest = [] if draw(st.booleans()) else list(VALID_ARGS[index + 1 + needed:])
    return head + rest if rest else head


@st.composite
def non_numeric_args(draw: st.DrawFn) -> list[str]:
    """One numeric value replaced by a word that is not a finite number."""
    positions = [i for i, w in enumerate(VALID_ARGS) if w not in _VALUE_COUNTS]
    index = draw(st.sampled_from(positions))
    args = list(VALID_ARGS)
    args[index] = draw(NOT_NUMBERS)
    return args


@st.composite
def unknown_word_args(draw: st.DrawFn) -> list[str]:
    """A word inserted where a flag belongs that is no accepted flag (or a stray value)."""
    unsupported = [st.sampled_from(sorted(UNSUPPORTED))] if UNSUPPORTED else []  # none left now
    word = draw(st.one_of(
        st.text(min_size=1, max_size=12).map(lambda s: "-" + s),
        st.text(min_size=1, max_size=12),
        *unsupported,
        st.sampled_from(["--cell", "-CELL", "-cel", "cell", "-lambda=1", "5"]),
    ).filter(lambda w: w not in KNOWN_FLAGS))
    positions = [*_flag_positions(), len(VALID_ARGS)]
    index = draw(st.sampled_from(positions))
    args = list(VALID_ARGS)
    args.insert(index, word)
    return args


@st.composite
def bad_value_args(draw: st.DrawFn) -> list[str]:
    """The valid list with one flag set to an out-of-range or impossible value."""
    flag = draw(st.sampled_from(sorted(BAD_FLAG_VALUES)))
    value = draw(st.sampled_from(BAD_FLAG_VALUES[flag]))
    return [*VALID_ARGS, flag, *value.split()]


def random_words() -> st.SearchStrategy[list[str]]:
    """Arbitrary word lists without ``-cell`` (required), so none can be valid."""
    return st.lists(st.text(max_size=10), max_size=8).filter(lambda ws: "-cell" not in ws)


def garbage_args() -> st.SearchStrategy[list[str]]:
    """Argument lists for ``braggcheck simulate`` that must be rejected with one line."""
    return st.one_of(truncated_args(), non_numeric_args(), unknown_word_args(),
                     bad_value_args(), random_words())


def garbage_strings() -> st.SearchStrategy[str]:
    """Whole command strings (``from_nanobragg_args(str)``), quotes unbalanced too."""
    return st.one_of(
        garbage_args().map(shlex.join),
        st.text(max_size=30).map(lambda s: s + " '"),
        st.text(max_size=30).filter(lambda s: "-cell" not in s),
    )


COSTLY_FLAGS = {
    "-mosaic_domains", "-phisteps", "-hdivsteps", "-vdivsteps", "-divsteps", "-dispsteps",
    "-detpixels", "-detpixels_f", "-detpixels_s", "-detsize", "-detsize_f", "-detsize_s",
    "-pixel", "-hkl", "-floatfile", "-intfile", "-noisefile",
}
"""Flags left out of :func:`flag_soup`: they make images large or slow, or touch files."""

_SOUP_NUMBERS = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 45.0, 90.0, 180.0, 360.0, 1e-9, 89.9999, 1e3]),
    st.floats(-1e4, 1e4, allow_nan=False),
)


def _flag_with_values(flag: str) -> st.SearchStrategy[list[str]]:
    """``flag`` followed by the right count of values, each possibly out of range."""
    def numbers(count: int) -> st.SearchStrategy[list[str]]:
        return st.lists(_SOUP_NUMBERS, min_size=count, max_size=count).map(
            lambda values: [flag, *map(repr, values)])

    if flag in NO_VALUE_FLAGS:
        return st.just([flag])
    if flag in INTEGER_FLAGS:
        return st.integers(-3, 12).map(lambda v: [flag, str(v)])
    if flag == "-roi":
        return st.lists(st.integers(-1, 7), min_size=4, max_size=4).map(
            lambda values: [flag, *map(str, values)])
    if flag == "-misset":
        return st.one_of(st.just([flag, "random", "-misset_seed", "7"]), numbers(3))
    if flag == "-pivot":
        return st.sampled_from([[flag, "beam"], [flag, "sample"]])
    count = 1 if flag in SCALAR_FLAGS else 3 if flag in VECTOR_FLAGS else 6
    return numbers(count)


def flag_soup() -> st.SearchStrategy[list[str]]:
    """Well-formed argument lists (each flag with its count of values) for an 8 x 8 detector,
    valid or not: whatever comes out must be an image or a ConfigError, nothing else."""
    names = sorted((KNOWN_FLAGS - set(FLAG_ALIASES) | set(FLAG_ALIASES.values())) - COSTLY_FLAGS)
    pairs = st.sampled_from(names).flatmap(_flag_with_values)
    head = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "1"]
    return st.lists(pairs, max_size=6).map(
        lambda ps: [*head, *(w for p in ps for w in p), "-detpixels", "8"])
