"""tests/cuda: the CUDA path under test (issue 23). Every module here is marked ``cuda``; the
root conftest deselects them where ``torch.cuda.is_available()`` is false (reported as
deselected, never skipped). ``tests/cuda/run_cuda_checks.sh`` runs them with the GPU bench."""

from __future__ import annotations

import os

import torch

from braggcheck.sim.compilation import DISABLE_VARIABLES

# Eager code, the reference path, as in tests/gradcheck (also where braggcheck's pytest plugin,
# which sets this, is not installed); test_compile.py checks the compiled CUDA default.
os.environ[DISABLE_VARIABLES[0]] = "1"

DEVICE = torch.device("cuda")
"""Where these tests run the simulator (the comparisons are against CPU or the C program)."""
