"""tests/cuda: the CUDA path under test (issue 23). Every module here is marked ``cuda``; the
root conftest deselects them where ``torch.cuda.is_available()`` is false (reported as
deselected, never skipped), and turns torch.compile off, so these check the eager code
(test_compile.py checks the compiled CUDA default). ``tests/cuda/run_cuda_checks.sh`` runs
them with the GPU bench."""

from __future__ import annotations

import torch

DEVICE = torch.device("cuda")
"""Where these tests run the simulator (the comparisons are against CPU or the C program)."""
