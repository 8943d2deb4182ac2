"""The toy target with a planted bug: the worked failure of docs/targets.md.

Like the independent PyTorch port of nanoBragg in issue #21, this toy takes a shortcut at its
own default configuration and loses the gradient of the detector distance there (an optimiser
would silently never refine it). Random draws almost never sit exactly on the default; the
property suite checks the target's ``defaults()`` first and finds it at its first example::

    pytest examples/toy_with_a_bug.py
"""

from __future__ import annotations

import torch
from toy_target import ToyConfig, ToyTarget  # examples/ is on sys.path (pytest, replay)

from braggcheck.testing import property_tests


class ToyWithABug(ToyTarget):
    def render(self, config: ToyConfig, params: dict[str, torch.Tensor]) -> torch.Tensor:
        if config == ToyConfig() and "distance_mm" in params:
            # The planted bug: a "fast path" for the default detector that detaches.
            params = {**params, "distance_mm": params["distance_mm"].detach()}
        return super().render(config, params)


BUGGY = ToyWithABug()
globals().update(property_tests(BUGGY, checks=["gradient"]))
