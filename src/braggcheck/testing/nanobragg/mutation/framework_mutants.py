"""Mutants of the generic framework's guards: each lets a verdict through that must fail or
be inconclusive (a retry at a looser tolerance, nothing resolved, a NaN Taylor rate, an
inconclusive example, an infinite output). Only the framework's self-tests can kill them."""

from __future__ import annotations

from braggcheck.testing.nanobragg.mutation.mutant import Mutant

FW = "testing/framework/"

FRAMEWORK_MUTANTS: tuple[Mutant, ...] = (
    Mutant("retry-looser-tolerance", FW + "verdict.py",
           'if again.status == "ok" and again.tolerance <= bound:',
           'if again.status == "ok":', "guard",
           "gradient check: a failed comparison retried at a larger step passes at any "
           "tolerance, also a looser one"),
    Mutant("vacuous-verdict-passes", FW + "check_support.py", "    if not resolved:\n",
           "    if not rows:\n", "guard",
           "derivative verdict: nothing resolved above the noise passes instead of being "
           "inconclusive"),
    Mutant("taylor-nan-rate-passes", FW + "derivatives.py",
           "if not rate >= TAYLOR_MIN_RATE]", "if rate < TAYLOR_MIN_RATE]", "guard",
           "Taylor test: a NaN convergence rate counts as fast enough"),
    Mutant("inconclusive-passes", FW + "harness.py",
           "and proves nothing: {result.message}\")\n        reject()\n",
           "and proves nothing: {result.message}\")\n        return result\n", "guard",
           "property harness: an inconclusive example is counted as a pass, not rejected"),
    Mutant("infinite-image-unguarded", FW + "check_support.py",
           "bad = int((~torch.isfinite(image.detach())).sum())",
           "bad = int(torch.isnan(image.detach()).sum())", "guard",
           "output guard: only NaN pixels fail the check; an Inf passes through"),
)
