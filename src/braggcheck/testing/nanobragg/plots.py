"""Pictures of images, gradient maps, finite-difference errors and Taylor remainders.

matplotlib is optional (``pip install 'braggcheck[plots]'``); everything else works without it,
and asking for a plot without it is a one-line error saying how to get it. Every figure is
rendered to PNG bytes and written through the one file writer. Detector axes are in mm from the
detector's origin corner (pixel (0, 0)'s outer corner), slow axis down, as an image is viewed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch.autograd import forward_ad

from braggcheck.sim.config import Config
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import baseline_value
from braggcheck.testing.framework.derivatives import TaylorResult, compare_derivatives
from braggcheck.testing.framework.target import steppable
from braggcheck.testing.nanobragg.case import Case
from braggcheck.testing.nanobragg.target import GradientProbe
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FD_STEPS = tuple(10.0 ** (-e / 2) for e in range(2, 25, 3))
"""Relative steps from 1e-1 to 1e-12, every 1.5 decades, for the finite-difference error curve
(8 steps: the V shows, and 37 cases draw in under a minute)."""


def pyplot() -> Any:
    """matplotlib.pyplot with a file-only backend, or a one-line error naming the extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'braggcheck[plots]'") from None
    return plt


def save(figure: Figure, path: str | Path) -> None:
    """Render ``figure`` as PNG and write it (atomically for a regular file)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    pyplot().close(figure)
    write_output(path, buffer.getvalue())


def _extent(config: Config) -> tuple[float, float, float, float]:
    det = config.detector
    return (0.0, det.fpixels * det.pixel_mm, det.spixels * det.pixel_mm, 0.0)


def draw_image(axes: Axes, config: Config, image: torch.Tensor, title: str) -> None:
    """log10 photons per pixel; pixels below 1e-12 of the peak are floored there."""
    values = image.detach().cpu().double()
    peak = float(values.max()) if values.numel() else 0.0
    floor = peak * 1e-12 if peak > 0 else 1e-300
    shown = torch.log10(values.clamp_min(floor)).numpy()
    art = axes.imshow(shown, extent=_extent(config), cmap="viridis", interpolation="nearest")
    axes.figure.colorbar(art, ax=axes, label="log10 photons/pixel", shrink=0.9)
    axes.set_title(title, fontsize=9)


def draw_signed_map(axes: Axes, config: Config, values: torch.Tensor, title: str,
                    label: str, limit: float | None = None) -> None:
    """A signed per-pixel quantity, zero white, symmetric colour range."""
    shown = values.detach().cpu().double()
    bound = limit if limit is not None else float(shown.abs().max())
    bound = bound if bound > 0 else 1.0
    art = axes.imshow(shown.numpy(), extent=_extent(config), cmap="RdBu_r", vmin=-bound,
                      vmax=bound, interpolation="nearest")
    axes.figure.colorbar(art, ax=axes, label=label, shrink=0.9)
    axes.set_title(title, fontsize=9)


def image_derivative(config: Config, name: str) -> torch.Tensor:
    """d(image)/d(parameter ``name``) per pixel, in photons per registry unit (forward mode)."""
    value = torch.tensor(baseline_value(config, name), dtype=torch.float64)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(value, torch.ones_like(value))
        image = simulate(config, {name: dual}, dtype=torch.float64)
        return forward_ad.unpack_dual(image).tangent.detach()


MAP_STEP = 1e-4
"""Relative step of the per-pixel numerical map. A single bright pixel's central difference at
the gradient checks' 1e-6 carries rounding noise of ~1e-10 of its value per unit derivative
(1e-5 relative on a steep spot flank); Richardson's h^4 truncation at 1e-4 is far below that."""


def directional_maps(probe: GradientProbe, direction: torch.Tensor,
                     eps: float = MAP_STEP) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image, analytic, numerical) per pixel along ``direction`` in the probe's scaled space:
    forward mode, and Richardson-extrapolated central differences (steps eps and eps/2)."""
    x = probe.point()
    with forward_ad.dual_level():
        image_dual = probe.image(forward_ad.make_dual(x, direction.to(x)))
        image, analytic = (t.detach() for t in forward_ad.unpack_dual(image_dual)[:2])
    with torch.no_grad():
        def central(step: float) -> torch.Tensor:
            return (probe.image(x + step * direction) - probe.image(x - step * direction)) / (
                2 * step)

        numerical = (4 * central(eps / 2) - central(eps)) / 3
    return image, analytic, numerical


def fd_error_curve(probe: GradientProbe, steps: Sequence[float] = FD_STEPS
                   ) -> tuple[list[float], list[float]]:
    """Relative error |numerical - analytic| / |analytic| of the probe's first parameter, per
    relative step: rounding dominates at small steps, truncation at large ones (the V). Steps
    that would leave the valid range (e.g. a Kahn factor of 0.9 stepped by 0.2) are left out."""
    errors = []
    steps = [s for s in steps if all(steppable(probe.target, probe.config, n, 2 * s)
                                     for n in probe.names)]
    for step in steps:
        result = compare_derivatives(probe, eps=step)[0]
        errors.append(result.error / max(abs(result.analytic), 1e-300))
    return list(steps), errors


def draw_fd_curve(axes: Axes, steps: Sequence[float], errors: Sequence[float], chosen: float,
                  title: str) -> None:
    axes.loglog(steps, [max(e, 1e-17) for e in errors], "o-", markersize=3)
    axes.axvline(chosen, color="tab:red", linestyle="--", linewidth=1,
                 label=f"step used {chosen:g}")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7)


def draw_taylor(axes: Axes, taylor: TaylorResult, sabotaged: TaylorResult | None) -> None:
    """Remainder |L(x + h d) - L(x) - h g.d| against h, with slope-2 and slope-1 guides."""
    axes.loglog(taylor.steps, taylor.remainders, "o-", label="gradient under test")
    if sabotaged is not None:
        axes.loglog(sabotaged.steps, sabotaged.remainders, "s-",
                    label="gradient x 1.01 (sabotaged)")
    for slope, style, anchor in ((2, ":", taylor), (1, "--", sabotaged)):
        if anchor is None or not anchor.remainders[0] > 0:
            continue
        # Each guide runs under its own curve (half its height), so both stay visible.
        h0, r0 = anchor.steps[0], anchor.remainders[0]
        axes.loglog(anchor.steps, [0.5 * r0 * (h / h0) ** slope for h in anchor.steps], style,
                    color="black", label=f"slope {slope}")
    axes.set_xlabel("step h (parameters in units of their registry scale)")
    axes.set_ylabel("first-order remainder |L(x+hd) - L(x) - h g.d|")
    axes.set_title("Taylor test over all registry parameters at once", fontsize=9)
    axes.legend(fontsize=7)


def grid(count: int, columns: int = 4, size: float = 3.2, xlabel: str = "fast axis (mm)",
         ylabel: str = "slow axis (mm)") -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, axis labels once for the whole grid."""
    plt = pyplot()
    rows = max(1, math.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 0.82),
                                squeeze=False, layout="constrained")
    if count > 1:
        figure.supxlabel(xlabel)
        figure.supylabel(ylabel)
    flat = [a for row in axes for a in row]
    for unused in flat[count:]:
        unused.set_visible(False)
    return figure, flat[:count]


def case_figure(case: Case) -> Figure:
    """A stored case at a glance: its image, the analytic and numerical directional-derivative
    maps along the case's direction, and their difference (what a failing gradient looks like
    on the detector)."""
    probe = GradientProbe(case.config, case.names)
    direction = case.direction_tensor()
    image, analytic, numerical = directional_maps(probe, direction)
    figure, axes = grid(4, columns=2, size=4.2)
    draw_image(axes[0], case.config, image, "image")
    bound = float(torch.maximum(analytic.abs().max(), numerical.abs().max()))
    along = ", ".join(f"{w:+.2g} {n}" for w, n in zip(direction.tolist(), case.names,
                                                        strict=True))
    label = "photons / unit step"
    draw_signed_map(axes[1], case.config, analytic, "analytic (forward mode)", label, bound)
    draw_signed_map(axes[2], case.config, numerical, "numerical (central differences)", label,
                    bound)
    draw_signed_map(axes[3], case.config, analytic - numerical, "analytic - numerical", label)
    figure.suptitle(f"directional derivative along {along} (steps in registry scales)",
                    fontsize=10)
    return figure


def coverage_figure(values: dict[str, list[float]], units_by_name: dict[str, str],
                    events: dict[str, int], examples: int) -> Figure:
    """Histograms of the drawn value of each parameter (log10 for ranges over three decades),
    and below them a bar per coverage event."""
    plt = pyplot()
    columns = 6
    rows = math.ceil(len(values) / columns)
    figure = plt.figure(figsize=(columns * 2.7, rows * 2.2 + 4.0), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[rows * 2.2, 4.0])
    panels = top.subplots(rows, columns, squeeze=False).ravel()
    for panel in panels[len(values):]:
        panel.set_visible(False)
    for panel, (name, drawn) in zip(panels, values.items(), strict=False):
        positive = [v for v in drawn if v > 0]
        logarithmic = len(positive) == len(drawn) and max(drawn) > 1e3 * min(drawn)
        shown = [math.log10(v) for v in drawn] if logarithmic else drawn
        panel.hist(shown, bins=20, color="tab:blue")
        unit = units_by_name[name]
        panel.set_title(f"{'log10 ' if logarithmic else ''}{name} ({unit})", fontsize=8)
        panel.tick_params(labelsize=7)
    top.supylabel("examples")
    bars = bottom.subplots()
    labels = sorted(events, key=lambda k: -events[k])
    bars.barh(range(len(labels)), [events[k] for k in labels], color="tab:green")
    bars.set_yticks(range(len(labels)), labels, fontsize=7)
    bars.invert_yaxis()
    bars.set_xlabel(f"examples (of {examples})")
    bars.set_title("coverage events", fontsize=9)
    figure.suptitle(f"What {examples} drawn property cases cover", fontsize=11)
    return figure
