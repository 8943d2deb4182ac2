"""Mutants of the nanoBragg strategies that silently stop drawing one component (a
convention, a crystal shape, point pixels, thick sensors, a registry parameter as the
differentiated one): the suite still passes on what is drawn, so only a coverage test that
names the component can kill them."""

from __future__ import annotations

from braggcheck.testing.nanobragg.mutation.mutant import Mutant

ST = "testing/nanobragg/strategies/"

STRATEGY_MUTANTS: tuple[Mutant, ...] = (
    Mutant("strategy-drops-dials", ST + "detector.py",
           'CONVENTIONS = ("mosflm", "denzo", "adxv", "xds", "dials", "custom")',
           'CONVENTIONS = ("mosflm", "denzo", "adxv", "xds", "custom")', "dropped",
           "strategies: the DIALS convention is never drawn"),
    Mutant("strategy-drops-point-pixels", ST + "detector.py",
           'fields["point_pixel"] = draw(cst.booleans())',
           'fields["point_pixel"] = draw(cst.just(False))', "dropped",
           "strategies: point pixels are never drawn"),
    Mutant("strategy-drops-thick-sensors", ST + "detector.py",
           "fields.update(draw(sensors()))", "draw(sensors())", "dropped",
           "strategies: the thick sensor is drawn but never put in the configuration"),
    Mutant("strategy-drops-round", ST + "configs.py",
           'GRADIENT_SHAPES = ("square", "round", "gauss")',
           'GRADIENT_SHAPES = ("square", "gauss")', "dropped",
           "strategies: the round crystal is never drawn for the gradient checks"),
    Mutant("strategy-drops-last-parameter", ST + "cases.py",
           "    pool = list(PARAMETERS)\n    applicable",
           "    pool = list(PARAMETERS)[:-1]\n    applicable", "dropped",
           "strategies: the registry's last parameter is never differentiated"),
)
