"""braggcheck.nanobragg."""
