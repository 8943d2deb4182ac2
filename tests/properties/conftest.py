"""Property tests evaluate many tiny images: one torch thread is faster for them (on 2 cores
the thread pool's start-up costs more than a 16x16 image), and it keeps timings steady."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
