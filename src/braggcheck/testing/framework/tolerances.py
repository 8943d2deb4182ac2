"""Every step, tolerance and margin of the framework, declared once, each with its reason.

The checks, the Tier-2 table and the finite-difference engine read them from here; a
constant that is not here is not a tolerance of the framework.
"""

from __future__ import annotations

import torch

EPS = torch.finfo(torch.float64).eps
"""The float64 unit roundoff: ulp-based floors are multiples of it."""
STEP = 1e-6
"""Central-difference step in scaled units (value / spec scale): relative steps."""
ROUNDING_MARGIN = 10.0
"""A measured tolerance allows 10x the measured rounding noise of the central difference: the
noise comes from one fourth difference (a single sample of it), which can fall a few times
below its standard deviation; the ulp floor keeps it from falling further."""
NOISE_MARGIN = 1e3
"""A derivative must exceed the finite-difference noise floor by this factor to count."""
RESOLVED = 1e-4
"""A derivative counts as resolved only if it exceeds the rounding noise by NOISE_MARGIN (the
Tier-2 suite's margin) and the two step sizes agree to this fraction (the function is smooth
over the step)."""
RTOL = 1e-6
"""Analytic vs Richardson-extrapolated difference, on top of the estimated truncation error."""
RETRY_FACTORS = (10.0, 100.0)
"""A failing comparison is made again at these multiples of STEP before it counts. Rounding
noise falls as 1/h, and its measured estimate (a few samples of a fourth difference) can fall
low by chance, so a failure that is noise passes at a larger step; a wrong analytic derivative
fails at every step, since every step's differences estimate the true one. A retry counts only
when it passes at a tolerance no larger than the failed one: a looser test never overrules a
stricter one."""
AD_RTOL = 1e-9
"""Forward vs reverse mode: the same chain rule in another order, so only rounding differs.
A gap within it passes at once (no error of interest hides in 1e-9); a larger one is judged
against its measured scatter (verdict.gap_row), never against this constant alone."""
AD_FLOOR = 1e3
"""Absolute floor for a derivative that is zero: this many ulps of the (order 1) loss."""
MAX_ENVELOPE = 1e8
"""Beyond this the projection sees only pixels with no usable precision: inconclusive."""
PERIOD_RTOL = 1e-9
"""Adding whole periods rounds an angle in radians differently (~1e-15 rad per turn): images
and gradients then differ by rounding amplified by the spot sharpness, far below this on
braggcheck's simulator. The fast pass only: a larger gap is judged against its measured
scatter (a target with ~100x more rounding showed 4e-8 between 179 and 539 deg)."""
LINEAR_ULPS = 8
"""Each output element is a product of a few rounded factors: a handful of ulps apart at most.
The fast pass only: a larger gap is judged against the measured rounding of the linear relation
at nearby values of the parameter (a float32 target rounds at 6e-8)."""
LINEAR_GRADIENT_RTOL = 1e-12
"""d(w.output)/dp vs (w.output)/p for a linear p: the fast pass (a few ulps of a sum)."""
GAP_OFFSETS = (-3, -2, -1, 1, 2, 3)
"""Where a gap between two analytic quantities that failed its fast pass is measured again: at
these multiples of STEP (scaled units) around the case. Six points and the case give the
scatter about a line five degrees of freedom, so one unlucky low estimate is rare."""
GAP_MARGIN = 5.0
"""The mean gap over the seven points may be this many times their scatter: for pure rounding
the mean is sqrt(7) times less noisy than one gap, so a 5-sigma margin on one gap is a
13-sigma margin on the mean (Student t, 5 dof: a false alarm ~4e-5 per comparison), while a
wrong derivative gives the same gap at every point and no scatter to hide in."""
PRECISION_MARGIN = 10.0
"""A declared precision is the relative rounding of one output element; a derivative or a
projection is a sum of many such terms, rounded at up to log2(n) times that of the sum of
their magnitudes (pairwise summation): 10 of it covers ~1000 elements. Applied to the sum of
the terms' magnitudes, never to a cancelled sum."""
LINEAR_MARGIN = 4.0
"""f(k p) vs k f(p): the largest relative element gap may be this many times the largest
rounding measured at six nearby values of p (the same distribution of 6x more samples; a
gap holds two such roundings)."""
TAYLOR_CURVATURE_SHARE = 1e-3
"""At the first Taylor step the second-order remainder is this share of the first-order term."""
TAYLOR_MIN_RATE = 1.9
"""A right gradient gives Taylor remainder rates of 2, a wrong one 1: below this is wrong."""
TAYLOR_MAX_STEP = 0.1
"""Largest first Taylor step, in scaled units (10 % of each parameter's scale): a loss linear
along the direction has no curvature to scale the step by (its remainder is rounding)."""
TAYLOR_NOISE_MARGIN = 100.0
"""Remainders must exceed the rounding of the loss by this factor: a noise share of 1 % moves
a rate by 0.015, far inside its 0.1 margin."""
TAYLOR_RETRIES = 2
"""How many times a failing Taylor test is rerun at 8 times smaller steps."""
MAX_MEASURED_RTOL = 3e-4
"""The ceiling of every measured tolerance (verdict.settle): a tolerance raised by measured
noise must stay below this share of the quantity compared, half the 6e-4 error the suite must
catch on braggcheck's simulator; the noisiest Tier-2 case (dispersion, a derivative of 4e-5 of
an order-1 loss) measures 1e-4. Past it the outcome is inconclusive ("tolerance inflated by
noise"), never a pass."""
