"""The differential oracle's strategies reach every region of ORACLE_REGIONS: a strategy that
stops drawing a feature would silently take it out of the comparison with the reference."""

from __future__ import annotations

import pytest

from braggcheck.testing.nanobragg.oracle.coverage import ORACLE_REGIONS, unreached_oracle_regions
from braggcheck.testing.nanobragg.oracle.strategies import oracle_configs
from braggcheck.testing.nanobragg.strategies.cases import derandomized_sample

SAMPLE = 200
"""Configurations drawn (about 10 s); the rarest region is reached ~3 times in them."""


@pytest.fixture(scope="module")
def sample():
    return derandomized_sample(oracle_configs(), SAMPLE)


def test_the_oracle_draws_every_region(sample):
    missing = unreached_oracle_regions(sample)
    assert not missing, f"oracle regions reached by none of {SAMPLE} drawn configurations: " \
                        f"{missing}"


def test_an_unreached_region_is_named(sample):
    assert unreached_oracle_regions(sample, (*ORACLE_REGIONS, "new region")) == ["new region"]
