"""Tier-2 fixtures: eager code (compile off) and one intra-op thread.

The compile switch is set here as well as by braggcheck's pytest plugin, so the suite checks
the eager code even where the plugin is not installed. The images are 24x24 pixels: on them
torch's intra-op threads cost more than they save (20x slower on a loaded 2-core machine), so
each test runs on one thread and restores the setting afterwards.
"""

from __future__ import annotations

import os

import pytest
import torch

from braggcheck.sim.compilation import DISABLE_VARIABLES

os.environ[DISABLE_VARIABLES[0]] = "1"


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
