"""Hypothesis strategy constructors that build each distinct strategy once.

A strategy validates itself on its first draw; composites that build the same ``one_of`` or
``floats`` anew in every draw pay that validation each time (it cost more than the draws). The
arguments must be hashable (tuples, not lists).
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

booleans = lru_cache(maxsize=None)(st.booleans)
builds = lru_cache(maxsize=None)(st.builds)
floats = lru_cache(maxsize=None)(st.floats)
integers = lru_cache(maxsize=None)(st.integers)
just = lru_cache(maxsize=None)(st.just)
one_of = lru_cache(maxsize=None)(st.one_of)
sampled_from = lru_cache(maxsize=None)(st.sampled_from)
tuples = lru_cache(maxsize=None)(st.tuples)
