"""braggcheck.cli.main."""
