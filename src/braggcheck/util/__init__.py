"""braggcheck.util."""
