"""The one verdict engine: every comparison of two quantities the framework makes goes here.

Analytic vs finite differences (the gradient check, the Tier-2 table), forward vs reverse
mode, the gradient at an angle vs at the angle plus whole periods, f(k x) vs k f(x): each
is judged against the noise of the quantities it compares, measured on that target at that
case, never against a bare constant alone. Two kinds of comparison:

- **against finite differences** (:func:`derivative_row`, :func:`retried_row`,
  :func:`settled_step`): the rounding noise comes from the difference table's fourth
  differences. Rounding falls as 1/h, a wrong derivative's error does not (every step's
  differences estimate the true derivative), so a failed or noise-inflated comparison is made
  again at larger steps and counts only when it passes there at a tolerance no larger.
- **of two analytic quantities** (:func:`gap_row`, :func:`image_gap`): a gap inside the
  tight constant tolerance passes at once (it could hide no error); a larger one is measured
  at a few nearby parameter values. Rounding scatters from point to point, a wrong derivative
  gives the same gap at every point: the mean gap is judged against the measured scatter.

A target may declare its working precision as data (``precision``: the relative rounding of
its output, e.g. 1e-7 for float32 internals); that declared noise is added to the measured one.

The hard ceiling: however large the noise, a tolerance raised by it may never exceed
:data:`~braggcheck.testing.framework.tolerances.MAX_MEASURED_RTOL` of the quantity compared
(a real error of twice that must not hide). Beyond it the outcome is ``inconclusive``
("tolerance inflated by noise"), a visible outcome counted and listed, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from braggcheck.testing.framework.differences import Differences, central_differences
from braggcheck.testing.framework.results import Row
from braggcheck.testing.framework.tolerances import (
    EPS,
    GAP_MARGIN,
    GAP_OFFSETS,
    MAX_MEASURED_RTOL,
    NOISE_MARGIN,
    PRECISION_MARGIN,
    RESOLVED,
    RETRY_FACTORS,
    ROUNDING_MARGIN,
    RTOL,
    STEP,
)

INFLATED = "tolerance inflated by noise"
"""The message of every inconclusive verdict the ceiling makes."""


def declared_noise(target: Any, terms: float) -> float:
    """The noise a target's declared precision implies for a sum whose terms' magnitudes add up
    to ``terms`` (0 without a declaration)."""
    return PRECISION_MARGIN * declared_precision(target) * abs(terms)


def declared_precision(target: Any) -> float:
    """The relative rounding of the target's output it declares (``precision``), 0 when it
    declares none (then the noise is measured only). A declared value that is not a positive
    finite number is refused: it would silently drop or break every tolerance."""
    precision = getattr(target, "precision", None)
    if precision is None:
        return 0.0
    if not (isinstance(precision, (int, float)) and math.isfinite(precision)
            and 0 <= precision < 1):
        raise ValueError(f"target {getattr(target, 'name', '?')}: precision = {precision!r} "
                         "must be a number in [0, 1) (the relative rounding of its output)")
    return float(precision)


REPRESENTATION_ELEMENTS = 4
"""Nonzero elements needed before an output's own values say what precision it holds: a float64
value has 29 or more trailing zero bits by chance once in 5e8, four at once never."""


def representation_precision(output: torch.Tensor) -> float:
    """The relative spacing of the values ``output`` holds, read from the values themselves:
    a result computed in float32 and returned as float64 carries at most 24 significant bits,
    whatever its dtype says (a finite difference over a step below that spacing is 0, and the
    fourth differences that measure noise are 0 too). A narrower dtype's eps; 0 (nothing
    beyond what the checks assume) for a float64 output whose values use every bit, or too few
    nonzero elements to tell."""
    values = output.detach()
    if not values.is_floating_point():
        return 0.0
    if values.dtype != torch.float64:
        return float(torch.finfo(values.dtype).eps)
    nonzero = values[torch.isfinite(values) & (values != 0)]
    if nonzero.numel() < REPRESENTATION_ELEMENTS:
        return 0.0
    mantissa, _ = torch.frexp(nonzero.abs().cpu())  # in [0.5, 1): 53 bits as an integer
    bits = (mantissa * 2.0**53).to(torch.int64)
    lowest = bits & -bits  # the lowest set bit: 2^(trailing zeros)
    significant = 53 - int(torch.log2(lowest.min().double()).round())
    spacing = 2.0 ** (1 - significant)
    return spacing if spacing > torch.finfo(torch.float64).eps else 0.0


def output_precision(target: Any, output: torch.Tensor) -> float:
    """The relative rounding of ``target``'s output: what it declares or what its values
    show (:func:`representation_precision`), the larger."""
    return max(declared_precision(target), representation_precision(output))


def output_noise(target: Any, output: torch.Tensor, terms: float) -> float:
    """:func:`declared_noise` at the :func:`output_precision` of ``output``."""
    return PRECISION_MARGIN * output_precision(target, output) * abs(terms)


def ceiling(scale: float) -> float:
    """The largest tolerance a measured noise may raise a comparison of ``scale`` to."""
    return MAX_MEASURED_RTOL * abs(scale)


def settle(name: str, analytic: float, reference: float, base: float, noise: float,
           scale: float, *, noise_floor: float = 0.0, eps: float = 0.0) -> Row:
    """The verdict over one comparison: ``base`` (a fixed tolerance that by itself could hide
    no error) plus ``noise`` (the measured one), the ceiling applied relative to ``scale``.

    FAIL when either value is not finite, when the noise estimate is not finite (a NaN
    tolerance would compare False and pass nothing, but must say why), or when the values
    differ by more than the tolerance; ``inconclusive`` when they agree only because the noise
    raised the tolerance past the ceiling; ``ok`` otherwise.
    """
    tolerance = base + noise
    row = Row(name, analytic, reference, tolerance, "FAIL", noise_floor=noise_floor, eps=eps)
    if not (math.isfinite(analytic) and math.isfinite(reference) and math.isfinite(tolerance)
            and tolerance >= 0):
        return row
    if row.error > tolerance:
        return row
    inflated = noise > 0 and tolerance > max(ceiling(scale), base)
    row.status = "inconclusive" if inflated else "ok"
    return row


def inflation(rows: Sequence[Row]) -> str:
    """The listed reason of a result whose rows are inconclusive by the ceiling."""
    named = [f"{r.name} (allowed {r.tolerance:.1e} > {MAX_MEASURED_RTOL:g} x "
             f"|{r.numerical:.3e}|)" for r in rows if r.status == "inconclusive"]
    return f"{INFLATED}: {', '.join(named)}"


# ---- comparisons against finite differences ---------------------------------------------


def derivative_row(name: str, analytic: float, numerical: float, spread: float,
                   noise: float, eps: float = 0.0) -> Row:
    """One analytic derivative against a Richardson-extrapolated one with its error bounds.

    ``spread`` = |D(h) - D(2h)| bounds the truncation error, ``noise`` is the rounding noise
    of D(h). A derivative within NOISE_MARGIN x the noise is ``below noise`` and one not smooth
    over the step ``unresolved`` (both still bounded, neither counted); a resolved one is
    settled (:func:`settle`) with RTOL + spread as the fixed part and ROUNDING_MARGIN x noise
    as the measured part.
    """
    if not (math.isfinite(analytic) and math.isfinite(numerical)):
        return Row(name, analytic, numerical, 0.0, "FAIL", noise_floor=noise, eps=eps)
    if not (math.isfinite(noise) and math.isfinite(spread)):
        return Row(name, analytic, numerical, math.nan, "FAIL", noise_floor=noise, eps=eps)
    if abs(numerical) <= NOISE_MARGIN * noise:
        tolerance = ROUNDING_MARGIN * noise + 3 * spread
        return Row(name, analytic, numerical, tolerance,
                   "below noise" if abs(analytic - numerical) <= tolerance else "FAIL",
                   noise_floor=noise, eps=eps)
    if spread > RESOLVED * abs(numerical):
        # Not smooth over the step (a sharp spot edge): still bounded, but not counted.
        tolerance = 3 * spread + ROUNDING_MARGIN * noise + RTOL * abs(numerical)
        return Row(name, analytic, numerical, tolerance,
                   "unresolved" if abs(analytic - numerical) <= tolerance else "FAIL",
                   noise_floor=noise, eps=eps)
    return settle(name, analytic, numerical, RTOL * abs(numerical) + spread,
                  ROUNDING_MARGIN * noise, numerical, noise_floor=noise, eps=eps)


def loss_noise(differences: Sequence[Differences], centre: float, step: float,
               precision: float = 0.0, magnitude: float = 1.0) -> float:
    """The rounding noise of a central difference at ``step``: the larger of a few ulps of
    the loss (or the declared precision of its terms) and the measured scatter (3 x the
    largest fourth difference / sqrt(70); dim pixels can be far noisier than their value
    suggests), divided by the step."""
    measured = 3 * max(d.fourth for d in differences) / math.sqrt(70)
    floor = max(16 * EPS * max(1.0, abs(centre)),
                PRECISION_MARGIN * precision * max(magnitude, abs(centre)))
    return max(floor, measured) / step


def retried_row(row: Row, loss: Callable[[torch.Tensor], float], x: torch.Tensor,
                direction: torch.Tensor, centre: float, can_step: Callable[[float], bool],
                precision: float = 0.0, magnitude: float = 1.0) -> Row:
    """``row`` (a failed, inconclusive or unresolved comparison along ``direction``) remade at
    the steps of :data:`RETRY_FACTORS` x STEP that ``can_step`` allows: the first that passes
    (``ok``) at a tolerance no larger than ``row``'s replaces it; otherwise ``row`` stands.

    A failed row's tolerance bounds the retry (a looser test never overrules a stricter one);
    a row that was not resolved had no verdict to overrule, so its retry needs only to pass
    under the ceiling."""
    bound = row.tolerance if row.status == "FAIL" else math.inf
    for factor in RETRY_FACTORS:
        step = STEP * factor
        if not can_step(2 * step):
            break
        differences = central_differences(loss, x, direction, step, centre=centre)
        noise = loss_noise([differences], centre, step, precision, magnitude)
        again = derivative_row(row.name, row.analytic, differences.extrapolated,
                               differences.spread, noise, eps=step)
        if again.status == "ok" and again.tolerance <= bound:
            return again
    return row


def agrees(analytic: float, differences: Differences) -> bool:
    """Tier-2's comparison: gradcheck's |analytic - D(h)| <= the measured tolerance of D(h),
    that tolerance within the ceiling (else a 6e-4 error could pass)."""
    row = settle("", analytic, differences.single, differences.spread,
                 ROUNDING_MARGIN * differences.rounding, differences.single)
    return row.status == "ok"


def settled_step(analytic: Sequence[float], differences_at: Callable[[float],
                 Sequence[Differences]], eps: float, can_step: Callable[[float], bool]
                 ) -> tuple[float, tuple[Differences, ...]]:
    """The retry rule for Tier-2: (step, differences) at ``eps`` when every entry agrees
    (:func:`agrees`) there; else at the first of RETRY_FACTORS x eps where all agree with a
    tolerance no larger than the failed one's; else at ``eps`` (the failure stands)."""
    first = tuple(differences_at(eps))
    if all(agrees(a, d) for a, d in zip(analytic, first, strict=True)):
        return eps, first
    bound = max((d.tolerance for d in first), default=math.inf)
    for factor in RETRY_FACTORS:
        step = eps * factor
        if not can_step(2 * step):
            break
        again = tuple(differences_at(step))
        if all(agrees(a, d) and d.tolerance <= max(bound, ceiling(d.single))
               for a, d in zip(analytic, again, strict=True)):
            return step, again
    return eps, first


# ---- comparisons of two analytic quantities ---------------------------------------------


def scatter(values: Sequence[float]) -> float:
    """The standard deviation of ``values`` (at equally spaced nearby points, in order) about
    a straight line: what rounding adds to each; a smooth change over the points (a wrong
    derivative's gap varies as slowly as the derivative) drops out with the line."""
    n = len(values)
    if n < 3:
        return math.nan
    ks = [k - (n - 1) / 2 for k in range(n)]
    mean = sum(values) / n
    slope = sum(k * v for k, v in zip(ks, values, strict=True)) / sum(k * k for k in ks)
    residual = sum((v - mean - slope * k) ** 2 for k, v in zip(ks, values, strict=True))
    return math.sqrt(residual / (n - 2))


def gap_row(name: str, centre: tuple[float, float],
            nearby: Callable[[], Sequence[tuple[float, float]]] | None, base: float,
            scale: float, declared: float = 0.0, eps: float = 0.0) -> Row:
    """Two analytic quantities (``centre`` = (analytic, reference) at the case) judged by
    behaviour.

    Within ``base`` (the tight constant tolerance, e.g. AD_RTOL of the derivative) plus the
    declared noise they pass at once. Otherwise ``nearby()`` gives the pair at the points
    GAP_OFFSETS around the case (None: no room to move there): the gaps' scatter about a line
    is their rounding, and the mean gap over all points must stay within base + declared +
    GAP_MARGIN x that scatter, the measured part under the ceiling of ``scale``.
    """
    analytic, reference = centre
    quick = settle(name, analytic, reference, base + declared, 0.0, scale, eps=eps)
    if quick.status == "ok" or not (math.isfinite(analytic) and math.isfinite(reference)):
        return quick
    pairs = list(nearby()) if nearby is not None else []
    if not pairs:
        return quick
    # The case sits in the middle of the equally spaced points.
    middle = sum(1 for k in GAP_OFFSETS if k < 0)
    pairs.insert(middle, centre)
    gaps = [a - r for a, r in pairs]
    sigma = scatter(gaps)
    mean_a = sum(a for a, _ in pairs) / len(pairs)
    mean_r = sum(r for _, r in pairs) / len(pairs)
    return settle(f"{name} (mean of {len(pairs)} nearby)", mean_a, mean_r, base,
                  declared + GAP_MARGIN * sigma, scale, noise_floor=sigma, eps=eps)


def image_gap(name: str, first: torch.Tensor, second: torch.Tensor, base_rtol: float,
              nearby: Callable[[], Sequence[tuple[torch.Tensor, torch.Tensor]]] | None,
              declared: float = 0.0) -> Row:
    """Two outputs that must agree (e.g. at an angle and at the angle plus whole periods):
    the largest element gap against ``base_rtol`` x the peak; past it, each element's gap is
    measured at the nearby points (pairs of outputs) like :func:`gap_row`, and the largest
    mean gap must stay within base + declared + GAP_MARGIN x the largest scatter."""
    peak = float(torch.maximum(first.abs().max(), second.abs().max()))
    gap = float((first - second).abs().max())
    base = base_rtol * peak
    quick = settle(name, gap, 0.0, base + declared * peak, 0.0, peak)
    if quick.status == "ok" or not math.isfinite(gap):
        return quick
    pairs = list(nearby()) if nearby is not None else []
    if not pairs:
        return quick
    pairs.insert(sum(1 for k in GAP_OFFSETS if k < 0), (first, second))
    gaps = torch.stack([a - b for a, b in pairs])
    n = gaps.shape[0]
    ks = torch.arange(n, dtype=gaps.dtype) - (n - 1) / 2
    ks = ks.reshape((n,) + (1,) * (gaps.dim() - 1))
    mean = gaps.mean(0)
    slope = (ks * gaps).sum(0) / (ks**2).sum()
    sigma = float((((gaps - mean - slope * ks) ** 2).sum(0) / (n - 2)).sqrt().max())
    return settle(f"{name} (mean of {n} nearby)", float(mean.abs().max()), 0.0, base,
                  declared * peak + GAP_MARGIN * sigma, peak, noise_floor=sigma)


def offsets_steppable(can_step: Callable[[float], bool], step: float) -> bool:
    """Whether the nearby points of :func:`gap_row` (GAP_OFFSETS x ``step``) stay valid."""
    return can_step(max(abs(k) for k in GAP_OFFSETS) * step)


def nearby_step(can_step: Callable[[float], bool], step: float = STEP,
                smallest: float = 1e-12) -> float | None:
    """The largest spacing of the nearby points, ``step`` or a power of ten below it down to
    ``smallest``, that keeps them valid (a case next to a bound: a lens axis ratio 1e-8 below
    its limit 1 still has rounding to sample at spacings of 1e-10); None where none does."""
    while step >= smallest:
        if offsets_steppable(can_step, step):
            return step
        step /= 10
    return None

