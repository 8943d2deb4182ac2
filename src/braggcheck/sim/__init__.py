"""braggcheck.sim."""
