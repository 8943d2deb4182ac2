"""Equivalence probes: a fingerprint of images and derivatives that an equivalent mutant must
leave bit-identical.

``python -m braggcheck.testing.nanobragg.mutation.probes`` prints a SHA-256 of the raw bytes of,
for a
few small configurations evaluated in several uneven chunks: the image without a gradient, the
reverse-mode gradients of a weighted pixel sum in four parameters, and a forward-mode
derivative. The runner prints it in the unmutated and the mutated copy of the tree (each
imports its own ``src``) and calls the mutant equivalent only when the two agree.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import torch

from braggcheck.sim.config import Config
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.simulator import simulate

PROBE_PARAMETERS = ("distance_mm", "lambda_A", "cell_a", "misset_rot_x")


def fingerprint() -> str:
    """The digest of this interpreter's braggcheck (the tree on its ``sys.path``)."""
    def value(config: Config, name: str) -> float:
        parameter = PARAMETERS[name]
        return float(getattr(getattr(config, parameter.section), parameter.field))

    digest = hashlib.sha256()
    base = Config().replace(fpixels=7, spixels=5, misset_rot_x=3.0, misset_rot_y=7.0)
    configs = [base.replace(oversample=1), base.replace(oversample=2),
               base.replace(oversample=1, n_a=3, n_b=4, n_c=2, mosaic_domains=2,
                            mosaic_spread_deg=0.5)]
    for config in configs:
        for chunk in (1, 4, 6, 35):  # 35 pixels: uneven last chunks, and one chunk
            with torch.no_grad():
                digest.update(simulate(config, pixels_per_chunk=chunk).numpy().tobytes())
            params = {name: torch.tensor(value(config, name), dtype=torch.float64,
                                         requires_grad=True) for name in PROBE_PARAMETERS}
            image = simulate(config, params, pixels_per_chunk=chunk)
            weights = torch.linspace(0.5, 1.5, image.numel(), dtype=image.dtype)
            grads = torch.autograd.grad((image.reshape(-1) * weights).sum(),
                                        list(params.values()))
            digest.update(torch.stack(grads).numpy().tobytes())
            distance = params["distance_mm"].detach()

            def loss(d: torch.Tensor, config=config, chunk=chunk, weights=weights
                     ) -> torch.Tensor:
                image = simulate(config, {"distance_mm": d}, pixels_per_chunk=chunk)
                return (image.reshape(-1) * weights).sum()

            _, tangent = torch.func.jvp(loss, (distance,), (torch.ones_like(distance),))
            digest.update(tangent.numpy().tobytes())
    return digest.hexdigest()


def tree_fingerprint(root: Path, timeout: float = 300.0) -> str:
    """:func:`fingerprint` computed by a fresh interpreter importing ``root/src``."""
    env = dict(os.environ, PYTHONPATH=str(root / "src"), NANOBRAGG_DISABLE_COMPILE="1")
    done = subprocess.run([sys.executable, "-m", "braggcheck.testing.nanobragg.mutation.probes"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"probe failed in {root}: {tail}")
    return done.stdout.strip()


if __name__ == "__main__":
    print(fingerprint())
