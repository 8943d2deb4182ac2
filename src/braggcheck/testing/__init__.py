"""braggcheck.testing."""
