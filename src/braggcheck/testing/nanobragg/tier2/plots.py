"""The pictures of the Tier-2 report: setups, gradient maps, finite-difference errors, Taylor.

Four PNGs beside the Markdown report, each a grid over the table so it reads at a glance:
``<stem>-setups.png`` (each setup's image, log scale), ``<stem>-gradient-maps.png``
(d image / d parameter per case, forward mode), ``<stem>-fd-errors.png`` (relative error of
central differences against the step: the V of truncation and rounding, the step used marked)
and ``<stem>-taylor.png`` (remainder against h on log-log axes, slope-2 and slope-1 guides).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.simulator import simulate
from braggcheck.testing.nanobragg.plots import (
    draw_fd_curve,
    draw_image,
    draw_signed_map,
    draw_taylor,
    fd_error_curve,
    grid,
    image_derivative,
    pyplot,
    save,
)
from braggcheck.testing.nanobragg.tier2.report import Tier2Run
from braggcheck.testing.nanobragg.tier2.table import CASES, SETUPS, GradcheckCase

PICTURES = ("setups", "gradient-maps", "fd-errors", "taylor")


def picture_paths(stem: Path) -> dict[str, Path]:
    return {name: stem.with_name(f"{stem.name}-{name}.png") for name in PICTURES}


def single_parameter_cases(cases: Iterable[GradcheckCase] = CASES) -> list[GradcheckCase]:
    return [c for c in cases if len(c.parameters) == 1]


def write_tier2_pictures(run: Tier2Run, stem: Path,
                         tick: Callable[[str], None] = lambda _: None) -> list[Path]:
    """Draw the four pictures of ``run``; ``tick`` is called once per drawn panel (progress)."""
    pyplot()  # the one-line error about the extra, before any work
    paths = picture_paths(stem)
    cases = single_parameter_cases(outcome.case for outcome in run.outcomes)

    setups = sorted({outcome.case.setup for outcome in run.outcomes})
    figure, axes = grid(len(setups))
    for panel, name in zip(axes, setups, strict=True):
        config = SETUPS[name].config()
        draw_image(panel, config, simulate(config), f"setup '{name}'")
        tick(f"image {name}")
    figure.suptitle("Tier-2 setups: photons per pixel", fontsize=11)
    save(figure, paths["setups"])

    figure, axes = grid(len(cases))
    for panel, case in zip(axes, cases, strict=True):
        name = case.parameters[0]
        unit = PARAMETERS[name].units
        draw_signed_map(panel, case.config(), image_derivative(case.config(), name),
                        f"d image / d {name} @ {case.setup}", f"photons / {unit}")
        tick(f"map {case.id}")
    figure.suptitle("Gradient maps: d(image)/d(parameter) per Tier-2 case", fontsize=11)
    save(figure, paths["gradient-maps"])

    figure, axes = grid(len(cases), xlabel="relative step (units of the registry scale)",
                        ylabel="relative error of central differences")
    for panel, case in zip(axes, cases, strict=True):
        steps, errors = fd_error_curve(case.probe())
        draw_fd_curve(panel, steps, errors, case.eps, case.id)
        tick(f"steps {case.id}")
    figure.suptitle("Central differences against the analytic derivative, by step", fontsize=11)
    save(figure, paths["fd-errors"])

    figure, (panel,) = grid(1, columns=1, size=5.0)
    draw_taylor(panel, run.taylor, run.taylor_self_test)
    save(figure, paths["taylor"])
    tick("taylor")
    return list(paths.values())


def panel_count(run: Tier2Run) -> int:
    cases = single_parameter_cases(outcome.case for outcome in run.outcomes)
    return len({outcome.case.setup for outcome in run.outcomes}) + 2 * len(cases) + 1
