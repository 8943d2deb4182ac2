"""``python -m braggcheck``: the same entry point as the ``braggcheck`` console script."""

from braggcheck.cli.main import main

raise SystemExit(main())
